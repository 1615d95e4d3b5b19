"""The plan: work breakdown, dependencies, schedule by CPM, baselines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from server.audit.service import record, snapshot
from server.auth import Action, Actor, authorize
from server.errors import Conflict, Invalid, NotFound
from server.planning import cpm
from server.planning.calendar import ONE_DAY, WorkingCalendar
from server.planning.models import (
    Baseline,
    BaselineTask,
    CalendarDay,
    Dependency,
    DependencyType,
    ProjectCalendarDay,
    Task,
    TaskSchedule,
    WorkingDayCount,
)
from server.planning.scheduling import company_calendar_days as company_calendar_days
from server.planning.scheduling import refresh_schedules
from server.planning.scheduling import reschedule as reschedule
from server.planning.scheduling import working_calendar as working_calendar
from server.projects.models import Project, ProjectDepartment, ProjectMember, Role
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


# --- reading -------------------------------------------------------------------------------


async def list_milestones(project_ids: Sequence[int]) -> dict[int, list[Task]]:
    rows = await Task.filter(project_id__in=list(project_ids), is_milestone=True).order_by(
        "planned_start", "id"
    )
    result: dict[int, list[Task]] = {pid: [] for pid in project_ids}
    for row in rows:
        result[row.project_id].append(row)  # type: ignore[attr-defined]
    return result


@dataclass(frozen=True)
class MilestoneDates:
    task: Task
    # The schedule's forecast day, the day typed when it was planned, the baseline's day.
    scheduled: date | None
    planned: date
    baseline: date | None
    # Working days the forecast lies past the baseline (negative: ahead of it).
    variance_days: int | None = None

    @property
    def moved(self) -> bool:
        return self.scheduled is not None and self.scheduled != self.planned

    @property
    def day(self) -> date:
        """The day to show: the schedule's forecast, else the typed target."""
        return self.scheduled or self.planned


async def milestone_dates(project_id: int) -> list[MilestoneDates]:
    """The project's milestones with the day the schedule forecasts, beside the typed target
    and the baseline with the variance in working days (a few queries, whatever the count)."""
    rows = (await list_milestones([project_id]))[project_id]
    ids = [m.id for m in rows]
    schedules = await schedules_for(ids) if ids else {}
    baselines = await baseline_dates(ids) if ids else {}
    calendar = await working_calendar(project_id) if baselines else None
    result = []
    for m in rows:
        schedule, baseline = schedules.get(m.id), baselines.get(m.id)
        scheduled = schedule.early_finish if schedule else None
        variance = None
        if calendar is not None and baseline is not None and scheduled is not None:
            variance = _working_day_difference(calendar, baseline.finish, scheduled)
        result.append(
            MilestoneDates(
                m,
                scheduled,
                m.planned_finish or m.planned_start,
                baseline.finish if baseline else None,
                variance,
            )
        )
    result.sort(key=lambda d: (d.scheduled or d.planned, d.task.id))
    return result


def _working_day_difference(calendar: WorkingCalendar, agreed: date, forecast: date) -> int:
    if forecast >= agreed:
        return calendar.working_days_between(agreed, forecast)
    return -calendar.working_days_between(forecast, agreed)


async def list_tasks(project_ids: Sequence[int]) -> dict[int, list[Task]]:
    """Every task of the projects in WBS order, in one query."""
    rows = await Task.filter(project_id__in=list(project_ids))
    result: dict[int, list[Task]] = {pid: [] for pid in project_ids}
    for row in sorted(rows, key=lambda t: (_wbs_key(t.wbs_code), t.id)):
        result[row.project_id].append(row)  # type: ignore[attr-defined]
    return result


async def tasks_by_ids(ids: list[int]) -> dict[int, Task]:
    """Tasks by id in one query, for DataLoaders (reached through a visible project)."""
    return {t.id: t for t in await Task.filter(id__in=ids)}


async def schedules_for(task_ids: Sequence[int]) -> dict[int, TaskSchedule]:
    """The tasks' schedule rows, computed again first where progress or the status date
    has moved on."""
    ids = list(task_ids)
    await refresh_schedules(task_ids=ids)
    rows = await TaskSchedule.filter(task_id__in=ids)
    return {row.task_id: row for row in rows}  # type: ignore[attr-defined]


async def dependencies_of(task_ids: Sequence[int]) -> dict[int, list[Dependency]]:
    """Each task's incoming links (its predecessors), in one query."""
    rows = await Dependency.filter(successor_id__in=list(task_ids))
    result: dict[int, list[Dependency]] = {tid: [] for tid in task_ids}
    for row in rows:
        result[row.successor_id].append(row)  # type: ignore[attr-defined]
    return result


