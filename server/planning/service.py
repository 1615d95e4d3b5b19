"""The plan: work breakdown, dependencies, schedule by CPM, baselines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.transactions import in_transaction

from server.audit.service import record, snapshot
from server.auth import Action, Actor, authorize
from server.errors import Invalid, NotFound, stale
from server.planning import cpm
from server.planning.calendar import WorkingCalendar
from server.planning.models import (
    Dependency,
    DependencyType,
    Task,
)
from server.planning.queries import get_task
from server.planning.scheduling import company_calendar_days as company_calendar_days
from server.planning.scheduling import reschedule as reschedule
from server.planning.scheduling import working_calendar as working_calendar
from server.projects.models import Project, ProjectDepartment, ProjectMember
from server.projects.service import get_project
from server.validation import Checks

TASK_FIELDS = [
    "name",
    "parent_id",
    "owner_id",
    "department_id",
    "planned_start",
    "duration_days",
    "planned_finish",
    "is_milestone",
    "deliverable",
    "buffer_days",
    "wbs_code",
]
MAX_DURATION = 2000


# --- writing tasks -------------------------------------------------------------------------


@dataclass
class TaskInput:
    name: str | None = None
    planned_start: date | str | None = None
    duration_days: int | None = None
    planned_finish: date | str | None = None
    parent_id: int | None = None
    owner_id: int | None = None
    department_id: int | None = None
    deliverable: str | None = None
    buffer_days: int | None = None
    is_milestone: bool | None = None


async def lock_project(actor: Actor, project_id: int) -> Project:
    visible = await get_project(actor, project_id=project_id)
    return await Project.filter(id=visible.id).select_for_update().get()


def _checked(data: TaskInput, *, creating: bool) -> dict[str, Any]:
    checks = Checks()
    changes: dict[str, Any] = {}
    if creating or data.name is not None:
        changes["name"] = checks.text("name", data.name)
    if creating or data.planned_start is not None:
        changes["planned_start"] = checks.day("plannedStart", data.planned_start)
    if data.planned_finish is not None:
        changes["planned_finish"] = checks.day("plannedFinish", data.planned_finish)
    if data.duration_days is not None:
        changes["duration_days"] = checks.whole_number(
            "durationDays", data.duration_days, low=0, high=MAX_DURATION
        )
    elif creating and data.planned_finish is None:
        changes["duration_days"] = 0 if data.is_milestone else 1
    if data.buffer_days is not None:
        changes["buffer_days"] = checks.whole_number(
            "bufferDays", data.buffer_days, low=0, high=200
        )
    if data.deliverable is not None:
        changes["deliverable"] = checks.long_text("deliverable", data.deliverable)
    if data.is_milestone is not None:
        changes["is_milestone"] = data.is_milestone
    if changes.get("is_milestone"):
        changes["duration_days"] = 0
    start, finish = changes.get("planned_start"), changes.get("planned_finish")
    if isinstance(start, date) and isinstance(finish, date) and finish < start:
        checks.fail("plannedFinish", "The finish cannot be before the start.")
    checks.done()
    return changes


async def _check_people(project: Project, changes: dict[str, Any], data: TaskInput) -> None:
    if data.owner_id is not None:
        owner_is_member = await ProjectMember.filter(
            project_id=project.id, user_id=data.owner_id, left_at__isnull=True
        ).exists()
        if not owner_is_member:
            raise Invalid("The owner must be on the project team.", field="ownerId")
        changes["owner_id"] = data.owner_id
    if data.department_id is not None:
        takes_part = await ProjectDepartment.filter(
            project_id=project.id, department_id=data.department_id
        ).exists()
        if not takes_part:
            raise Invalid(
                "This department does not take part in the project. Add it to the project first.",
                field="departmentId",
            )
        changes["department_id"] = data.department_id


async def _check_parent(project: Project, task_id: int | None, parent_id: int) -> None:
    parent = await Task.get_or_none(id=parent_id, project_id=project.id)
    if parent is None:
        raise NotFound("No such task.", field="parentId")
    if parent.is_milestone:
        raise Invalid("A milestone cannot contain tasks.", field="parentId")
    if (
        await Dependency.filter(project_id=project.id).filter(predecessor_id=parent_id).exists()
        or await Dependency.filter(successor_id=parent_id).exists()
    ):
        raise Invalid(
            "This task has dependencies; link the tasks inside a phase, not the phase.",
            field="parentId",
        )
    ancestor: Task | None = parent
    while ancestor is not None:
        if task_id is not None and ancestor.id == task_id:
            raise Invalid("A task cannot be placed inside itself.", field="parentId")
        parent_id_of = ancestor.parent_id
        ancestor = await Task.get_or_none(id=parent_id_of) if parent_id_of else None


async def create_task(actor: Actor, *, project_id: int, data: TaskInput) -> Task:
    changes = _checked(data, creating=True)
    async with in_transaction():
        project = await lock_project(actor, project_id)
        await authorize(actor, Action.EDIT_PLAN, project, department_id=data.department_id)
        await _check_people(project, changes, data)
        if data.parent_id is not None:
            await _check_parent(project, None, data.parent_id)
            changes["parent_id"] = data.parent_id
        task = await _insert_task(actor, project, changes)
    return task


async def _insert_task(actor: Actor, project: Project, changes: dict[str, Any]) -> Task:
    """Write a checked task inside the caller's transaction: WBS code, audit, schedule."""
    calendar = await working_calendar(project.id)
    _fill_duration(changes, calendar)
    task = await Task.create(project=project, **changes)
    await reschedule(project, calendar=calendar, renumber=True)
    task.wbs_code = await _wbs_code(task.id)
    await record(
        actor,
        action="task.create",
        object_type="task",
        object_id=task.id,
        project_id=project.id,
        summary=task.name,
        after=snapshot(task, TASK_FIELDS),
    )
    return task


