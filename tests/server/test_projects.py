from __future__ import annotations

from datetime import date

import pytest

from server.audit.models import AuditEntry
from server.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound, each_error
from server.notices.models import Notice
from server.org import service as org
from server.projects import service as projects
from server.projects.models import Project, ProjectMember, ProjectStatus, Role
from tests import factories as f


async def test_creator_becomes_manager_and_initiating_department_takes_part(db):
    pm = await f.user()
    rnd = await f.department("研发部")
    project = await f.project(pm, code="x1", departments=[rnd])
    assert project.code == "X1"
    members = (await projects.list_members([project.id]))[project.id]
    assert [(m.user_id, m.role) for m in members] == [(pm.id, Role.MANAGER)]
    departments = (await projects.list_participating_departments([project.id]))[project.id]
    assert {d.id for d in departments} == {pm.department_id, rnd.id}
    entry = await AuditEntry.get(action="project.create")
    assert entry.actor_id == pm.id and entry.project_id == project.id
    assert entry.after["code"] == "X1"


async def test_bad_project_input_names_every_wrong_field_and_creates_nothing(db):
    pm = await f.user()
    with pytest.raises(InvalidFields) as refused:
        await projects.create_project(
            f.actor(pm),
            projects.ProjectInput(
                code="has space",
                name="  ",
                initiating_department_id=pm.department_id,
                start_date="2026-13-40",
                goals="x" * 10_000_000,
            ),
        )
    fields = {error.field for error in each_error(refused.value)}
    assert fields == {"code", "name", "startDate", "goals"}
    assert await Project.all().count() == 0


async def test_taken_code_and_unknown_department_are_refused(db):
    pm = await f.user()
    await f.project(pm, code="X1")
    with pytest.raises(Invalid) as taken:
        await f.project(pm, code="x1")
    assert taken.value.field == "code"
    with pytest.raises(NotFound) as unknown:
        await projects.create_project(
            f.actor(pm),
            projects.ProjectInput(
                code="X2",
                name="新项目",
                initiating_department_id=pm.department_id,
                department_ids=[999_999],
                start_date=date(2026, 11, 2),
            ),
        )
    assert unknown.value.field == "departmentIds"
    assert await Project.filter(code="X2").count() == 0


async def test_outsiders_cannot_tell_a_project_exists_and_admins_see_all(db):
    pm = await f.user()
    outsider = await f.user()
    admin = await f.user(is_admin=True)
    project = await f.project(pm)
    with pytest.raises(NotFound):
        await projects.get_project(f.actor(outsider), project_id=project.id)
    with pytest.raises(NotFound):
        await projects.get_project(f.actor(outsider), project_id=987_654)
    assert (await projects.list_projects(f.actor(outsider)))[1] == 0
    assert (await projects.get_project(f.actor(admin), code=project.code)).id == project.id


async def test_stale_version_is_a_conflict_and_changes_nothing(db):
    pm = await f.user()
    project = await f.project(pm, name="旧名")
    update = projects.ProjectInput(name="新名")
    await projects.update_project(f.actor(pm), project_id=project.id, version=1, data=update)
    with pytest.raises(Conflict):
        await projects.update_project(
            f.actor(pm), project_id=project.id, version=1, data=projects.ProjectInput(name="第三")
        )
    fresh = await Project.get(id=project.id)
    assert (fresh.name, fresh.version) == ("新名", 2)
    entry = await AuditEntry.get(action="project.update")
    assert (entry.before["name"], entry.after["name"]) == ("旧名", "新名")


async def test_only_the_manager_edits_and_an_archived_project_is_read_only(db):
    pm = await f.user()
    project = await f.project(pm)
    member = await f.user(dept=await projects.Department.get(id=pm.department_id))
    await f.member(pm, project, member, Role.MEMBER)
    with pytest.raises(Forbidden):
        await projects.update_project(
            f.actor(member), project_id=project.id, version=1, data=projects.ProjectInput(name="x")
        )
    archived = await projects.archive_project(f.actor(pm), project_id=project.id, version=1)
    assert archived.status == ProjectStatus.ARCHIVED
    with pytest.raises(Forbidden) as refused:
        await projects.update_project(
            f.actor(pm), project_id=project.id, version=2, data=projects.ProjectInput(name="y")
        )
    assert "archived" in refused.value.message
    assert (await projects.get_project(f.actor(member), project_id=project.id)).name == "新品上市"


async def test_one_liaison_per_department_with_a_clear_message(db):
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd])
    first = await f.user(name="孙浩", dept=rnd)
    second = await f.user(name="李雷", dept=rnd)
    await f.member(pm, project, first, Role.LIAISON)
    with pytest.raises(Invalid) as refused:
        await f.member(pm, project, second, Role.LIAISON)
    assert refused.value.field == "role"
    english = refused.value.translated("en")
    assert "研发部" in english and "孙浩" in english
    liaisons = await ProjectMember.filter(project_id=project.id, role=Role.LIAISON).count()
    assert liaisons == 1


async def test_several_roles_per_person_but_never_the_same_role_twice(db):
    pm = await f.user()
    project = await f.project(pm)
    await f.member(pm, project, pm, Role.LIAISON)
    with pytest.raises(Invalid) as refused:
        await f.member(pm, project, pm, Role.LIAISON)
    assert refused.value.field == "role"
    roles = await ProjectMember.filter(project_id=project.id, user_id=pm.id).values_list(
        "role", flat=True
    )
    assert sorted(roles) == [Role.LIAISON, Role.MANAGER]


