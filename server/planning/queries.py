"""What the plan's pages, the API and the other domains read: tasks, milestones, schedules,
baselines' dates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from server.auth import Actor
from server.db import Statement, id_list
from server.errors import NotFound
from server.org.models import Department
from server.planning.calendar import WorkingCalendar, forecast_days_late
from server.planning.cpm import TaskSchedule as PlannedDates
from server.planning.models import (
    Baseline,
    BaselineTask,
    Dependency,
    DependencyType,
    Task,
    TaskSchedule,
    TaskStatus,
)
from server.planning.scheduling import company_calendar_days as company_calendar_days
from server.planning.scheduling import day_of, refresh_schedules, working_calendar
from server.planning.scheduling import reschedule as reschedule
from server.projects import service as projects
from server.projects.models import Project, ProjectMember
from server.projects.service import get_project

# --- reading -------------------------------------------------------------------------------


async def list_milestones(project_ids: Sequence[int]) -> dict[int, list[Task]]:
    rows = await Task.filter(project_id__in=list(project_ids), is_milestone=True).order_by(
        "planned_start", "id"
    )
    result: dict[int, list[Task]] = {pid: [] for pid in project_ids}
    for row in rows:
        result[row.project_id].append(row)
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
    for row in sorted(rows, key=lambda t: (wbs_key(t.wbs_code), t.id)):
        result[row.project_id].append(row)
    return result


async def task_page(
    project_id: int, *, after: tuple[str, int] | None, limit: int
) -> list[PagedTask]:
    """Up to `limit` + 1 of the project's tasks in WBS order, after the task with that sort
    key and id: read through the (project, wbs_key, id) index, never the whole plan. The
    extra row tells the caller that another page follows. Plain values, as the plan page
    reads them: a page of model instances cost more than its statement."""
    key, task_id = after or ("", 0)
    return [
        PagedTask(*(*_plan_task_values(row), project_id, row[18] or ""))
        for row in await TASK_PAGE.rows(project_id, key, task_id, limit + 1)
    ]


async def count_tasks(project_id: int) -> int:
    return await Task.filter(project_id=project_id).count()


async def tasks_by_ids(ids: list[int]) -> dict[int, Task]:
    """Tasks by id in one query, for DataLoaders (reached through a visible project)."""
    return {t.id: t for t in await Task.filter(id__in=ids)}


async def schedules_for(task_ids: Sequence[int]) -> dict[int, TaskSchedule]:
    """The tasks' schedule rows, computed again first where progress or the status date
    has moved on."""
    ids = list(task_ids)
    await refresh_schedules(task_ids=ids)
    rows = await TaskSchedule.filter(task_id__in=ids)
    return {row.task_id: row for row in rows}


async def dependencies_of(task_ids: Sequence[int]) -> dict[int, list[PlanLink]]:
    """Each task's incoming links (its predecessors), in one query, as plain values."""
    result: dict[int, list[PlanLink]] = {tid: [] for tid in task_ids}
    for predecessor, successor, link_type, lag in await LINKS_INTO.rows(id_list(task_ids)):
        result[int(successor)].append(
            PlanLink(int(predecessor), int(successor), DependencyType(link_type), int(lag))
        )
    return result


async def baseline_dates(
    task_ids: Sequence[int], *, baseline_id: int | None = None
) -> dict[int, BaselineTask]:
    """Each task's dates in one baseline (the project's latest when none is named)."""
    query = BaselineTask.filter(task_id__in=list(task_ids))
    if baseline_id is not None:
        query = query.filter(baseline_id=baseline_id)
    rows = await query.order_by("baseline_id")
    return {row.task_id: row for row in rows}


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
    await get_project(actor, project_id=task.project_id)
    return task


async def list_baselines(project_id: int) -> list[Baseline]:
    return await BASELINES.fetch(project_id)


# The plan page lists its baselines on every view: a fixed statement, no query build.
BASELINES = Statement(Baseline, "SELECT * FROM baseline WHERE project_id = ? ORDER BY id")


def wbs_key(code: str) -> tuple[int, ...]:
    return tuple(int(part) for part in code.split(".") if part.isdigit())


PROJECT_TASK = Statement(Task, "SELECT * FROM task WHERE id = ? AND project_id = ?")


async def project_task(project: Project, task_id: int) -> Task:
    """A task of a project the caller has already found visible; anything else is not found.
    A fixed statement: a task's form opens with a tap, and a QuerySet cost more to build
    than the read."""
    found = await PROJECT_TASK.fetch(task_id, project.id)
    if not found:
        raise NotFound("No such task.", field="taskId")
    return found[0]