async def baseline_dates(
    task_ids: Sequence[int], *, baseline_id: int | None = None
) -> dict[int, BaselineTask]:
    """Each task's dates in one baseline (the project's latest when none is named)."""
    query = BaselineTask.filter(task_id__in=list(task_ids))
    if baseline_id is not None:
        query = query.filter(baseline_id=baseline_id)
    rows = await query.order_by("baseline_id")
    return {row.task_id: row for row in rows}  # type: ignore[attr-defined]


def agreed_finish(
    planned_start: date, planned_finish: date | None, baseline: BaselineTask | None
) -> date:
    """The finish lateness is counted from: the latest baseline's, else the task's planned
    finish as entered (planned start + duration) — never a date that moves with progress."""
    return baseline.finish if baseline is not None else planned_finish or planned_start


async def get_task(actor: Actor, *, task_id: int) -> Task:
    """A task of a project the actor may see; anything else is not found."""
    task = await Task.get_or_none(id=task_id)
    if task is None:
        raise NotFound("No such task.", field="taskId")
    await get_project(actor, project_id=task.project_id)  # type: ignore[attr-defined]
    return task


async def list_baselines(project_id: int) -> list[Baseline]:
    return await Baseline.filter(project_id=project_id).order_by("id")


# --- the company calendar ------------------------------------------------------------------


async def seed_company_calendar() -> int:
    """Load Chinese holidays and adjusted working weekends from chinese_calendar, once.

    Its data ends with the last announced year; admins enter later years by hand.
    """
    import chinese_calendar

    if await CalendarDay.exists():
        return 0
    rows = [
        CalendarDay(day=day, is_working=False, name=str(name or ""), source="chinese_calendar")
        for day, name in chinese_calendar.holidays.items()
        if day.weekday() < 5 or name
    ] + [
        CalendarDay(day=day, is_working=True, name=str(name or ""), source="chinese_calendar")
        for day, name in chinese_calendar.workdays.items()
        if day.weekday() >= 5
    ]
    async with in_transaction():
        await CalendarDay.bulk_create(rows, ignore_conflicts=True)
        await refresh_working_day_counts()
    return len(rows)


# --- the company calendar as running counts, for working-day arithmetic in SQL ------------

COUNTED_FROM = date(2000, 1, 1)
COUNTED_UNTIL = date(2099, 12, 31)
COUNTED_DAYS = (COUNTED_UNTIL - COUNTED_FROM).days + 1

# Current when it spans every day of the range and its listed days are exactly the company
# calendar's rows within that range, each with the same working flag.
WORKING_DAY_COUNTS_AGREE_SQL = """
SELECT (SELECT COUNT(*) FROM working_day_count),
       (SELECT COUNT(*) FROM working_day_count w WHERE w.listed),
       (SELECT COUNT(*) FROM calendar_day c
         WHERE c.day >= (SELECT MIN(day) FROM working_day_count)
           AND c.day <= (SELECT MAX(day) FROM working_day_count)),
       (SELECT COUNT(*) FROM calendar_day c JOIN working_day_count w ON w.day = c.day
         WHERE w.listed
           AND w.count_through - w.count_before = CASE WHEN c.is_working THEN 1 ELSE 0 END)
"""


async def working_day_counts_are_current() -> bool:
    _, rows = await connections.get("default").execute_query(WORKING_DAY_COUNTS_AGREE_SQL)
    days, listed, calendar_days, agreeing = (int(value) for value in rows[0])
    return days == COUNTED_DAYS and listed == calendar_days == agreeing


async def refresh_working_day_counts() -> None:
    """Rewrite the running counts from the company calendar.

    An upsert of the whole range: two workers refreshing at once write the same rows.
    """
    company = await company_calendar_days()
    calendar = WorkingCalendar(company)
    listed = {row.day for row in company}
    rows = []
    count = 0
    day = COUNTED_FROM
    while day <= COUNTED_UNTIL:
        working = calendar.is_working_day(day)
        rows.append(
            WorkingDayCount(
                ordinal=day.toordinal(),
                day=day,
                count_before=count,
                count_through=count + working,
                listed=day in listed,
            )
        )
        count += working
        day += ONE_DAY
    await WorkingDayCount.bulk_create(
        rows,
        batch_size=5000,
        on_conflict=["ordinal"],
        update_fields=["day", "count_before", "count_through", "listed"],
    )


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


