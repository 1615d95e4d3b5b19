"""The roles table of PRODUCT.md as a matrix: every action × every role, allowed and refused.

The expectation below is transcribed from PRODUCT.md's table, not read from `server/auth.py`:
each action lists, per role, "P" (anywhere in the project), "D" (only for the member's own
department's objects) or "-" (never). Roles in column order: MANAGER, CO_CHAIR, LIAISON,
DEPARTMENT_HEAD, MANAGEMENT, MEMBER, VIEWER.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from server.auth import Action, Actor, Relation, authorize, may
from server.errors import Forbidden, NotFound
from server.org.models import Department, User
from server.projects import service as projects
from server.projects.models import Project, Role
from tests import factories as f

COLUMNS = (
    Role.MANAGER,
    Role.CO_CHAIR,
    Role.LIAISON,
    Role.DEPARTMENT_HEAD,
    Role.MANAGEMENT,
    Role.MEMBER,
    Role.VIEWER,
)
EXPECTED: dict[Action, str] = {
    Action.VIEW_PROJECT: "PPPPPPP",
    Action.EDIT_PROJECT: "P------",
    Action.ARCHIVE_PROJECT: "P------",
    Action.MANAGE_TEAM: "P------",
    Action.ADD_DEPARTMENT_MEMBERS: "P-D----",
    Action.EDIT_PLAN: "P-D----",
    Action.APPROVE_PLAN: "P------",
    Action.REPORT_PROGRESS: "P-D----",
    Action.EDIT_DOCUMENTS: "P--D---",
    Action.SIGN_DOCUMENTS: "---D---",
    Action.NAME_SIGNING_DELEGATE: "---D---",
    Action.RAISE_PROBLEM: "PPPP-P-",
    Action.MANAGE_PROBLEMS: "PPD----",
    # Issue 20: anyone on the team but viewers raises a risk; the PM, the liaison of the
    # risk's department (and its owner, a relation) edit it.
    Action.RAISE_RISK: "PPPP-P-",
    Action.EDIT_RISK: "P-D----",
    # Issue 19, the table's row "requirements, resource requests": liaisons file for their
    # own department, the PM reviews, heads approve their own department's, management gaps.
    Action.FILE_REQUIREMENTS: "P-D----",
    Action.REVIEW_REQUIREMENTS: "P------",
    Action.COMMIT_RESOURCES: "---D---",
    Action.RESOLVE_GAPS: "P------",
    Action.DECIDE_GAPS: "----P--",
    Action.RUN_MEETINGS: "PP-----",
    Action.RECORD_IN_MEETING: "PP-----",
    Action.SUBMIT_REPORT: "PPD----",
    # Comments and attachments: everyone but viewers.
    Action.COMMENT: "PPPPPP-",
    Action.ACCEPT_DELIVERABLES: "--DD---",
    Action.FILE_RETROSPECTIVE: "P-D----",
    # Issue 21: the PM asks for a change, a liaison or head for their own department; the
    # heads approve as they sign (SIGN_DOCUMENTS), management approves a large change.
    Action.REQUEST_CHANGES: "P-DD---",
    Action.APPROVE_MAJOR_CHANGES: "----P--",
}
PROJECT_ACTIONS = list(EXPECTED)
PERSONAL = {Action.SIGN_DOCUMENTS, Action.NAME_SIGNING_DELEGATE}


@dataclass
class Matrix:
    project: Project
    own: Department
    other: Department
    holders: dict[Role, User]
    outsider: User
    admin: User


async def matrix() -> Matrix:
    own, other = await f.department("研发部"), await f.department("市场部")
    holders = {Role.MANAGER: await f.user(dept=own)}
    project = await f.project(holders[Role.MANAGER], departments=[own, other])
    for role in COLUMNS[1:]:
        holders[role] = await f.user(dept=own)
        await f.member(holders[Role.MANAGER], project, holders[role], role, own)
    return Matrix(project, own, other, holders, await f.user(dept=own), await f.user(is_admin=True))


def test_the_table_covers_every_action() -> None:
    assert set(EXPECTED) | {Action.CREATE_PROJECT, Action.MANAGE_TOKENS, Action.ADMINISTER} == set(
        Action
    )


async def test_every_role_may_do_what_the_roles_table_says_and_nothing_else(db) -> None:
    m = await matrix()
    refused = []
    for action in PROJECT_ACTIONS:
        for column, role in enumerate(COLUMNS):
            expected = EXPECTED[action][column]
            actor = f.actor(m.holders[role])
            own = await may(actor, action, m.project, department_id=m.own.id)
            other = await may(actor, action, m.project, department_id=m.other.id)
            got = "P" if own and other else "D" if own else "-" if not other else "?"
            if got != expected:
                refused.append(f"{action} {role}: expected {expected}, got {got}")
    assert refused == []


async def test_outsiders_are_refused_and_admins_allowed_except_for_signatures(db) -> None:
    m = await matrix()
    for action in PROJECT_ACTIONS:
        assert not await may(f.actor(m.outsider), action, m.project, department_id=m.own.id)
        admin_may = await may(f.actor(m.admin), action, m.project, department_id=m.own.id)
        assert admin_may is (action not in PERSONAL), action
    assert await may(f.actor(m.outsider), Action.CREATE_PROJECT)
    assert not await may(f.actor(m.outsider), Action.ADMINISTER)
    assert await may(f.actor(m.admin), Action.ADMINISTER)


async def test_owners_report_their_own_tasks_and_delegates_sign(db) -> None:
    m = await matrix()
    member = f.actor(m.holders[Role.MEMBER])

    async def member_may(action: Action, relation: Relation) -> bool:
        return await may(member, action, m.project, department_id=m.other.id, relations=(relation,))

    assert await member_may(Action.REPORT_PROGRESS, Relation.TASK_OWNER)
    assert not await member_may(Action.SIGN_DOCUMENTS, Relation.TASK_OWNER)
    assert await member_may(Action.SIGN_DOCUMENTS, Relation.SIGNING_DELEGATE)
    assert not await member_may(Action.EDIT_PLAN, Relation.SIGNING_DELEGATE)
    assert await member_may(Action.EDIT_RISK, Relation.RISK_OWNER)
    assert not await member_may(Action.EDIT_RISK, Relation.TASK_OWNER)
    assert not await may(member, Action.REPORT_PROGRESS, m.project, department_id=m.own.id)


async def test_an_archived_project_is_read_only_for_everyone(db) -> None:
    m = await matrix()
    pm = f.actor(m.holders[Role.MANAGER])
    await projects.archive_project(pm, project_id=m.project.id, version=m.project.version)
    archived = await projects.get_project(pm, project_id=m.project.id)
    for who in [*m.holders.values(), m.admin]:
        for action in PROJECT_ACTIONS:
            allowed = await may(f.actor(who), action, archived, department_id=m.own.id)
            assert allowed is (action is Action.VIEW_PROJECT), (who.name, action)


async def test_a_scoped_token_reads_only_its_projects(db) -> None:
    m = await matrix()
    pm_user = m.holders[Role.MANAGER]
    elsewhere = await f.project(pm_user)
    read_only = Actor.for_user(pm_user)
    read_only.project_ids, read_only.read_only = frozenset({m.project.id}), True
    for action in PROJECT_ACTIONS:
        allowed = await may(read_only, action, m.project, department_id=m.own.id)
        assert allowed is (action is Action.VIEW_PROJECT), action
    with pytest.raises(Forbidden, match="only read"):
        await authorize(read_only, Action.EDIT_PLAN, m.project)
    with pytest.raises(NotFound):
        await authorize(read_only, Action.VIEW_PROJECT, elsewhere)
    writer = Actor.for_user(pm_user)
    writer.project_ids = frozenset({m.project.id})
    await authorize(writer, Action.EDIT_PLAN, m.project)
    with pytest.raises(NotFound):
        await authorize(writer, Action.EDIT_PLAN, elsewhere)
    for action in (Action.CREATE_PROJECT, Action.ADMINISTER):
        with pytest.raises(Forbidden):
            await authorize(writer, action)