async def test_a_department_must_take_part_before_it_gets_members(db):
    pm = await f.user()
    project = await f.project(pm)
    elsewhere = await f.user()
    with pytest.raises(Invalid) as refused:
        await f.member(pm, project, elsewhere, Role.MEMBER)
    assert refused.value.field == "departmentId"


async def test_a_liaison_adds_members_of_their_own_department_only(db):
    rnd = await f.department("研发部")
    mkt = await f.department("市场部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd, mkt])
    liaison = await f.user(dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON)
    engineer = await f.user(dept=rnd)
    marketer = await f.user(dept=mkt)
    await f.member(liaison, project, engineer, Role.MEMBER)
    with pytest.raises(Forbidden):
        await f.member(liaison, project, marketer, Role.MEMBER)
    with pytest.raises(Forbidden):
        await f.member(liaison, project, await f.user(dept=rnd), Role.DEPARTMENT_HEAD)
    assert await ProjectMember.filter(project_id=project.id).count() == 3


async def test_leaving_keeps_history_frees_the_slot_and_keeps_one_manager(db):
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd])
    old = await f.member(pm, project, await f.user(dept=rnd), Role.LIAISON)
    await projects.remove_project_member(f.actor(pm), member_id=old.id)
    new = await f.member(pm, project, await f.user(dept=rnd), Role.LIAISON)
    former = await projects.list_former_members(project)
    assert [m.id for m in former] == [old.id] and former[0].left_at is not None
    assert new.id != old.id
    manager = await ProjectMember.get(project_id=project.id, role=Role.MANAGER)
    with pytest.raises(Invalid):
        await projects.remove_project_member(f.actor(pm), member_id=manager.id)
    assert await ProjectMember.get(id=manager.id, left_at__isnull=True)


async def test_a_new_member_is_told_once_through_the_outbox(db):
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd], name="智能保温杯")
    newcomer = await f.user(dept=rnd, email="newcomer@example.com", language="en")
    member = await f.member(pm, project, newcomer, Role.MEMBER)
    notice = await Notice.get(dedup_key=f"member-added:{member.id}")
    assert notice.address == "newcomer@example.com"
    assert "智能保温杯" in notice.subject
    assert f"/projects/{project.code}" in notice.body


async def test_replacing_a_liaison_is_one_step_and_all_or_nothing(db):
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd])
    old = await f.member(pm, project, await f.user(dept=rnd), Role.LIAISON)
    successor = await f.user(dept=rnd)
    new = await projects.replace_liaison(
        f.actor(pm), project_id=project.id, department_id=rnd.id, user_id=successor.id
    )
    assert new.user_id == successor.id
    assert (await ProjectMember.get(id=old.id)).left_at is not None
    with pytest.raises(NotFound):
        await projects.replace_liaison(
            f.actor(pm), project_id=project.id, department_id=rnd.id, user_id=999_999
        )
    assert (await ProjectMember.get(id=new.id)).left_at is None


async def test_a_joining_department_brings_its_head_from_the_org_chart(db):
    rnd = await f.department("研发部")
    ops = await f.department("生产部")
    pm = await f.user(name="王芳")
    zhang = await org.create_user(
        f.system(),
        name="张伟",
        email="zhangwei@example.com",
        department_id=rnd.id,
        heads_department=True,
    )
    liu = await org.create_user(
        f.system(),
        name="刘洋",
        email="liuyang@example.com",
        department_id=ops.id,
        heads_department=True,
    )
    project = await f.project(pm, departments=[rnd], code="HEADS")
    heads = await ProjectMember.filter(project_id=project.id, role=Role.DEPARTMENT_HEAD)
    assert [(h.user_id, h.department_id) for h in heads] == [(zhang.id, rnd.id)]
    assert await Notice.filter(recipient_id=zhang.id, dedup_key__startswith="member-added").exists()

    project = await projects.update_project(
        f.actor(pm),
        project_id=project.id,
        version=project.version,
        data=projects.ProjectInput(department_ids=[rnd.id, ops.id]),
    )
    heads = await ProjectMember.filter(project_id=project.id, role=Role.DEPARTMENT_HEAD)
    assert sorted(h.user_id for h in heads) == sorted([zhang.id, liu.id])
    assert await AuditEntry.filter(action="member.add", project_id=project.id).count() == 2
    # The PM may still name another head by hand: adding the seated one again is refused.
    with pytest.raises(Invalid):
        await f.member(pm, project, zhang, Role.DEPARTMENT_HEAD, rnd)


async def test_the_creator_is_listed_under_their_own_department_when_it_takes_part(db):
    market = await f.department("市场部")
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳", dept=rnd)
    project = await projects.create_project(
        f.actor(pm),
        projects.ProjectInput(
            code="OWN",
            name="新品",
            initiating_department_id=market.id,
            department_ids=[rnd.id],
            start_date=date(2026, 11, 2),
        ),
    )
    manager = await ProjectMember.get(project_id=project.id, role=Role.MANAGER)
    assert manager.department_id == rnd.id
    elsewhere = await projects.create_project(
        f.actor(pm),
        projects.ProjectInput(
            code="ELSE",
            name="别的",
            initiating_department_id=market.id,
            start_date=date(2026, 11, 2),
        ),
    )
    manager = await ProjectMember.get(project_id=elsewhere.id, role=Role.MANAGER)
    assert manager.department_id == market.id  # 研发部 does not take part: not added for it