async def _lock_project(actor: Actor, project_id: int) -> Project:
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
        parent_id_of = ancestor.parent_id  # type: ignore[attr-defined]
        ancestor = await Task.get_or_none(id=parent_id_of) if parent_id_of else None


async def create_task(actor: Actor, *, project_id: int, data: TaskInput) -> Task:
    changes = _checked(data, creating=True)
    async with in_transaction():
        project = await _lock_project(actor, project_id)
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
            project = await _lock_project(actor, task.project_id)  # type: ignore[attr-defined]
        except NotFound:
            # Someone else's task and no task at all look the same.
            raise NotFound("No such task.", field="taskId") from None
        await authorize(actor, Action.EDIT_PLAN, project, department_id=task.department_id)  # type: ignore[attr-defined]
        if data.department_id is not None and data.department_id != task.department_id:  # type: ignore[attr-defined]
            await authorize(actor, Action.EDIT_PLAN, project, department_id=data.department_id)
        if task.version != version:
            raise _stale_task(task.version)
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
            raise _stale_task(current.version if current else version)
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


def _stale_task(version: int) -> Conflict:
    return Conflict(
        "Someone else changed this task in the meantime (now version %(version)s). "
        "Reload and try again.",
        field="version",
        version=version,
    )


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
        project = await _lock_project(actor, successor.project_id)  # type: ignore[attr-defined]
        await authorize(actor, Action.EDIT_PLAN, project, department_id=successor.department_id)  # type: ignore[attr-defined]
        if predecessor_id == successor_id:
            raise Invalid("A task cannot depend on itself.", field="predecessorId")
        predecessor = await Task.get_or_none(id=predecessor_id)
        if predecessor is None or predecessor.project_id != project.id:  # type: ignore[attr-defined]
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
        project = await _lock_project(actor, successor.project_id)  # type: ignore[attr-defined]
        await authorize(actor, Action.EDIT_PLAN, project, department_id=successor.department_id)  # type: ignore[attr-defined]
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


# --- the schedule --------------------------------------------------------------------------


def _wbs_key(code: str) -> tuple[int, ...]:
    return tuple(int(part) for part in code.split(".") if part.isdigit())


# --- baselines -----------------------------------------------------------------------------


async def approve_plan(actor: Actor, *, project_id: int, name: str | None = None) -> Baseline:
    """Freeze every task's scheduled dates as a new named baseline; older ones stay."""
    async with in_transaction():
        project = await _lock_project(actor, project_id)
        await authorize(actor, Action.APPROVE_PLAN, project)
        departments: set[int] = {
            int(row["department_id"])
            for row in await ProjectDepartment.filter(project_id=project.id).values("department_id")
        }
        with_liaison: set[int] = {
            int(row["department_id"])
            for row in await ProjectMember.filter(
                project_id=project.id, role=Role.LIAISON, left_at__isnull=True
            ).values("department_id")
        }
        if departments - with_liaison:
            missing = await _department_names(departments - with_liaison)
            raise Invalid(
                "Every participating department needs a liaison first: %(departments)s.",
                field="projectId",
                departments="、".join(missing),
            )
        tasks = await Task.filter(project_id=project.id)
        if not tasks:
            raise Invalid("The plan has no tasks yet.", field="projectId")
        parents = {t.parent_id for t in tasks if t.parent_id}  # type: ignore[attr-defined]
        ownerless = [
            t.name
            for t in tasks
            if t.id not in parents and not t.owner_id and not t.is_milestone  # type: ignore[attr-defined]
        ]
        if ownerless:
            raise Invalid(
                "Every task needs an owner first: %(tasks)s.",
                field="projectId",
                tasks="、".join(ownerless[:10]),
            )
        checks = Checks()
        name = checks.text("name", name, required=False, max_length=100)
        checks.done()
        count = await Baseline.filter(project_id=project.id).count()
        baseline = await Baseline.create(
            project=project,
            name=name or f"Baseline {count + 1}",
            approved_by=actor.user,
        )
        schedule = await schedules_for([t.id for t in tasks])
        await BaselineTask.bulk_create(
            [
                BaselineTask(
                    baseline=baseline,
                    task_id=t.id,
                    start=schedule[t.id].early_start,
                    finish=schedule[t.id].early_finish,
                )
                for t in tasks
                if t.id in schedule
            ]
        )
        await record(
            actor,
            action="plan.approve",
            object_type="baseline",
            object_id=baseline.id,
            project_id=project.id,
            summary=baseline.name,
            after={"tasks": len(tasks)},
        )
    return baseline


