"""The stored schedule: CPM on the project's status date with the progress reported, rolled
up to summaries, and kept current — a read that finds the plan, its progress or the status
date changed since the last computation computes it again."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.transactions import in_transaction

from server.db import Statement, upsert
from server.planning import cpm
from server.planning.calendar import CalendarDay as Day
from server.planning.calendar import WorkingCalendar
from server.planning.models import (
    CalendarDay,
    ScheduleStamp,
    Task,
    TaskSchedule,
)
from server.projects.models import Project


async def company_calendar_days() -> list[Day]:
    rows = await CalendarDay.all().values_list("day", "is_working", "name")
    return [Day(d, bool(w), n) for d, w, n in rows]


# The company's calendar and the project's exceptions in one trip (0: company, 1: project).
CALENDAR_SQL = """
SELECT 0, day, is_working, name FROM calendar_day
UNION ALL
SELECT 1, day, is_working, name FROM project_calendar_day WHERE project_id = ?
"""


async def working_calendar(project_id: int) -> WorkingCalendar:
    rows = await _select(CALENDAR_SQL, project_id)
    return _calendar_of(tuple(tuple(row) for row in rows))


@functools.lru_cache(maxsize=64)
def _calendar_of(rows: tuple[tuple[Any, ...], ...]) -> WorkingCalendar:
    """Built once per distinct set of calendar rows: a company calendar of twenty years is
    a few thousand rows, read on every edit but changed a few times a year."""
    days: tuple[list[Day], list[Day]] = ([], [])
    for kind, day, working, name in rows:
        days[int(kind)].append(Day(_day(day), bool(working), str(name)))
    return WorkingCalendar(*days)


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


# Every task of the project with the schedule row stored for it, in WBS order within each
# parent (planned start, then id): what CPM, the WBS numbering and the comparison with the
# stored schedule need, in one statement. Raw SQL: 10,000 rows as model instances would cost
# more than the scheduling itself.
PLAN_SQL = """
SELECT t.id, t.parent_id, t.wbs_code, t.planned_start, t.duration_days, t.actual_start,
       t.actual_finish, t.percent_complete, t.remaining_duration_days, t.buffer_days, t.version,
       s.early_start || '|' || s.early_finish || '|' || s.late_start || '|' || s.late_finish
       || '|' || s.total_float || '|' || s.free_float
       || '|' || CASE WHEN s.is_critical THEN '1' ELSE '0' END || '|' || s.remaining_days
       || '|' || CASE WHEN s.is_done THEN '1' ELSE '0' END
       || '|' || COALESCE(CAST(s.driving_position AS TEXT), '')
       || '|' || CAST(s.driving_predecessors AS TEXT)
