"""The stored schedule: CPM on the project's status date with the progress reported, rolled
up to summaries, and kept current — a read that finds the plan, its progress or the status
date changed since the last computation computes it again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.transactions import in_transaction

from server.planning import cpm
from server.planning.calendar import CalendarDay as Day
from server.planning.calendar import WorkingCalendar
from server.planning.models import (
    CalendarDay,
    Dependency,
    ProjectCalendarDay,
    ScheduleStamp,
    Task,
    TaskSchedule,
)
from server.projects.models import Project


async def company_calendar_days() -> list[Day]:
    rows = await CalendarDay.all().values_list("day", "is_working", "name")
    return [Day(d, bool(w), n) for d, w, n in rows]


async def working_calendar(project_id: int) -> WorkingCalendar:
    company = await company_calendar_days()
    project = await ProjectCalendarDay.filter(project_id=project_id).values_list(
        "day", "is_working", "name"
    )
    return WorkingCalendar(company, [Day(d, bool(w), n) for d, w, n in project])


def status_date_of(project: Project) -> date:
    """The day progress is measured on: the one the PM set, else today where the project is."""
    return project.status_date or datetime.now(ZoneInfo(project.time_zone)).date()


def options_of(project: Project) -> cpm.Options:
    return cpm.Options(
        status_date=status_date_of(project),
        retained_logic=project.retained_logic,
        deadline=project.deadline,
        critical_threshold=project.critical_threshold_days,
    )


async def reschedule(project: Project) -> cpm.Schedule:
    """Run CPM over the leaf tasks, roll summaries up, store the results beside the tasks.

    Called inside the transaction of every change to dates, durations or links, and by
    `refresh_schedules` when progress or the status date has moved on.
    """
    tasks = await Task.filter(project_id=project.id)
    links = await Dependency.filter(project_id=project.id)
    parents = {t.parent_id for t in tasks if t.parent_id}  # type: ignore[attr-defined]
    leaves = [t for t in tasks if t.id not in parents]
    calendar = await working_calendar(project.id)
    plan = [
        cpm.PlanTask(
            t.id,
            t.duration_days,
            not_before=t.planned_start,
            actual_start=t.actual_start,
            actual_finish=t.actual_finish,
            percent_complete=t.percent_complete,
            remaining=t.remaining_duration_days if t.actual_finish is None else None,
        )
        for t in leaves
    ]
    result = cpm.schedule(
        plan,
        [
            cpm.Link(
                link.predecessor_id,  # type: ignore[attr-defined]
                link.successor_id,  # type: ignore[attr-defined]
                cpm.LinkType(link.type.value),
                link.lag_days,
            )
            for link in links
        ],
        project.start_date,
        calendar,
        options_of(project),
    )
    rows = dict(result.tasks)
    children: dict[int, list[int]] = {}
    for t in tasks:
        if t.parent_id:  # type: ignore[attr-defined]
            children.setdefault(t.parent_id, []).append(t.id)  # type: ignore[attr-defined]
    buffers = {t.id: t.buffer_days for t in tasks if t.buffer_days}
    for summary in _bottom_up(children):
        kids = [rows[k] for k in children[summary] if k in rows]
        if kids:
            rows[summary] = _with_buffer(_rolled_up(kids), buffers.get(summary, 0), calendar)
    on_path = {tid: n for n, tid in enumerate(result.driving_path)}
    await TaskSchedule.filter(project_id=project.id).delete()
    await TaskSchedule.bulk_create(
        [
            TaskSchedule(
                task_id=tid,
                project_id=project.id,
                early_start=s.early_start,
                early_finish=s.early_finish,
                late_start=s.late_start,
                late_finish=s.late_finish,
                total_float=s.total_float,
                free_float=s.free_float,
                is_critical=s.is_critical,
                remaining_days=s.remaining_days,
                is_done=s.is_done,
                driving_position=on_path.get(tid),
                driving_predecessors=list(s.driving_predecessors),
            )
            for tid, s in rows.items()
        ]
    )
    stamp = (await _stamps(str(int(project.id))))[project.id][0]
    await ScheduleStamp.bulk_create(
        [ScheduleStamp(project_id=project.id, stamp=stamp)],
        on_conflict=["project_id"],
        update_fields=["stamp"],
    )
    return result


def _rolled_up(kids: list[cpm.TaskSchedule]) -> cpm.TaskSchedule:
    open_kids = [k for k in kids if not k.is_done] or kids
    return cpm.TaskSchedule(
        early_start=min(k.early_start for k in kids),
        early_finish=max(k.early_finish for k in kids),
        late_start=min(k.late_start for k in open_kids),
        late_finish=max(k.late_finish for k in kids),
        total_float=min(k.total_float for k in open_kids),
        free_float=min(k.free_float for k in open_kids),
        remaining_days=max(k.remaining_days for k in kids),
        is_done=all(k.is_done for k in kids),
        is_critical=any(k.is_critical for k in kids),
    )


def _with_buffer(
    phase: cpm.TaskSchedule, buffer_days: int, calendar: WorkingCalendar
) -> cpm.TaskSchedule:
    """A phase's buffer is time reserved after its last task: the phase (and a phase above
    it) finishes that many working days later; the tasks' own dates and floats stay."""
    if not buffer_days:
        return phase
    return phase._replace(
        early_finish=calendar.add_working_days(phase.early_finish, buffer_days),
        late_finish=calendar.add_working_days(phase.late_finish, buffer_days),
    )