async def _department_names(ids: set[int]) -> list[str]:
    from server.org.models import Department

    rows = await Department.filter(id__in=list(ids)).order_by("name").values("name")
    return [str(row["name"]) for row in rows]


# --- editing the company calendar ----------------------------------------------------------


async def list_calendar_days(actor: Actor, *, year: int) -> list[CalendarDay]:
    return await CalendarDay.filter(day__gte=date(year, 1, 1), day__lte=date(year, 12, 31))


async def set_calendar_day(
    actor: Actor, *, day: date | str, is_working: bool, name: str = ""
) -> CalendarDay:
    """Enter or change one company calendar day (admins); every plan is rescheduled."""
    await authorize(actor, Action.ADMINISTER)
    checks = Checks()
    parsed = checks.day("day", day)
    name = checks.text("name", name, required=False, max_length=64)
    checks.done()
    assert parsed is not None
    async with in_transaction():
        row = await CalendarDay.get_or_none(day=parsed)
        before = {"is_working": row.is_working, "name": row.name} if row else None
        if row is None:
            row = await CalendarDay.create(day=parsed, is_working=is_working, name=name)
        else:
            row.is_working, row.name, row.source = is_working, name, "admin"
            await row.save()
        await record(
            actor,
            action="calendar.set",
            object_type="calendar_day",
            object_id=row.id,
            summary=f"{parsed.isoformat()} {name}",
            before=before,
            after={"is_working": is_working, "name": name},
        )
        await refresh_working_day_counts()
        for project in await Project.all().order_by("id").select_for_update():
            await reschedule(project)
    return row


async def remove_calendar_day(actor: Actor, *, day: date | str) -> None:
    await authorize(actor, Action.ADMINISTER)
    checks = Checks()
    parsed = checks.day("day", day)
    checks.done()
    async with in_transaction():
        row = await CalendarDay.get_or_none(day=parsed)
        if row is None:
            raise NotFound("No such calendar day.", field="day")
        await row.delete()
        await record(
            actor,
            action="calendar.remove",
            object_type="calendar_day",
            object_id=row.id,
            summary=str(parsed),
            before={"is_working": row.is_working, "name": row.name},
        )
        await refresh_working_day_counts()
        for project in await Project.all().order_by("id").select_for_update():
            await reschedule(project)


# --- a project's own calendar exceptions ---------------------------------------------------


async def list_project_calendar_days(project_id: int) -> list[ProjectCalendarDay]:
    return await ProjectCalendarDay.filter(project_id=project_id).order_by("day")


async def set_project_calendar_day(
    actor: Actor, *, project_id: int, day: date | str, is_working: bool, name: str = ""
) -> ProjectCalendarDay:
    """A day this project works or rests unlike the company (a site shutdown, a weekend push).

    The plan is rescheduled in the same transaction."""
    checks = Checks()
    parsed = checks.day("day", day)
    name = checks.text("name", name, required=False, max_length=64)
    checks.done()
    assert parsed is not None
    async with in_transaction():
        project = await _lock_project(actor, project_id)
        await authorize(actor, Action.APPROVE_PLAN, project)
        pair = f"{project.id}:{parsed.isoformat()}"
        row = await ProjectCalendarDay.get_or_none(pair=pair)
        before = {"is_working": row.is_working, "name": row.name} if row else None
        if row is None:
            row = await ProjectCalendarDay.create(
                project=project, day=parsed, is_working=is_working, name=name, pair=pair
            )
        else:
            row.is_working, row.name = is_working, name
            await row.save()
        await record(
            actor,
            action="calendar.set",
            object_type="project_calendar_day",
            object_id=row.id,
            project_id=project.id,
            summary=f"{parsed.isoformat()} {name}",
            before=before,
            after={"is_working": is_working, "name": name},
        )
        await reschedule(project)
    return row


async def remove_project_calendar_day(actor: Actor, *, project_id: int, day: date | str) -> None:
    checks = Checks()
    parsed = checks.day("day", day)
    checks.done()
    assert parsed is not None
    async with in_transaction():
        project = await _lock_project(actor, project_id)
        await authorize(actor, Action.APPROVE_PLAN, project)
        row = await ProjectCalendarDay.get_or_none(pair=f"{project.id}:{parsed.isoformat()}")
        if row is None:
            raise NotFound("No such calendar day.", field="day")
        await row.delete()
        await record(
            actor,
            action="calendar.remove",
            object_type="project_calendar_day",
            object_id=row.id,
            project_id=project.id,
            summary=str(parsed),
            before={"is_working": row.is_working, "name": row.name},
        )
        await reschedule(project)
