"""The stored schedule: CPM on the project's status date with the progress reported, rolled
up to summaries, and kept current — a read that finds the plan, its progress or the status
date changed since the last computation computes it again."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import uuid4

import numpy as np
import numpy.typing as npt
from tortoise import connections
from tortoise.transactions import in_transaction

from server import clock, domain_events
from server.db import Statement, upsert
from server.domain_events import TasksBecameCritical
from server.planning import cpm
from server.planning.calendar import CalendarDay as Day
from server.planning.calendar import WorkingCalendar
from server.planning.cpm_kernels import Ints
from server.planning.models import (
    CalendarDay,
    CalendarEdition,
    ScheduleStamp,
    Task,
    TaskSchedule,
    wbs_sort_key,
)
from server.projects.models import Project


async def company_calendar_days() -> list[Day]:
    rows = await CalendarDay.all().values_list("day", "is_working", "name")
    return [Day(d, bool(w), n) for d, w, n in rows]


# The company calendar's edition and the project's exceptions in one trip (0: the token,
# 1: a project day).
CALENDAR_SQL = """
SELECT 0, NULL, NULL, token FROM calendar_edition WHERE id = 1
UNION ALL
SELECT 1, day, is_working, name FROM project_calendar_day WHERE project_id = ?
"""

ProjectDays = tuple[tuple[Any, ...], ...]


@dataclass
class _Edition:
    """The company calendar as this process last read it, and the working calendars built on
    it, one per distinct set of project exceptions."""

    token: str
    days: list[Day]
    calendars: dict[ProjectDays, WorkingCalendar] = field(default_factory=dict)


class _LastRead:
    edition: _Edition | None = None


async def working_calendar(project_id: int) -> WorkingCalendar:
    """The project's working calendar. The company's rows (several hundred, changed a few
    times a year) are read again only when their edition's token has moved; a database
    without a token yet (never changed since the token came) is read every time."""
    rows = await _select(CALENDAR_SQL, project_id)
    token = next((str(row[3]) for row in rows if int(row[0]) == 0), None)
    exceptions: ProjectDays = tuple(tuple(row[1:]) for row in rows if int(row[0]) == 1)
    edition = _LastRead.edition
    if edition is None or token is None or edition.token != token:
        edition = _Edition(token or "", await company_calendar_days())
        if token is not None:
            _LastRead.edition = edition
    calendar = edition.calendars.get(exceptions)
    if calendar is None:
        if len(edition.calendars) >= 256:  # bounded: one per project with exceptions
            edition.calendars.clear()
        project = [Day(day_of(day), bool(working), str(name)) for day, working, name in exceptions]
        calendar = edition.calendars[exceptions] = WorkingCalendar(edition.days, project)
    return calendar


async def new_calendar_edition() -> None:
    """Called in the transaction of every change to the company calendar: each process
    reads the calendar again on its next use."""
    await upsert(CalendarEdition, [{"id": 1, "token": uuid4().hex}], on="id", update=["token"])


def status_date_of(project: Project) -> date:
    """The day progress is measured on: the one the PM set, else today where the project is."""
    return project.status_date or clock.today_in(project.time_zone)


def options_of(project: Project) -> cpm.Options:
    return cpm.Options(
        status_date=status_date_of(project),
        retained_logic=project.retained_logic,
        deadline=project.deadline,
        critical_threshold=project.critical_threshold_days,
    )


# Every task of the project with the schedule row stored for it, in WBS order within each
# parent (planned start, then id): what CPM, the WBS numbering and the comparison with the
# stored schedule need, in one statement, read as columns.
PLAN_SQL = """
SELECT t.id, t.parent_id, t.wbs_code, t.planned_start, t.duration_days, t.actual_start,
       t.actual_finish, t.percent_complete, t.remaining_duration_days, t.buffer_days, t.version,
       s.id, s.early_start, s.early_finish, s.late_start, s.late_finish, s.total_float,
       s.free_float, s.is_critical, s.remaining_days, s.is_done, s.driving_position,
       s.driving_predecessors, t.wbs_key
