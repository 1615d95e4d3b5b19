"""Projects, their participating departments, and the team directory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import available_timezones

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server import clock
from server.audit.service import record, snapshot
from server.auth import Action, Actor, authorize
from server.db import id_list, with_related
from server.domain_events import ProjectDepartmentsChanged, announce
from server.errors import Invalid, NotFound, stale
from server.org.models import Department, User
from server.projects.models import (
    Project,
    ProjectDepartment,
    ProjectMember,
    ProjectStatus,
    Role,
)
from server.projects.participation import (
    MEMBER_FIELDS,
    add_participation,
    liaison_slot,
    role_slot,
    welcome_member,
)
from server.projects.statements import (
    PARTICIPATING_DEPARTMENTS,
    PROJECT_BY_CODE_WITH_ROLES,
    PROJECT_OF_TASK_WITH_ROLES,
    PROJECT_WITH_ROLES,
    active_members,
)
from server.validation import Checks

PROJECT_FIELDS = [
    "code",
    "name",
    "background",
    "goals",
    "scope",
    "success_criteria",
    "status",
    "initiating_department_id",
    "start_date",
    "time_zone",
    "late_threshold_days",
    "status_date",
    "retained_logic",
    "deadline",
    "critical_threshold_days",
]
# Roles a liaison may hand out within their own department.
LIAISON_ASSIGNABLE = frozenset({Role.MEMBER, Role.VIEWER})


def team_action(role: Role) -> Action:
    """Members and viewers are a department's own business; every other role is the PM's."""
    return Action.ADD_DEPARTMENT_MEMBERS if role in LIAISON_ASSIGNABLE else Action.MANAGE_TEAM


# --- reading -------------------------------------------------------------------------------


def visible_projects(actor: Actor) -> QuerySet[Project]:
    """Every project lookup starts here: members see their projects, admins all, and an API
    token no more than the projects it was limited to."""
    query = Project.all()
    if actor.project_ids is not None:
        query = query.filter(id__in=sorted(actor.project_ids))
    if actor.is_admin:
        return query
    return query.filter(members__user_id=actor.user_id, members__left_at__isnull=True).distinct()


async def visible_project_of_task(actor: Actor, *, task_id: int) -> Project:
    """The project of a task, if the actor may see it: `visible_projects`' rule (a live
    member, or an admin) in one fixed statement, for the phones' busiest path. The actor's
    roles there come with it, so authorizing afterwards costs no query."""
    rows = await PROJECT_OF_TASK_WITH_ROLES.fetch(actor.user_id or 0, task_id)
    return _visible_with_roles(actor, rows, NotFound("No such task.", field="taskId"))


async def list_projects(
    actor: Actor,
    *,
    status: ProjectStatus | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[Project], int]:
    query = visible_projects(actor)
    if status is not None:
        query = query.filter(status=status)
    total = await query.count()
    projects = await query.order_by("code").offset(offset).limit(limit)
    return list(projects), total


async def get_project(
    actor: Actor, *, project_id: int | None = None, code: str | None = None
) -> Project:
    """A project the actor may see; an unknown one and someone else's look the same.
    `visible_projects`' rule (a live member, or an admin, within a token's projects) in one
    fixed statement: every project page and API call starts here. The actor's roles there
    come with it, so authorizing afterwards costs no query."""
    rows: list[Project] = []
    if project_id is not None:
        if str(project_id).isdigit():
            rows = await PROJECT_WITH_ROLES.fetch(actor.user_id or 0, int(project_id))
    elif code is not None:
        rows = await PROJECT_BY_CODE_WITH_ROLES.fetch(actor.user_id or 0, code.strip().upper())
    return _visible_with_roles(actor, rows, NotFound("No such project.", field="projectId"))


def _visible_with_roles(actor: Actor, rows: list[Project], refusal: NotFound) -> Project:
    roles = [
        (Role(row.member_role), int(row.member_department_id))  # type: ignore[attr-defined]
        for row in rows
        if row.member_role is not None  # type: ignore[attr-defined]
    ]
    if not rows or not (roles or actor.is_admin) or not actor.reaches(rows[0].id):
        raise refusal
    actor.know_roles(rows[0].id, roles)
    return rows[0]


async def _lock_project(actor: Actor, project_id: int) -> Project:
    """The project, visible to the actor, locked for this transaction on PostgreSQL.

    Without the row lock two concurrent writers could both pass the version check.
    (SQLite's BEGIN IMMEDIATE already serializes writers.)
    """
    visible = await get_project(actor, project_id=project_id)
    return await Project.filter(id=visible.id).select_for_update().get()


async def visible_by_ids(actor: Actor, project_ids: Sequence[int]) -> dict[int, Project]:
    """Projects by id, only those the actor may see (one query)."""
    rows = await visible_projects(actor).filter(id__in=list(project_ids))
    return {p.id: p for p in rows}


async def time_zones(project_ids: Sequence[int]) -> dict[int, str]:
    rows = await Project.filter(id__in=list(project_ids)).values("id", "time_zone")
    return {int(row["id"]): str(row["time_zone"]) for row in rows}


async def list_participating_departments(project_ids: Sequence[int]) -> dict[int, list[Department]]:
    """Departments per project, in one fixed statement, for pages and DataLoaders."""
    rows = await PARTICIPATING_DEPARTMENTS.fetch(id_list(project_ids))
    result: dict[int, list[Department]] = {pid: [] for pid in project_ids}
    for row in rows:
        result[row.participating_project_id].append(row)  # type: ignore[attr-defined]
    for departments in result.values():
        departments.sort(key=lambda d: d.name)
    return result


async def list_members(project_ids: Sequence[int]) -> dict[int, list[ProjectMember]]:
    """Active members per project with user and department, in one fixed statement: every
    project page, task form and members loader lists them."""
    statement = active_members()
    rows = await statement.rows(id_list(project_ids))
    result: dict[int, list[ProjectMember]] = {pid: [] for pid in project_ids}
    for row in rows:
        member = statement.member(row)
        result[member.project_id].append(member)
    return result


async def list_former_members(project: Project) -> list[ProjectMember]:
    query = ProjectMember.filter(project_id=project.id, left_at__isnull=False)
    return await with_related(query, "user", "department").order_by("-left_at")


# --- writing projects ----------------------------------------------------------------------


@dataclass
class ProjectInput:
    code: str | None = None
    name: str | None = None
    initiating_department_id: int | None = None
    department_ids: list[int] | None = None
    start_date: date | str | None = None
    background: str | None = None
    goals: str | None = None
    scope: str | None = None
    success_criteria: str | None = None
    late_threshold_days: int | None = None
    time_zone: str | None = None
    # "" clears the status date (back to today) or the deadline.
    status_date: date | str | None = None
    retained_logic: bool | None = None
    deadline: date | str | None = None
    critical_threshold_days: int | None = None


def _checked_fields(data: ProjectInput, *, creating: bool) -> dict[str, Any]:
    """Validate what was given (all required fields when creating) and return the changes."""
    checks = Checks()
    changes: dict[str, Any] = {}
    if creating or data.code is not None:
        changes["code"] = checks.code("code", data.code)
    if creating or data.name is not None:
        changes["name"] = checks.text("name", data.name)
    if creating or data.start_date is not None:
        changes["start_date"] = checks.day("startDate", data.start_date)
    if creating and data.initiating_department_id is None:
        checks.fail("initiatingDepartmentId", "This field is required.")
    if data.initiating_department_id is not None:
        changes["initiating_department_id"] = data.initiating_department_id
    for name, field_name in (
        ("background", "background"),
        ("goals", "goals"),
        ("scope", "scope"),
        ("success_criteria", "successCriteria"),
    ):
        value = getattr(data, name)
        if value is not None:
            changes[name] = checks.long_text(field_name, value)
    if data.late_threshold_days is not None:
        changes["late_threshold_days"] = checks.whole_number(
            "lateThresholdDays", data.late_threshold_days, low=1, high=60
        )
    if data.time_zone is not None:
        if data.time_zone not in available_timezones():
            checks.fail("timeZone", "Unknown time zone.")
        changes["time_zone"] = data.time_zone
    _checked_schedule_settings(checks, data, changes)
    checks.done()
    return changes


def _checked_schedule_settings(checks: Checks, data: ProjectInput, changes: dict[str, Any]) -> None:
    """How the plan is scheduled with progress (see planning/cpm.py)."""
    if data.status_date is not None:
        changes["status_date"] = checks.day("statusDate", data.status_date, required=False)
    if data.deadline is not None:
        changes["deadline"] = checks.day("deadline", data.deadline, required=False)
    if data.retained_logic is not None:
        changes["retained_logic"] = bool(data.retained_logic)
    if data.critical_threshold_days is not None:
        changes["critical_threshold_days"] = checks.whole_number(
            "criticalThresholdDays", data.critical_threshold_days, low=0, high=60
        )


async def _check_departments(department_ids: Sequence[int], field_name: str) -> None:
    found = await Department.filter(id__in=list(department_ids)).count()
    if found != len(set(department_ids)):
        raise NotFound("No such department.", field=field_name)


async def create_project(actor: Actor, data: ProjectInput) -> Project:
    """Create a project; the creator becomes its manager, listed under their own department
    when it takes part (else the initiating one)."""
    await authorize(actor, Action.CREATE_PROJECT)
    changes = _checked_fields(data, creating=True)
    department_ids = list(dict.fromkeys(data.department_ids or []))
    initiating_id = changes["initiating_department_id"]
    if initiating_id not in department_ids:
        department_ids.insert(0, initiating_id)
    async with in_transaction():
        await _check_departments([initiating_id], "initiatingDepartmentId")
        await _check_departments(department_ids, "departmentIds")
        if await Project.filter(code=changes["code"]).exists():
            raise Invalid("The project code %(code)s is taken.", field="code", code=changes["code"])
        project = await Project.create(**changes)
        for department_id in department_ids:
            await add_participation(actor, project, department_id)
        if actor.user is not None:
            # The PM is listed under their own department when it takes part; joining it to
            # the project just for that would add a head to every sign-off.
            own = actor.user.department_id
            await ProjectMember.create(
                project=project,
                user=actor.user,
                department_id=own if own in department_ids else initiating_id,
                role=Role.MANAGER,
                position=actor.user.position,
                role_slot=role_slot(project.id, actor.user.id, Role.MANAGER),
            )
            actor.forget_roles(project.id)
        await record(
            actor,
            action="project.create",
            object_type="project",
            object_id=project.id,
            project_id=project.id,
            summary=project.name,
            after=snapshot(project, PROJECT_FIELDS) | {"department_ids": department_ids},
        )
    return project


async def update_project(
    actor: Actor, *, project_id: int, version: int, data: ProjectInput
) -> Project:
    changes = _checked_fields(data, creating=False)
    async with in_transaction():
        project = await _lock_project(actor, project_id)
        await authorize(actor, Action.EDIT_PROJECT, project)
        if project.version != version:
            raise stale(project.version)
        if "initiating_department_id" in changes:
            await _check_departments(
                [changes["initiating_department_id"]], "initiatingDepartmentId"
            )
        new_code = changes.get("code")
        if new_code and new_code != project.code and await Project.filter(code=new_code).exists():
            raise Invalid("The project code %(code)s is taken.", field="code", code=new_code)
        before = snapshot(project, PROJECT_FIELDS)
        department_change = await sync_departments(actor, project, data, changes)
        for name, value in changes.items():
            setattr(project, name, value)
        project.version += 1
        await project.save()
        if department_change[0] != department_change[1]:
            await announce(ProjectDepartmentsChanged(project_id=project.id))
        await record(
            actor,
            action="project.update",
            object_type="project",
            object_id=project.id,
            project_id=project.id,
            summary=project.name,
            before=before | department_change[0],
            after=snapshot(project, PROJECT_FIELDS) | department_change[1],
        )
    return project


async def sync_departments(
    actor: Actor, project: Project, data: ProjectInput, changes: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Make the participating departments match the input; a department with people stays."""
    if data.department_ids is None and "initiating_department_id" not in changes:
        return {}, {}
    rows = await ProjectDepartment.filter(project_id=project.id).values("department_id")
    current: set[int] = {int(row["department_id"]) for row in rows}
    wanted = set(data.department_ids) if data.department_ids is not None else set(current)
    initiating = changes.get("initiating_department_id", project.initiating_department_id)
    wanted.add(int(initiating or 0))
    await _check_departments(list(wanted), "departmentIds")
    removed = current - wanted
    if removed:
        staffed = await ProjectMember.filter(
            project_id=project.id, department_id__in=list(removed), left_at__isnull=True
        ).exists()
        if staffed:
            raise Invalid(
                "A department that still has team members cannot leave the project.",
                field="departmentIds",
            )
        await ProjectDepartment.filter(
            project_id=project.id, department_id__in=list(removed)
        ).delete()
    for department_id in sorted(wanted - current):
        await add_participation(actor, project, department_id)
    return {"department_ids": sorted(current)}, {"department_ids": sorted(wanted)}


async def archive_project(actor: Actor, *, project_id: int, version: int) -> Project:
    """Archiving makes the project read-only for everyone."""
    async with in_transaction():
        project = await _lock_project(actor, project_id)
        await authorize(actor, Action.ARCHIVE_PROJECT, project)
        if project.version != version:
            raise stale(project.version)
        before = snapshot(project, ["status"])
        project.status = ProjectStatus.ARCHIVED
        project.version += 1
        await project.save()
        await record(
            actor,
            action="project.archive",
            object_type="project",
            object_id=project.id,
            project_id=project.id,
            summary=project.name,
            before=before,
            after=snapshot(project, ["status"]),
        )
    return project


# --- the team directory --------------------------------------------------------------------


@dataclass
class MemberInput:
    project_id: int
    user_id: int
    role: Role | str
    department_id: int
    position: str | None = None
    responsibilities: str | None = None
    time_commitment: str | None = None


async def add_project_member(actor: Actor, data: MemberInput) -> ProjectMember:
    checks = Checks()
    try:
        role = Role(data.role)
    except ValueError:
        checks.fail("role", "Unknown role.")
        role = Role.MEMBER
    position = checks.text("position", data.position, required=False, max_length=100)
    responsibilities = checks.long_text("responsibilities", data.responsibilities)
    time_commitment = checks.text(
        "timeCommitment", data.time_commitment, required=False, max_length=100
    )
    checks.done()
    async with in_transaction():
        project = await get_project(actor, project_id=data.project_id)
        await authorize(actor, team_action(role), project, department_id=data.department_id)
        user = await User.get_or_none(id=data.user_id, is_active=True)
        if user is None:
            raise NotFound("No such user.", field="userId")
        if not await ProjectDepartment.filter(
            project_id=project.id, department_id=data.department_id
        ).exists():
            raise Invalid(
                "This department does not take part in the project. Add it to the project first.",
                field="departmentId",
            )
        await _refuse_duplicates(project, user, role, data.department_id)
        member = ProjectMember(
            project=project,
            user=user,
            department_id=data.department_id,
            role=role,
            position=position or user.position,
            responsibilities=responsibilities,
            time_commitment=time_commitment,
            role_slot=role_slot(project.id, user.id, role),
            liaison_slot=liaison_slot(project.id, data.department_id)
            if role == Role.LIAISON
            else None,
        )
        try:
            await member.save()
        except IntegrityError as error:
            # Two people adding at once: the database's unique slot has the last word.
            raise Invalid("This role is already taken.", field="role") from error
        await welcome_member(actor, project, member, user)
        actor.forget_roles(project.id)
    return member


async def _refuse_duplicates(project: Project, user: User, role: Role, department_id: int) -> None:
    if await ProjectMember.filter(role_slot=role_slot(project.id, user.id, role)).exists():
        raise Invalid(
            "%(name)s already has this role in the project.", field="role", name=user.name
        )
    if role == Role.LIAISON:
        existing = await with_related(
            ProjectMember.filter(liaison_slot=liaison_slot(project.id, department_id)),
            "user",
            "department",
        ).first()
        if existing is not None:
            raise Invalid(
                "%(department)s already has a liaison (%(name)s). "
                "A department has exactly one liaison per project; remove or replace them first.",
                field="role",
                department=existing.department.name,
                name=existing.user.name,
            )


async def remove_project_member(actor: Actor, *, member_id: int) -> ProjectMember:
    """End a membership; the row stays in the team's history."""
    async with in_transaction():
        member = await with_related(
            ProjectMember.filter(id=member_id, left_at__isnull=True), "user"
        ).first()
        if member is None:
            raise NotFound("No such team member.", field="memberId")
        project = await get_project(actor, project_id=member.project_id)
        await authorize(
            actor,
            team_action(Role(member.role)),
            project,
            department_id=member.department_id,
        )
        if member.role == Role.MANAGER:
            managers = await ProjectMember.filter(
                project_id=project.id, role=Role.MANAGER, left_at__isnull=True
            ).count()
            if managers <= 1:
                raise Invalid(
                    "A project needs a project manager. Add the new one before removing this one.",
                    field="memberId",
                )
        before = snapshot(member, MEMBER_FIELDS)
        member.left_at = clock.now()
        member.role_slot = None
        member.liaison_slot = None
        member.version += 1
        await member.save()
        await record(
            actor,
            action="member.remove",
            object_type="project_member",
            object_id=member.id,
            project_id=project.id,
            summary=f"{member.user.name} {member.role.value}",
            before=before,
            after={"left_at": member.left_at.isoformat()},
        )
        actor.forget_roles(project.id)
    return member


async def replace_liaison(
    actor: Actor, *, project_id: int, department_id: int, user_id: int
) -> ProjectMember:
    """Hand a department's liaison role to someone else in one step; the old one is history."""
    async with in_transaction():
        current = await ProjectMember.get_or_none(
            liaison_slot=liaison_slot(project_id, department_id)
        )
        if current is not None:
            await remove_project_member(actor, member_id=current.id)
        return await add_project_member(
            actor,
            MemberInput(
                project_id=project_id,
                user_id=user_id,
                role=Role.LIAISON,
                department_id=department_id,
            ),
        )


async def get_member(actor: Actor, *, member_id: int) -> ProjectMember:
    member = await with_related(ProjectMember.filter(id=member_id), "user", "department").first()
    if member is None:
        raise NotFound("No such team member.", field="memberId")
    await get_project(actor, project_id=member.project_id)
    return member