FROM task t LEFT JOIN task_schedule s ON s.task_id = t.id
WHERE t.project_id = ?
ORDER BY t.planned_start, t.id
"""
LINKS_SQL = """
SELECT predecessor_id, successor_id, type, lag_days, id FROM dependency WHERE project_id = ?
"""


LINK_TYPES = {kind.value: kind for kind in cpm.LinkType}


class _PlanRow(NamedTuple):
    id: int
    parent_id: int | None
    wbs_code: str
    planned_start: date
    duration: int
    actual_start: date | None
    actual_finish: date | None
    percent_complete: int
    remaining: int | None
    buffer_days: int
    version: int
    # What the stored schedule row holds, as one line of text (None: no row yet).
    stored: str | None


async def reschedule(
    project: Project, *, calendar: WorkingCalendar | None = None, renumber: bool = False
) -> cpm.Schedule:
    """Run CPM over the leaf tasks, roll summaries up, and write back only the schedule rows
    that changed — and, when `renumber`, the WBS codes that changed, in one statement.

    Called inside the transaction of every change to dates, durations or links, and by
    `refresh_schedules` when progress or the status date has moved on. A fixed number of
    statements whatever the size of the plan: the plan with its stored schedule, the links,
    the calendar (unless given), the changed rows and the stamp.
    """
    calendar = calendar or await working_calendar(project.id)
    plan = [_plan_row(row) for row in await _select(PLAN_SQL, project.id)]
    links = await _select(LINKS_SQL, project.id)
    if renumber:
        await _renumber(plan)
    parents = {t.parent_id for t in plan if t.parent_id}
    result = cpm.schedule(
        [
            cpm.PlanTask(
                t.id,
                t.duration,
                not_before=t.planned_start,
                actual_start=t.actual_start,
                actual_finish=t.actual_finish,
                percent_complete=t.percent_complete,
                remaining=t.remaining if t.actual_finish is None else None,
            )
            for t in plan
            if t.id not in parents
        ],
        [cpm.Link(pred, succ, LINK_TYPES[kind], lag) for pred, succ, kind, lag, _ in links],
        project.start_date,
        calendar,
        options_of(project),
    )
    rows = _with_summaries(result, plan, calendar)
    on_path = {tid: n for n, tid in enumerate(result.driving_path)}
    changed = []
    for t in plan:
        row = rows.get(t.id)
        if row is None:
            continue
        position = on_path.get(t.id)
        if t.stored is None or _computed_key(row, position) != t.stored:
            values = _stored_values(row, position)
            changed.append(dict(zip(SCHEDULE_COLUMNS, values, strict=True)) | {"task_id": t.id})
    await upsert(
        TaskSchedule,
        [row | {"project_id": project.id} for row in changed],
        on="task_id",
        update=SCHEDULE_COLUMNS,
    )
    stamp = stamp_of(
        project,
        tasks=len(plan),
        versions=sum(t.version for t in plan),
        links=len(links),
        last_link=max((int(link[4]) for link in links), default=0),
    )
    await ScheduleStamp.bulk_create(
        [ScheduleStamp(project_id=project.id, stamp=stamp)],
        on_conflict=["project_id"],
        update_fields=["stamp"],
    )
    return result


SCHEDULE_COLUMNS = [
    "early_start",
    "early_finish",
    "late_start",
    "late_finish",
    "total_float",
    "free_float",
    "is_critical",
    "remaining_days",
    "is_done",
    "driving_position",
    "driving_predecessors",
]


def _stored_values(row: cpm.TaskSchedule, driving_position: int | None) -> tuple[Any, ...]:
    return (
        row.early_start,
        row.early_finish,
        row.late_start,
        row.late_finish,
        row.total_float,
        row.free_float,
        row.is_critical,
        row.remaining_days,
        row.is_done,
        driving_position,
        list(row.driving_predecessors),
    )


def _computed_key(row: cpm.TaskSchedule, driving_position: int | None) -> str:
    """A computed schedule row as PLAN_SQL gives a stored one back: one line of text."""
    return "|".join(
        (
            row.early_start.isoformat(),
            row.early_finish.isoformat(),
            row.late_start.isoformat(),
            row.late_finish.isoformat(),
            str(row.total_float),
            str(row.free_float),
            "1" if row.is_critical else "0",
            str(row.remaining_days),
            "1" if row.is_done else "0",
            "" if driving_position is None else str(driving_position),
            "[" + ",".join(map(str, row.driving_predecessors)) + "]",
        )
    )


def _plan_row(row: Sequence[Any]) -> _PlanRow:
    (tid, parent, code, start, duration, began, finished, percent, remaining, buffer, version) = (
        row[:11]
    )
    return _PlanRow(
        tid,
        parent,
        code,
        _day(start),
        duration,
        None if began is None else _day(began),
        None if finished is None else _day(finished),
        percent,
        remaining,
        buffer,
        version,
        None if row[11] is None else str(row[11]).replace(" ", ""),
    )


def _day(value: Any) -> date:
    """A date column as read: a date (PostgreSQL) or its ISO text (SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _parsed_day(str(value)[:10])


@functools.lru_cache(maxsize=4096)
def _parsed_day(text: str) -> date:
    # A plan of 10,000 tasks holds a few hundred distinct days: parse each once.
    return date.fromisoformat(text)


async def _select(sql: str, *values: Any) -> list[Any]:
    db = connections.get("default")
    _, rows = await db.execute_query(Statement(Task, sql).text(db), list(values))
    return list(rows)


def wbs_codes(plan: Sequence[_PlanRow]) -> dict[int, str]:
    """WBS codes 1, 1.1, 1.2, 2… from the tree, in plan order within each parent."""
    children: dict[int | None, list[int]] = {}
    for t in plan:
        children.setdefault(t.parent_id, []).append(t.id)
    codes: dict[int, str] = {}
    stack: list[tuple[int | None, str]] = [(None, "")]
    while stack:
        parent, prefix = stack.pop()
        for position, tid in enumerate(children.get(parent, []), start=1):
            codes[tid] = f"{prefix}{position}"
            stack.append((tid, f"{prefix}{position}."))
    return codes


# The changed WBS codes travel as one JSON object {task id: code}: one statement and one bound
# value however many codes move (a CASE per row would cost O(n²) in SQLite).
RENUMBER_SQL = {
    "sqlite": "UPDATE task SET wbs_code = j.value FROM json_each(?) AS j "
    "WHERE task.id = CAST(j.key AS INTEGER)",
    "postgres": "UPDATE task SET wbs_code = j.value FROM jsonb_each_text($1::jsonb) AS j "
    "WHERE task.id = CAST(j.key AS INTEGER)",
}


async def _renumber(plan: Sequence[_PlanRow]) -> None:
    """Write the WBS codes that changed, in one statement."""
    codes = wbs_codes(plan)
    changed = {str(t.id): codes[t.id] for t in plan if t.wbs_code != codes[t.id]}
    if changed:
        db = connections.get("default")
        await db.execute_query(RENUMBER_SQL[db.capabilities.dialect], [json.dumps(changed)])


def _with_summaries(
    result: cpm.Schedule, plan: Sequence[_PlanRow], calendar: WorkingCalendar
) -> dict[int, cpm.TaskSchedule]:
    """The leaves' rows and each summary rolled up from its children, deepest first."""
    rows = dict(result.tasks)
    children: dict[int, list[int]] = {}
    for t in plan:
        if t.parent_id:
            children.setdefault(t.parent_id, []).append(t.id)
    buffers = {t.id: t.buffer_days for t in plan if t.buffer_days}
    for summary in _bottom_up(children):
        kids = [rows[k] for k in children[summary] if k in rows]
        if kids:
            rows[summary] = _with_buffer(_rolled_up(kids), buffers.get(summary, 0), calendar)
    return rows


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
        now = _stamp(
            (tasks, versions, links, last_link, version),
            start=start,
            status_date=status,
            retained=retained,
            deadline=deadline,
            threshold=threshold,
            zone=str(zone),
        )
        result[int(pid)] = (now, stored)
    return result


def _stamp(
    counts: tuple[Any, ...],
    *,
    start: Any,
    status_date: Any,
    retained: Any,
    deadline: Any,
    threshold: Any,
    zone: str,
) -> str:
    """The stamp of a plan: task count, sum of task versions, link count, last link id,
    project version, then the project's scheduling settings and status date."""
    status = _day(status_date) if status_date else datetime.now(ZoneInfo(zone)).date()
    return ":".join(
        [
            *(str(int(c)) for c in counts),
            str(_day(start)),
            str(status),
            str(bool(retained)),
            str(_day(deadline)) if deadline else "",
            str(int(threshold)),
        ]
    )


def stamp_of(project: Project, *, tasks: int, versions: int, links: int, last_link: int) -> str:
    """What `_stamps` reads from the database for this project, from the rows in hand."""
    return _stamp(
        (tasks, versions, links, last_link, project.version),
        start=project.start_date,
        status_date=project.status_date,
        retained=project.retained_logic,
        deadline=project.deadline,
        threshold=project.critical_threshold_days,
        zone=project.time_zone,
    )


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