FROM task t LEFT JOIN task_schedule s ON s.task_id = t.id
WHERE t.project_id = ?
ORDER BY t.planned_start, t.id
"""
LINKS_SQL = """
SELECT predecessor_id, successor_id, type, lag_days, id FROM dependency WHERE project_id = ?
"""
LINK_CODES = {"FS": 0, "SS": 1, "FF": 2, "SF": 3}


class _Columns:
    """Rows read as columns: each column a tuple, the row order kept."""

    def __init__(self, rows: Sequence[Any], width: int) -> None:
        self.count = len(rows)
        self.columns: list[tuple[Any, ...]] = (
            list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]
        )

    def ints(self, column: int, none: int = 0) -> Ints:
        """An integer column (flags too), with `none` where it is empty."""
        values = self.columns[column]
        if None in values:
            return _coded(values, lambda v: none if v is None else int(v))
        return np.fromiter(values, np.int64, self.count)

    def days(self, column: int) -> Ints:
        """Ordinals of a date column (0 where empty): dates on PostgreSQL, text on SQLite."""
        return _coded(self.columns[column], _day_ordinal)


def _coded(values: Sequence[Any], code: Any) -> Ints:
    """A column of few distinct values, each converted once."""
    table = {value: code(value) for value in set(values)}
    return np.fromiter(map(table.__getitem__, values), np.int64, len(values))


def _day_ordinal(value: Any) -> int:
    return 0 if value is None else day_of(value).toordinal()


def _compact_ids(value: Any) -> str:
    """A list of task ids as compact JSON text, whether read as text or as a list."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "[" + ",".join(map(str, value)) + "]"
    return str(value).replace(" ", "")