def _bottom_up(children: dict[int, list[int]]) -> list[int]:
    """Summary tasks, deepest first, so a phase rolls up from rolled-up sub-phases."""
    depth: dict[int, int] = {}

    def height(node: int) -> int:
        if node not in depth:
            depth[node] = 1 + max((height(c) for c in children.get(node, [])), default=0)
        return depth[node]

    return sorted(children, key=height)


# What each project's schedule was computed from and what it would be computed from now, in
# one statement: every task change (progress included) raises a task's version, every link
# change adds or removes a row (a new link has a new, higher id), and the project's own
# settings and status date count too. Only integers we made are written into it.
STAMPS_SQL = """
SELECT p.id, p.version, p.start_date, p.status_date, p.retained_logic, p.deadline,
       p.critical_threshold_days, p.time_zone,
       (SELECT COUNT(*) FROM task t WHERE t.project_id = p.id),
       (SELECT COALESCE(SUM(t.version), 0) FROM task t WHERE t.project_id = p.id),
       (SELECT COUNT(*) FROM dependency d WHERE d.project_id = p.id),
       (SELECT COALESCE(MAX(d.id), 0) FROM dependency d WHERE d.project_id = p.id),
       st.stamp
FROM project p LEFT JOIN schedule_stamp st ON st.project_id = p.id
WHERE p.id IN ({projects})
"""


async def _stamps(projects: str) -> dict[int, tuple[str, str | None]]:
    """Per project: the stamp of its plan now, and the one its stored schedule has."""
    _, rows = await connections.get("default").execute_query(STAMPS_SQL.format(projects=projects))
    result = {}
    for row in rows:
        (pid, version, start, status, retained, deadline, threshold, zone) = tuple(row)[:8]
        tasks, versions, links, last_link, stored = tuple(row)[8:]
        today = datetime.now(ZoneInfo(str(zone))).date()
        now = (
            f"{tasks}:{versions}:{links}:{last_link}:{version}:{str(start)[:10]}:"
            f"{str(status)[:10] if status else today}:{bool(retained)}:"
            f"{str(deadline)[:10] if deadline else ''}:{threshold}"
        )
        result[int(pid)] = (now, stored)
    return result


def _integers(values: Sequence[int]) -> str:
    return ", ".join(str(int(v)) for v in values) or "NULL"


async def refresh_schedules(
    project_ids: Sequence[int] = (), *, task_ids: Sequence[int] = ()
) -> None:
    """Compute again the schedules whose plan, progress or status date moved on since: one
    statement when none did. Name the projects, or tasks of them."""
    if task_ids:
        projects = f"SELECT project_id FROM task WHERE id IN ({_integers(task_ids)})"  # noqa: S608
    elif project_ids:
        projects = _integers(project_ids)
    else:
        return
    for pid, (now, stored) in (await _stamps(projects)).items():
        if now == stored:
            continue
        async with in_transaction():
            locked = await Project.filter(id=pid).select_for_update().get()
            await reschedule(locked)