async def _wbs_code(task_id: int) -> str:
    codes = await Task.filter(id=task_id).values_list("wbs_code", flat=True)
    return str(codes[0])


async def add_follow_up_task(
    actor: Actor,
    *,
    project: Project,
    name: str,
    owner_id: int,
    department_id: int | None,
    start: date,
    finish: date,
    deliverable: str = "",
) -> Task:
    """A task agreed elsewhere (a meeting's action item), inside the caller's transaction.

    The caller has locked the project and checked who may agree it; the plan rules
    (working-day duration, WBS code, schedule) are the same as for any task.
    """
    changes: dict[str, Any] = {
        "name": name[:200],
        "owner_id": owner_id,
        "department_id": department_id,
        "planned_start": min(start, finish),
        "planned_finish": finish,
        "deliverable": deliverable,
    }
    return await _insert_task(actor, project, changes)


async def update_task(actor: Actor, *, task_id: int, version: int, data: TaskInput) -> Task:
    """Change a task's plan fields; the write checks the version, so a progress report in
    between is never overwritten, and the schedule is written back where it changed."""
    changes = _checked(data, creating=False)
    async with in_transaction():
        task = await Task.get_or_none(id=task_id)
        try:
            if task is None:
                raise NotFound("No such task.", field="taskId")
            project = await lock_project(actor, task.project_id)
        except NotFound:
            # Someone else's task and no task at all look the same.
            raise NotFound("No such task.", field="taskId") from None
        await authorize(actor, Action.EDIT_PLAN, project, department_id=task.department_id)
        if data.department_id is not None and data.department_id != task.department_id:
            await authorize(actor, Action.EDIT_PLAN, project, department_id=data.department_id)
        if task.version != version:
            raise stale(task.version)
        await _check_people(project, changes, data)
        if data.parent_id is not None:
            await _check_parent(project, task.id, data.parent_id)
            changes["parent_id"] = data.parent_id
        before = snapshot(task, TASK_FIELDS)
        if "planned_finish" in changes and "duration_days" not in changes:
            changes["duration_days"] = None
        start = changes.get("planned_start", task.planned_start)
        finish = changes.get("planned_finish")
        if isinstance(start, date) and isinstance(finish, date) and finish < start:
            raise Invalid("The finish cannot be before the start.", field="plannedFinish")
        changes.setdefault("planned_start", task.planned_start)
        calendar = await working_calendar(project.id)
        _fill_duration(changes, calendar)
        written = await Task.filter(id=task.id, version=version).update(
            **changes, version=version + 1
        )
        if not written:
            current = await Task.get_or_none(id=task.id)
            raise stale(current.version if current else version)
        for name, value in changes.items():
            setattr(task, name, value)
        task.version = version + 1
        await reschedule(project, calendar=calendar, renumber="parent_id" in changes)
        if "parent_id" in changes:
            task.wbs_code = await _wbs_code(task.id)
        await record(
            actor,
            action="task.update",
            object_type="task",
            object_id=task.id,
            project_id=project.id,
            summary=task.name,
            before=before,
            after=snapshot(task, TASK_FIELDS),
        )
    return task