async def reschedule(
    project: Project, *, calendar: WorkingCalendar | None = None, renumber: bool = False
) -> cpm.Schedule:
    """Run CPM over the leaf tasks, roll summaries up, and write back only the schedule rows
    that changed — and, when `renumber`, the WBS codes that changed, in one statement.

    Called inside the transaction of every change to dates, durations or links, and by
    `refresh_schedules` when progress or the status date has moved on. A fixed number of
    statements whatever the size of the plan: the plan with its stored schedule, the links,
    the calendar (unless given), the changed rows and the stamp. Columns throughout: an
    edit of a 2,000-task plan makes objects only for the rows it writes.
    """
    calendar = calendar or await working_calendar(project.id)
    read = _Columns(await _select(PLAN_SQL, project.id), 24)
    links = _Columns(await _select(LINKS_SQL, project.id), 5)
    ids, parents = read.ints(0), read.ints(1)
    if renumber:
        await _renumber(
            ids.tolist(), parents.tolist(), list(read.columns[2]), list(read.columns[23])
        )
    leaves = ~np.isin(ids, parents[parents > 0])
    actual_finish = read.days(6)[leaves]
    result = cpm.schedule_columns(
        cpm.PlanColumns(
            ids=ids[leaves],
            durations=read.ints(4)[leaves],
            not_before=read.days(3)[leaves],
            actual_start=read.days(5)[leaves],
            actual_finish=actual_finish,
            percent=read.ints(7)[leaves],
            remaining=np.where(actual_finish > 0, -1, read.ints(8, none=-1)[leaves]),
            link_predecessors=links.ints(0),
            link_successors=links.ints(1),
            link_kinds=_coded(links.columns[2], lambda kind: LINK_CODES[str(kind)]),
            link_lags=links.ints(3),
        ),
        project.start_date,
        calendar,
        options_of(project),
    )
    assert result.table is not None
    table = _with_summaries(result.table, ids, parents, leaves, read.ints(9), calendar)
    on_path = np.full(len(ids), -1, np.int64)
    path_positions = {tid: n for n, tid in enumerate(result.driving_path)}
    for j, tid in enumerate(ids.tolist()):
        if tid in path_positions:
            on_path[j] = path_positions[tid]
    changed = _changed_rows(read, table, on_path)
    newly_critical = ids[(table.is_critical != 0) & (read.ints(18) == 0) & (read.ints(11) != 0)]
    await upsert(
        TaskSchedule,
        [_schedule_row(table, on_path, j) | {"project_id": project.id} for j in changed],
        on="task_id",
        update=SCHEDULE_COLUMNS,
    )
    stamp = stamp_of(
        project,
        tasks=read.count,
        versions=int(read.ints(10).sum()),
        links=links.count,
        last_link=int(links.ints(4).max(initial=0)),
    )
    await ScheduleStamp.bulk_create(
        [ScheduleStamp(project_id=project.id, stamp=stamp)],
        on_conflict=["project_id"],
        update_fields=["stamp"],
    )
    if len(newly_critical):
        await domain_events.announce(
            TasksBecameCritical(project.id, tuple(newly_critical.tolist()))
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


def _changed_rows(read: _Columns, table: cpm.ScheduleTable, on_path: Ints) -> list[int]:
    """Positions whose stored schedule row is missing or differs from the computed one."""
    stored_position = read.ints(21, none=-1)
    differs = (
        (read.ints(11) == 0)
        | (read.days(12) != table.early_start)
        | (read.days(13) != table.early_finish)
        | (read.days(14) != table.late_start)
        | (read.days(15) != table.late_finish)
        | (read.ints(16) != table.total_float)
        | (read.ints(17) != table.free_float)
        | (read.ints(18) != table.is_critical)
        | (read.ints(19) != table.remaining_days)
        | (read.ints(20) != table.is_done)
        | (stored_position != on_path)
    )
    stored_drivers = _texts(read.columns[22])
    computed_drivers = _driver_texts(table)
    differs |= stored_drivers != computed_drivers
    return np.flatnonzero(differs).tolist()


def _driver_texts(table: cpm.ScheduleTable) -> npt.NDArray[np.object_]:
    """Each task's driving predecessors as compact JSON text, as they are stored."""
    texts = np.full(len(table.ids), "[]", dtype=object)
    start, ids = table.driver_start.tolist(), table.driver_ids.tolist()
    for j in np.flatnonzero(np.diff(table.driver_start)).tolist():
        texts[j] = "[" + ",".join(map(str, ids[start[j] : start[j + 1]])) + "]"
    return texts


def _texts(values: Sequence[Any]) -> npt.NDArray[np.object_]:
    """Lists of task ids as compact JSON text, each distinct list written once."""
    if any(isinstance(value, list) for value in values):
        values = [tuple(value) if isinstance(value, list) else value for value in values]
    table = {value: _compact_ids(value) for value in set(values)}
    texts = np.empty(len(values), dtype=object)
    texts[:] = list(map(table.__getitem__, values))
    return texts


def _schedule_row(table: cpm.ScheduleTable, on_path: Ints, j: int) -> dict[str, Any]:
    day = date.fromordinal
    return {
        "task_id": int(table.ids[j]),
        "early_start": day(int(table.early_start[j])),
        "early_finish": day(int(table.early_finish[j])),
        "late_start": day(int(table.late_start[j])),
        "late_finish": day(int(table.late_finish[j])),
        "total_float": int(table.total_float[j]),
        "free_float": int(table.free_float[j]),
        "is_critical": bool(table.is_critical[j]),
        "remaining_days": int(table.remaining_days[j]),
        "is_done": bool(table.is_done[j]),
        "driving_position": None if on_path[j] < 0 else int(on_path[j]),
        "driving_predecessors": list(table.driving_predecessors(j)),
    }


def day_of(value: Any) -> date:
    """A date column as read: a date (PostgreSQL) or its ISO text (SQLite)."""
    if type(value) is str:  # SQLite's, the commonest: a plan page reads some 2,500
        return _parsed_day(value[:10])
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


def wbs_codes(
    ids: Sequence[int], parents: Sequence[int], codes_now: Sequence[str] = ()
) -> dict[int, str]:
    """WBS codes 1, 1.1, 1.2, 2… from the tree. Within each parent, tasks keep the order
    their codes give them and a new task (no code yet) comes last: adding a task, an action
    item from a meeting say, never renumbers the tasks already there."""
    current = codes_now or [""] * len(ids)
    order = {tid: _last_number(code) for tid, code in zip(ids, current, strict=True)}
    children: dict[int, list[int]] = {}
    for tid, parent in zip(ids, parents, strict=True):
        children.setdefault(parent, []).append(tid)
    for siblings in children.values():
        siblings.sort(key=lambda tid: (order[tid], tid))
    codes: dict[int, str] = {}
    stack: list[tuple[int, str]] = [(0, "")]
    while stack:
        parent, prefix = stack.pop()
        for position, tid in enumerate(children.get(parent, []), start=1):
            codes[tid] = f"{prefix}{position}"
            stack.append((tid, f"{prefix}{position}."))
    return codes


# The changed WBS codes travel as one JSON object {task id: [code, sort key]}: one statement
# and one bound value however many codes move (a CASE per row would cost O(n²) in SQLite).
RENUMBER_SQL = {
    "sqlite": "UPDATE task SET wbs_code = json_extract(j.value, '$[0]'), "
    "wbs_key = json_extract(j.value, '$[1]') FROM json_each(?) AS j "
    "WHERE task.id = CAST(j.key AS INTEGER)",
    "postgres": "UPDATE task SET wbs_code = j.value->>0, wbs_key = j.value->>1 "
    "FROM jsonb_each($1::jsonb) AS j WHERE task.id = CAST(j.key AS INTEGER)",
}


def _last_number(code: str) -> float:
    last = code.rsplit(".", 1)[-1]
    return int(last) if last.isdigit() else float("inf")


async def _renumber(
    ids: Sequence[int], parents: Sequence[int], codes_now: Sequence[str], keys_now: Sequence[str]
) -> None:
    """Write the WBS codes (and their sort keys) that changed, in one statement. A key that
    disagrees with its code (a row written by an earlier release) is written too."""
    codes = wbs_codes(ids, parents, codes_now)
    changed = {}
    for tid, code, key in zip(ids, codes_now, keys_now, strict=True):
        new_key = wbs_sort_key(codes[tid])
        if code != codes[tid] or key != new_key:
            changed[str(tid)] = [codes[tid], new_key]
    if changed:
        db = connections.get("default")
        await db.execute_query(RENUMBER_SQL[db.capabilities.dialect], [json.dumps(changed)])


def _with_summaries(
    leaves_table: cpm.ScheduleTable,
    ids: Ints,
    parents: Ints,
    leaves: npt.NDArray[np.bool_],
    buffers: Ints,
    calendar: WorkingCalendar,
) -> cpm.ScheduleTable:
    """The whole plan's table: the leaves as scheduled, each summary rolled up from its
    children (deepest first), its finish moved by its buffer."""
    count = len(ids)
    columns = {
        name: np.zeros(count, np.int64)
        for name in (
            "early_start", "early_finish", "late_start", "late_finish", "total_float",
            "free_float", "remaining_days", "is_done", "is_critical",
        )
    }  # fmt: skip
    for name, column in columns.items():
        column[leaves] = getattr(leaves_table, name)
    # Summaries have no driving predecessors; the leaves keep theirs, in plan order.
    counts = np.zeros(count, np.int64)
    counts[leaves] = np.diff(leaves_table.driver_start)
    position = {tid: j for j, tid in enumerate(ids.tolist())}
    children: dict[int, list[int]] = {}
    for j, parent in enumerate(parents.tolist()):
        if parent:
            children.setdefault(parent, []).append(j)
    id_list = ids.tolist()
    for summary in _bottom_up({k: [id_list[j] for j in v] for k, v in children.items()}):
        _roll_up(columns, position[summary], np.array(children[summary]), buffers, calendar)
    return cpm.ScheduleTable(
        ids=ids,
        driver_start=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        driver_ids=leaves_table.driver_ids,
        **columns,
    )


def _roll_up(
    c: dict[str, Ints], at: int, kids: Ints, buffers: Ints, calendar: WorkingCalendar
) -> None:
    """A phase spans its children; floats and late dates count its unfinished ones. Its
    buffer is time reserved after its last task: the phase finishes that many working days
    later; the tasks' own dates and floats stay."""
    open_kids = kids[c["is_done"][kids] == 0]
    if len(open_kids) == 0:
        open_kids = kids
    c["early_start"][at] = c["early_start"][kids].min()
    c["early_finish"][at] = c["early_finish"][kids].max()
    c["late_start"][at] = c["late_start"][open_kids].min()
    c["late_finish"][at] = c["late_finish"][kids].max()
    c["total_float"][at] = c["total_float"][open_kids].min()
    c["free_float"][at] = c["free_float"][open_kids].min()
    c["remaining_days"][at] = c["remaining_days"][kids].max()
    c["is_done"][at] = int(c["is_done"][kids].all())
    c["is_critical"][at] = int(c["is_critical"][kids].any())
    if buffers[at]:
        for name in ("early_finish", "late_finish"):
            day = date.fromordinal(int(c[name][at]))
            c[name][at] = calendar.add_working_days(day, int(buffers[at])).toordinal()


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
    status = day_of(status_date) if status_date else clock.today_in(zone)
    return ":".join(
        [
            *(str(int(c)) for c in counts),
            str(day_of(start)),
            str(status),
            str(bool(retained)),
            str(day_of(deadline)) if deadline else "",
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