class PlanTask(NamedTuple):
    """A task as the plan page and its exports read it: its columns as plain values (a
    model instance costs several times its row, and a plan has hundreds). A tuple: a frozen
    dataclass sets each of its 18 fields through object.__setattr__, 1.4 µs a task here."""

    id: int
    parent_id: int | None
    wbs_code: str
    name: str
    owner_id: int | None
    department_id: int | None
    planned_start: date
    duration_days: int
    planned_finish: date | None
    is_milestone: bool
    deliverable: str
    buffer_days: int
    actual_start: date | None
    actual_finish: date | None
    status: TaskStatus
    percent_complete: int
    remaining_duration_days: int | None
    version: int


def _optional_day(value: Any) -> date | None:
    return None if value is None else day_of(value)


class PagedTask(NamedTuple):
    """A task as a page of the API reads it: PlanTask's columns, its project and the sort
    key its cursor carries."""

    id: int
    parent_id: int | None
    wbs_code: str
    name: str
    owner_id: int | None
    department_id: int | None
    planned_start: date
    duration_days: int
    planned_finish: date | None
    is_milestone: bool
    deliverable: str
    buffer_days: int
    actual_start: date | None
    actual_finish: date | None
    status: TaskStatus
    percent_complete: int
    remaining_duration_days: int | None
    version: int
    project_id: int
    wbs_key: str


# PlanTask's fields, in order.
PLAN_TASK_COLUMNS = (
    "id, parent_id, wbs_code, name, owner_id, department_id, planned_start, duration_days,"
    " planned_finish, is_milestone, deliverable, buffer_days, actual_start, actual_finish,"
    " status, percent_complete, remaining_duration_days, version"
)
PLAN_TASKS = Statement(
    Task,
    f"SELECT {PLAN_TASK_COLUMNS} FROM task WHERE project_id = ? ORDER BY wbs_key, id",  # noqa: S608 - constant columns
)


# A status as stored, by its text: a dictionary lookup, where calling the enum costs a
# microsecond a row (the plan page and the API's task pages read hundreds).
_STATUS_NAMED = {status.value: status for status in TaskStatus}


def _plan_task_values(row: Sequence[Any]) -> tuple[Any, ...]:
    """A row of PLAN_TASK_COLUMNS as PlanTask's values: the same on SQLite and PostgreSQL."""
    return (
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        day_of(row[6]),
        int(row[7]),
        _optional_day(row[8]),
        bool(row[9]),
        row[10],
        int(row[11]),
        _optional_day(row[12]),
        _optional_day(row[13]),
        _STATUS_NAMED[row[14]],
        int(row[15]),
        row[16],
        int(row[17]),
    )


async def _plan_tasks(project_id: int) -> list[PlanTask]:
    """The plan's tasks in outline order (1.2 before 1.10), as the stored sort key gives it
    (models.wbs_sort_key, kept with every code)."""
    return [PlanTask(*_plan_task_values(row)) for row in await PLAN_TASKS.rows(project_id)]


class PlanLink(NamedTuple):
    """A link as the plan draws and exports it."""

    predecessor_id: int
    successor_id: int
    type: DependencyType
    lag_days: int


PLAN_LINKS = Statement(
    Dependency,
    """
    SELECT predecessor_id, successor_id, type, lag_days FROM dependency
    WHERE project_id = ? ORDER BY id
    """,
)


# Every API page of tasks: a fixed statement (server.db.Statement), the row-value comparison
# served by the (project_id, wbs_key, id) index.
TASK_PAGE = Statement(
    Task,
    f"SELECT {PLAN_TASK_COLUMNS}, wbs_key FROM task WHERE project_id = ?"  # noqa: S608 - constant columns
    " AND (wbs_key, id) > (?, ?) ORDER BY wbs_key, id LIMIT ?",
)
LINKS_INTO = Statement(
    Dependency,
    "SELECT predecessor_id, successor_id, type, lag_days FROM dependency"
    " WHERE successor_id IN (SELECT value FROM json_each(?)) ORDER BY id",
    postgres="SELECT predecessor_id, successor_id, type, lag_days FROM dependency"
    " WHERE successor_id = ANY(?::bigint[]) ORDER BY id",
)


async def _plan_links(project_id: int) -> dict[int, list[PlanLink]]:
    """Each successor's links, in the order they were made."""
    links: dict[int, list[PlanLink]] = {}
    for predecessor, successor, kind, lag in await PLAN_LINKS.rows(project_id):
        links.setdefault(int(successor), []).append(
            PlanLink(int(predecessor), int(successor), DependencyType(kind), int(lag))
        )
    return links