def _fill_duration(changes: dict[str, Any], calendar: WorkingCalendar) -> None:
    """Duration and planned finish describe the same thing; keep both, from either."""
    start = changes.get("planned_start")
    if not isinstance(start, date):
        return
    duration = changes.get("duration_days")
    finish = changes.get("planned_finish")
    if isinstance(finish, date) and duration is None:
        changes["duration_days"] = calendar.duration_between(start, finish)
    elif isinstance(duration, int):
        changes["planned_finish"] = calendar.finish_for(start, duration)


async def add_milestone(
    actor: Actor, *, project_id: int, name: str, due: date | str, deliverable: str = ""
) -> Task:
    return await create_task(
        actor,
        project_id=project_id,
        data=TaskInput(name=name, planned_start=due, is_milestone=True, deliverable=deliverable),
    )


# --- dependencies --------------------------------------------------------------------------


async def add_dependency(
    actor: Actor,
    *,
    predecessor_id: int,
    successor_id: int,
    type: str = "FS",
    lag_days: int = 0,
) -> Dependency:
    checks = Checks()
    try:
        link_type = DependencyType(type)
    except ValueError:
        checks.fail("type", "Use FS, SS, FF or SF.")
        link_type = DependencyType.FS
    checks.whole_number("lagDays", lag_days, low=-MAX_DURATION, high=MAX_DURATION)
    checks.done()
    async with in_transaction():
        successor = await get_task(actor, task_id=successor_id)
        project = await lock_project(actor, successor.project_id)
        await authorize(actor, Action.EDIT_PLAN, project, department_id=successor.department_id)
        if predecessor_id == successor_id:
            raise Invalid("A task cannot depend on itself.", field="predecessorId")
        predecessor = await Task.get_or_none(id=predecessor_id)
        if predecessor is None or predecessor.project_id != project.id:
            raise Invalid("Dependencies link tasks of the same project.", field="predecessorId")
        summaries = set(
            await Task.filter(parent_id__in=[predecessor_id, successor_id]).values_list(
                "parent_id", flat=True
            )
        )
        if summaries:
            raise Invalid(
                "Link the tasks inside a phase, not the phase itself.", field="predecessorId"
            )
        pair = f"{predecessor_id}:{successor_id}"
        if await Dependency.filter(pair=pair).exists():
            raise Invalid("These tasks are already linked.", field="predecessorId")
        await _refuse_cycle(project.id, predecessor_id, successor_id)
        link = await Dependency.create(
            project=project,
            predecessor=predecessor,
            successor=successor,
            type=link_type,
            lag_days=lag_days,
            pair=pair,
        )
        await record(
            actor,
            action="dependency.add",
            object_type="dependency",
            object_id=link.id,
            project_id=project.id,
            summary=f"{predecessor.name} → {successor.name}",
            after={"type": link_type.value, "lag_days": lag_days, "pair": pair},
        )
        await reschedule(project)
    return link


async def _refuse_cycle(project_id: int, predecessor_id: int, successor_id: int) -> None:
    rows = await Dependency.filter(project_id=project_id).values_list(
        "predecessor_id", "successor_id"
    )
    links = [cpm.Link(int(p), int(s)) for p, s in rows]
    links.append(cpm.Link(predecessor_id, successor_id))
    task_ids = {tid for link in links for tid in (link.predecessor, link.successor)}
    try:
        cpm.topological_order(sorted(task_ids), links)
    except cpm.CycleError as cycle:
        names = dict(await Task.filter(id__in=cycle.cycle).values_list("id", "name"))
        raise Invalid(
            "This link would make a cycle: %(tasks)s.",
            field="successorId",
            tasks=" → ".join(str(names[tid]) for tid in cycle.cycle),
        ) from cycle


async def remove_dependency(actor: Actor, *, predecessor_id: int, successor_id: int) -> Task:
    async with in_transaction():
        successor = await get_task(actor, task_id=successor_id)
        project = await lock_project(actor, successor.project_id)
        await authorize(actor, Action.EDIT_PLAN, project, department_id=successor.department_id)
        link = await Dependency.get_or_none(pair=f"{predecessor_id}:{successor_id}")
        if link is None:
            raise NotFound("These tasks are not linked.", field="predecessorId")
        await link.delete()
        await record(
            actor,
            action="dependency.remove",
            object_type="dependency",
            object_id=link.id,
            project_id=project.id,
            summary=successor.name,
            before={"type": link.type.value, "lag_days": link.lag_days, "pair": link.pair},
        )
        await reschedule(project)
    return successor