@dataclass
class PlanRow:
    task: PlanTask
    schedule: PlannedDates | None
    baseline: BaselineTask | None
    owner: str
    department: str
    depth: int
    is_summary: bool
    predecessors: list[int]
    links: list[PlanLink]
    forecast_late: int = 0


@dataclass
class PlanView:
    rows: list[PlanRow]
    calendar: WorkingCalendar


# The whole plan's rows, read by project (one bound value), not by a list of 500 task ids
# that the query builder would spell out one parameter at a time.
PLAN_SCHEDULES = Statement(
    TaskSchedule,
    """
    SELECT task_id, early_start, early_finish, late_start, late_finish, total_float, free_float,
           is_critical, remaining_days, is_done
    FROM task_schedule WHERE project_id = ?
    """,
)


async def _plan_schedules(project_id: int) -> dict[int, PlannedDates]:
    """Each task's stored schedule as plain values: a plan page reads hundreds, and a model
    instance costs several times the row."""
    return {
        int(row[0]): PlannedDates(  # by position, in the tuple's order
            day_of(row[1]),
            day_of(row[2]),
            day_of(row[3]),
            day_of(row[4]),
            int(row[5]),
            int(row[6]),
            int(row[8]),
            bool(row[9]),
            bool(row[7]),
        )
        for row in await PLAN_SCHEDULES.rows(project_id)
    }


# The latest baseline holding each task, one row per task: a plan re-baselined ten times
# holds ten rows of each task, and only the newest is drawn.
PLAN_BASELINES = Statement(
    BaselineTask,
    """
    SELECT * FROM (
        SELECT bt.*, ROW_NUMBER() OVER (
            PARTITION BY bt.task_id ORDER BY bt.baseline_id DESC
        ) AS newest
        FROM baseline_task bt JOIN baseline b ON b.id = bt.baseline_id
        WHERE b.project_id = ?
    ) ranked WHERE newest = 1 ORDER BY id
    """,
    extra=("newest",),
)
PLAN_BASELINE = Statement(
    BaselineTask,
    """
    SELECT bt.* FROM baseline_task bt JOIN baseline b ON b.id = bt.baseline_id
    WHERE b.project_id = ? AND b.id = ? ORDER BY bt.id
    """,
)


async def _plan_baselines(project_id: int, baseline_id: int | None) -> dict[int, BaselineTask]:
    if baseline_id is None:
        rows = await PLAN_BASELINES.fetch(project_id)
    else:
        rows = await PLAN_BASELINE.fetch(project_id, baseline_id)
    return {row.task_id: row for row in rows}


async def plan_view(
    project: Project,
    baseline_id: int | None = None,
    *,
    people: list[ProjectMember] | None = None,
    plan_departments: list[Department] | None = None,
) -> PlanView:
    """Every task with its schedule, compared baseline (the latest unless chosen), owner,
    department, links and forecast lateness against the agreed plan: the plan page's rows.
    A page that lists the members and departments anyway hands them in."""
    await refresh_schedules([project.id])
    tasks = await _plan_tasks(project.id)
    schedules = await _plan_schedules(project.id)
    baselines = await _plan_baselines(project.id, baseline_id)
    links = await _plan_links(project.id)
    if people is None:
        people = (await projects.list_members([project.id]))[project.id]
    if plan_departments is None:
        plan_departments = (await projects.list_participating_departments([project.id]))[project.id]
    names = {m.user_id: m.user.name for m in people}
    departments = {d.id: d.name for d in plan_departments}
    parents = {t.parent_id for t in tasks}
    rows = [
        PlanRow(
            task=t,
            schedule=schedules.get(t.id),
            baseline=baselines.get(t.id),
            owner=names.get(t.owner_id, "") if t.owner_id else "",
            department=departments.get(t.department_id, "") if t.department_id else "",
            depth=t.wbs_code.count("."),
            is_summary=t.id in parents,
            predecessors=[link.predecessor_id for link in links.get(t.id, ())],
            links=links.get(t.id, []),
        )
        for t in tasks
    ]
    calendar = await working_calendar(project.id)
    agreed = baselines if baseline_id is None else await _plan_baselines(project.id, None)
    for row in rows:
        if row.schedule is not None and not row.is_summary:
            row.forecast_late = forecast_days_late(
                calendar,
                agreed=agreed_finish(
                    row.task.planned_start, row.task.planned_finish, agreed.get(row.task.id)
                ),
                forecast=row.schedule.early_finish,
                done=row.schedule.is_done,
            )
    return PlanView(rows=rows, calendar=calendar)
