"""Progress reports on tasks: one request from a phone, kept as history, never overwriting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.transactions import in_transaction

from server import events
from server.audit.service import entry as audit_entry
from server.audit.service import record, snapshot
from server.auth import Action, Actor, Relation, authorize, may
from server.db import Statement, Write, parallel_readers, read_side_by_side, upsert, write_together
from server.errors import Conflict, Invalid, NotFound
from server.notices import service as notices
from server.org.models import User
from server.planning import service as planning
from server.planning.calendar import CalendarDay as CalendarRow
from server.planning.calendar import WorkingCalendar, days_late, forecast_days_late
from server.planning.models import (
    Baseline,
    ProjectCalendarDay,
    Task,
    TaskSchedule,
    TaskStatus,
)
from server.planning.scheduling import refresh_schedules
from server.progress import measures
from server.progress.models import ProgressSnapshot, TaskUpdate, TrackingNote
from server.projects.models import Project, ProjectMember, ProjectStatus, Role
from server.projects.service import get_project, visible_project_of_task
from server.risks import service as risks
from server.validation import Checks

TASK_FIELDS = [
    "percent_complete",
    "status",
    "actual_start",
    "actual_finish",
    "deliverable",
    "remaining_duration_days",
]


def _today(project: Project) -> date:
    return datetime.now(ZoneInfo(project.time_zone)).date()


@dataclass
class ProgressInput:
    task_id: int
    version: int
    percent_complete: int | str | None
    note: str = ""
    blocker: bool = False
    actual_finish: date | str | None = None
    deliverable: str | None = None
    # Working days the owner still needs (work in progress only); None: from the percentage.
    remaining_days: int | str | None = None


async def _authorize_report(actor: Actor, project: Project, task: Task) -> None:
    owns = task.owner_id is not None and task.owner_id == actor.user_id  # type: ignore[attr-defined]
    await authorize(
        actor,
        Action.REPORT_PROGRESS,
        project,
        department_id=task.department_id,  # type: ignore[attr-defined]
        relations=(Relation.TASK_OWNER,) if owns else (),
    )


def _checked(data: ProgressInput, today: date) -> tuple[int, str, date | None, int | None]:
    checks = Checks()
    percent = checks.whole_number("percentComplete", data.percent_complete, low=0, high=100)
    remaining = None
    if data.remaining_days not in (None, ""):
        remaining = checks.whole_number(
            "remainingDays", data.remaining_days, low=1, high=planning.MAX_DURATION
        )
        if percent is not None and not 0 < percent < 100:
            checks.fail(
                "remainingDays",
                "Days still needed apply only to work in progress (1–99 %).",
            )
    note = checks.text("note", data.note, required=False, max_length=2000, multiline=True)
    if data.deliverable is not None:
        data.deliverable = checks.text(
            "deliverable", data.deliverable, required=False, max_length=2000, multiline=True
        )
    finish = None
    if data.actual_finish not in (None, ""):
        finish = checks.day("actualFinish", data.actual_finish)
        if finish is not None and finish > today:
            checks.fail("actualFinish", "The actual finish cannot be in the future.")
    checks.done()
    return int(percent or 0), note, finish, remaining


async def report_progress(actor: Actor, data: ProgressInput) -> Task:
    # The busiest write of the day (every phone, every task): the lookup is two fixed
    # statements outside the transaction, and the transaction holds only the writes.
    project, task = await _task_to_report(actor, data.task_id)
    await _authorize_report(actor, project, task)
    today = _today(project)
    percent, note, finish, remaining = _checked(data, today)
    if data.version != task.version:
        raise await _stale(task)
    before = snapshot(task, TASK_FIELDS)
    started_now = _apply_progress(task, percent, finish, today, data.deliverable)
    task.remaining_duration_days = remaining
    writes = [
        # Saved only if nobody changed the task since it was read: one statement checks
        # the version and writes.
        Write.checked(
            SAVE_PROGRESS_IF_UNCHANGED,
            task.percent_complete,
            task.status.value,
            task.actual_start,
            task.actual_finish,
            task.deliverable,
            task.remaining_duration_days,
            task.id,
            data.version,
        ),
        Write.insert(
            TaskUpdate(
                task_id=task.id,
                author_id=actor.user_id,
                percent_complete=percent,
                note=note,
                blocker=data.blocker,
                actual_finish=task.actual_finish,
            )
        ),
        Write.insert(
            audit_entry(
                actor,
                action="task.progress",
                object_type="task",
                object_id=task.id,
                project_id=project.id,
                summary=f"{task.name} {percent}%",
                before=before,
                after=snapshot(task, TASK_FIELDS) | {"note": note, "blocker": data.blocker},
            )
        ),
    ]
    if not (data.blocker or started_now):
        # The everyday report: the three rows in one trip to the database.
        if not await write_together(writes):
            raise await _stale(task)
    else:
        async with in_transaction():
            if not await write_together(writes):
                raise await _stale(task)
            if data.blocker:
                await risks.open_problem_for_blocker(actor, project=project, task=task, note=note)
            if started_now:
                # A started task keeps its actual start in the schedule; the project row
                # is locked as for any plan change.
                locked = await Project.filter(id=project.id).select_for_update().get()
                await planning.reschedule(locked)
    await events.publish(
        "project",
        project.id,
        "task.progress",
        taskId=task.id,
        percentComplete=percent,
        blocker=data.blocker,
    )
    return task


def _apply_progress(
    task: Task, percent: int, finish: date | None, today: date, deliverable: str | None
) -> bool:
    """Set the task's progress fields and next version; True when this report starts it."""
    started_now = percent > 0 and task.actual_start is None
    if started_now:
        task.actual_start = min(finish or today, today)
    if percent == 100:
        task.actual_finish = finish or today
        task.status = TaskStatus.DONE
        if deliverable is not None and deliverable.strip():
            task.deliverable = deliverable.strip()[:2000]
    else:
        task.actual_finish = None
        task.status = TaskStatus.IN_PROGRESS if percent > 0 else TaskStatus.NOT_STARTED
    task.percent_complete = percent
    task.version += 1
    return started_now


async def _task_to_report(actor: Actor, task_id: int) -> tuple[Project, Task]:
    """The task and its project if the actor may see them; found with fixed statements."""
    project = await visible_project_of_task(actor, task_id=task_id)
    tasks = await TASK_BY_ID.fetch(task_id)
    if not tasks:
        raise NotFound("No such task.", field="taskId")
    return project, tasks[0]


TASK_BY_ID = Statement(Task, "SELECT * FROM task WHERE id = ?")
SAVE_PROGRESS_IF_UNCHANGED = Statement(
    Task,
    """
    UPDATE task SET percent_complete = ?, status = ?, actual_start = ?, actual_finish = ?,
                    deliverable = ?, remaining_duration_days = ?, version = version + 1
    WHERE id = ? AND version = ?
    """,
)


async def _stale(task: Task) -> Conflict:
    current = await Task.filter(id=task.id).values_list("version", flat=True)
    return Conflict(
        "Someone else changed this task in the meantime (now version %(version)s). "
        "Reload and try again.",
        field="version",
        version=current[0] if current else task.version,
    )


async def list_updates(task_ids: Sequence[int], *, limit: int = 50) -> dict[int, list[TaskUpdate]]:
    rows = (
        await TaskUpdate.filter(task_id__in=list(task_ids)).select_related("author").order_by("-id")
    )
    result: dict[int, list[TaskUpdate]] = {tid: [] for tid in task_ids}
    for row in rows:
        bucket = result[row.task_id]  # type: ignore[attr-defined]
        if len(bucket) < limit:
            bucket.append(row)
    return result


@dataclass
class MyTask:
    task: Task
    project: Project
    schedule: TaskSchedule | None
    days_late: int
    mine: bool
    due: date | None = None
    forecast: date | None = None
    # Working days the scheduled finish lies past the due date (a warning, not lateness).
    forecast_late: int = 0

    @property
    def forecast_slips(self) -> bool:
        """At the rate so far it will finish after it is due: warned, never escalated."""
        return bool(self.forecast and self.due and self.forecast > self.due)


async def my_tasks(actor: Actor) -> list[MyTask]:
    """Tasks I own, and for a liaison their department's, in active projects; late first."""
    if actor.user is None:
        return []
    liaison_of = await ProjectMember.filter(
        user_id=actor.user.id, role=Role.LIAISON, left_at__isnull=True
    ).values_list("project_id", "department_id")
    member_of = await ProjectMember.filter(user_id=actor.user.id, left_at__isnull=True).values_list(
        "project_id", flat=True
    )
    reached = [p for p in {int(str(pid)) for pid in member_of} if actor.reaches(p)]
    query = Task.filter(project_id__in=reached, owner_id=actor.user.id)
    tasks = {t.id: t for t in await query}
    for project_id, department_id in liaison_of:
        if not actor.reaches(project_id):
            continue
        for t in await Task.filter(project_id=project_id, department_id=department_id):
            tasks[t.id] = t
    summaries = await Task.filter(parent_id__in=list(tasks)).values_list("parent_id", flat=True)
    parents = {int(str(pid)) for pid in summaries}
    tasks = {tid: t for tid, t in tasks.items() if tid not in parents}
    if not tasks:
        return []
    projects = {
        p.id: p
        for p in await Project.filter(
            id__in={t.project_id for t in tasks.values()},  # type: ignore[attr-defined]
            status__in=[ProjectStatus.PLANNING, ProjectStatus.ACTIVE],
        )
    }
    schedules = await planning.schedules_for(list(tasks))
    baselines = await planning.baseline_dates(list(tasks))
    calendars = {pid: await planning.working_calendar(pid) for pid in projects}
    counters = {
        pid: measures.DayCounter(calendar, projects[pid].start_date, _today(projects[pid]))
        for pid, calendar in calendars.items()
    }
    result = []
    for task in tasks.values():
        project = projects.get(task.project_id)  # type: ignore[attr-defined]
        if project is None:
            continue
        schedule = schedules.get(task.id)
        due = planning.agreed_finish(
            task.planned_start, task.planned_finish, baselines.get(task.id)
        )
        late = days_late(
            calendars[project.id],
            finish=due,
            today=_today(project),
            done=task.status == TaskStatus.DONE,
        )
        forecast = measures.forecast_finish(
            counters[project.id],
            actual_start=task.actual_start,
            percent_complete=task.percent_complete,
            today=_today(project),
            done=task.status == TaskStatus.DONE,
        )
        mine = task.owner_id == actor.user_id  # type: ignore[attr-defined]
        warned = (
            forecast_days_late(
                calendars[project.id], agreed=due, forecast=schedule.early_finish, done=False
            )
            if schedule is not None and not schedule.is_done
            else 0
        )
        result.append(MyTask(task, project, schedule, late, mine, due, forecast, warned))
    result.sort(
        key=lambda m: (
            m.task.status == TaskStatus.DONE,
            -m.days_late,
            m.schedule.early_finish if m.schedule else date.max,
            m.task.id,
        )
    )
    return result


# --- plan vs actual: figures, snapshots, the weekly tracking table --------------------------


@dataclass
class Measured:
    """One project's plan-vs-actual figures on one day, with its leaf tasks' facts."""

    project_id: int
    day: date
    figures: measures.ProgressFigures
    critical_finish: date | None
    forecast_finish: date | None
    tasks: list[TaskMeasure]


@dataclass
class TaskMeasure:
    task_id: int
    planned_percent: float
    actual_percent: int
    days_late: int
    forecast_finish: date | None
    due: date

    @property
    def variance(self) -> float:
        return round(self.actual_percent - self.planned_percent, 1)


# One statement for every task's plan, schedule and latest-baseline dates. Raw SQL because
# the ORM parses each date through a regular expression: at 50,000 tasks that alone took
# seconds; date.fromisoformat (SQLite) or the driver's own dates (PostgreSQL) take
# milliseconds. Only integers from our own queries are written into the statement.
PLAN_ROWS_SQL = """
SELECT t.id, t.project_id, t.parent_id, t.department_id, t.planned_start, t.planned_finish,
       t.percent_complete, t.status, t.actual_start,
       s.early_start, s.early_finish, s.is_critical,
       bt.start AS baseline_start, bt.finish AS baseline_finish
FROM task t
LEFT JOIN task_schedule s ON s.task_id = t.id
LEFT JOIN (SELECT project_id, MAX(id) AS id FROM baseline GROUP BY project_id) lb
       ON lb.project_id = t.project_id
LEFT JOIN baseline_task bt ON bt.baseline_id = lb.id AND bt.task_id = t.id
WHERE t.project_id IN ({ids})
"""
DATE_COLUMNS = (
    "planned_start",
    "planned_finish",
    "actual_start",
    "early_start",
    "early_finish",
    "baseline_start",
    "baseline_finish",
)


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


PLAN_COLUMNS = (
    "id",
    "project_id",
    "parent_id",
    "department_id",
    "planned_start",
    "planned_finish",
    "percent_complete",
    "status",
    "actual_start",
    "early_start",
    "early_finish",
    "is_critical",
    "baseline_start",
    "baseline_finish",
)
DATE_POSITIONS = tuple(PLAN_COLUMNS.index(c) for c in DATE_COLUMNS)


async def _plan_rows(project_ids: list[int]) -> list[dict[str, Any]]:
    sql = PLAN_ROWS_SQL.format(ids=", ".join(str(int(pid)) for pid in project_ids))
    _, rows = await connections.get("default").execute_query(sql)
    result = []
    # 50,000 tasks carry a few hundred distinct dates: each is parsed once.
    dates: dict[date | str | None, date | None] = {}
    for raw in rows:
        values = list(raw)
        for position in DATE_POSITIONS:
            value = values[position]
            parsed = dates.get(value)
            if parsed is None and value is not None:
                parsed = dates[value] = _as_date(value)
            values[position] = parsed
        row = dict(zip(PLAN_COLUMNS, values, strict=True))
        row["is_critical"] = bool(row["is_critical"])
        result.append(row)
    return result


class _Counters:
    """One DayCounter per distinct calendar: projects without exceptions share the company's."""

    def __init__(self, company: list[CalendarRow], exceptions: dict[int, list[CalendarRow]]):
        self.company = company
        self.exceptions = exceptions
        self._shared: measures.DayCounter | None = None
        self._own: dict[int, measures.DayCounter] = {}

    def for_project(self, project_id: int, first: date, last: date) -> measures.DayCounter:
        if project_id in self.exceptions:
            counter = self._own.get(project_id)
            if counter is None:
                calendar = WorkingCalendar(self.company, self.exceptions[project_id])
                counter = self._own[project_id] = measures.DayCounter(calendar, first, last)
            return counter
        if self._shared is None:
            self._shared = measures.DayCounter(WorkingCalendar(self.company), first, last)
        return self._shared


async def _measure(
    project_days: dict[int, date],
    *,
    reported: dict[int, int] | None = None,
    per_task: bool = True,
) -> dict[int, Measured]:
    """Figures for many projects at once in a fixed number of queries (set-based).

    `project_days` maps each project to the day to measure it on (its own local date).
    `reported` replaces tasks' current percent complete (a past week's tracking table uses
    the last progress reported by then). The snapshot job needs no `per_task` measures.
    """
    ids = list(project_days)
    if not ids:
        return {}
    await refresh_schedules(ids)
    tasks = await _plan_rows(ids)
    schedules = {row["id"]: row for row in tasks if row["early_finish"] is not None}
    baseline = {
        row["id"]: (row["baseline_start"], row["baseline_finish"])
        for row in tasks
        if row["baseline_finish"] is not None
    }
    company = await planning.company_calendar_days()
    exceptions: dict[int, list[CalendarRow]] = {}
    for pid, d, w in await ProjectCalendarDay.filter(project_id__in=ids).values_list(
        "project_id", "day", "is_working"
    ):
        exceptions.setdefault(pid, []).append(CalendarRow(d, bool(w)))
    parents = {row["parent_id"] for row in tasks if row["parent_id"] is not None}
    by_project: dict[int, list[dict[str, Any]]] = {pid: [] for pid in ids}
    first, last = date.max, min(project_days.values())
    for row in tasks:
        if row["id"] in parents:
            continue
        if reported is not None:
            percent = reported.get(row["id"], 0)
            row["percent_complete"] = percent
            row["status"] = TaskStatus.DONE if percent == 100 else TaskStatus.IN_PROGRESS
        # The agreed plan (planning.agreed_finish): the latest baseline, else as entered.
        start, finish = baseline.get(row["id"]) or (
            row["planned_start"],
            row["planned_finish"] or row["planned_start"],
        )
        row["plan"] = (start, finish)
        first, last = min(first, start), max(last, finish)
        by_project[row["project_id"]].append(row)
    counters = _Counters(company, exceptions)
    if first == date.max:
        first = last
    result = {}
    for pid, rows in by_project.items():
        counter = counters.for_project(pid, first, last)
        result[pid] = _measure_project(
            pid, project_days[pid], rows, schedules, counter, per_task=per_task
        )
    return result


def _measure_project(
    project_id: int,
    day: date,
    rows: list[dict[str, Any]],
    schedules: dict[int, dict[str, Any]],
    counter: measures.DayCounter,
    *,
    per_task: bool,
) -> Measured:
    facts = []
    task_measures = []
    critical_finish: date | None = None
    latest_finish: date | None = None
    most_remaining: int | None = None
    for row in rows:
        start, finish = row["plan"]
        done = row["status"] == TaskStatus.DONE
        facts.append(
            measures.TaskFacts(
                task_id=row["id"],
                department_id=row["department_id"],
                planned_start=start,
                planned_finish=finish,
                percent_complete=row["percent_complete"],
                done=done,
                actual_start=row["actual_start"],
            )
        )
        schedule = schedules.get(row["id"])
        early_finish = schedule["early_finish"] if schedule else finish
        if schedule:
            critical_finish = max(critical_finish or early_finish, early_finish)
        latest_finish = max(latest_finish or early_finish, early_finish)
        remaining = measures.remaining_working_days(
            counter,
            actual_start=row["actual_start"],
            percent_complete=row["percent_complete"],
            today=day,
            done=done,
        )
        if remaining is not None:
            most_remaining = remaining if most_remaining is None else max(most_remaining, remaining)
        if not per_task:
            continue
        task_measures.append(
            TaskMeasure(
                task_id=row["id"],
                planned_percent=round(
                    100 * measures.planned_fraction(counter, start, finish, day), 1
                ),
                actual_percent=100 if done else row["percent_complete"],
                days_late=counter.late(finish, day, done),
                forecast_finish=(
                    None if remaining is None else measures.finish_after(counter, day, remaining)
                ),
                due=finish,
            )
        )
    return Measured(
        project_id=project_id,
        day=day,
        figures=measures.figures(facts, counter=counter, day=day),
        critical_finish=critical_finish,
        forecast_finish=measures.project_forecast(
            counter,
            day,
            latest_finish=latest_finish,
            unfinished=any(not fact.done for fact in facts),
            most_remaining=most_remaining,
        ),
        tasks=task_measures,
    )


async def project_progress(project_id: int, time_zone: str, *, day: date | None = None) -> Measured:
    """A project's figures now (or at the end of `day`), for Project.progress and its pages."""
    today = datetime.now(ZoneInfo(time_zone)).date()
    measured = await _measure({project_id: day or today})
    return measured[project_id]


@dataclass
class SnapshotReport:
    projects: int
    statements: int = 0

    def __str__(self) -> str:
        return f"snapshots: {self.projects} projects measured"


def _local_day(zone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


SNAPSHOT_FIGURES = (
    "planned_percent",
    "actual_percent",
    "spi",
    "late_tasks",
    "late_by_department",
    "critical_finish",
    "forecast_finish",
)


async def approve_plan(actor: Actor, *, project_id: int, name: str | None = None) -> Baseline:
    """The plan approved as a new baseline, and the project measured against it at once: the
    first point of the tracking chart is the day the plan was agreed, not the next night."""
    async with in_transaction():
        baseline = await planning.approve_plan(actor, project_id=project_id, name=name)
        code = await Project.filter(id=project_id).values_list("code", flat=True)
        await take_snapshots(project_code=str(code[0]))
    return baseline


async def take_snapshots(
    *, project_code: str | None = None, now: datetime | None = None
) -> SnapshotReport:
    """One snapshot per live project for its local today; a rerun replaces that day's row.

    Set-based: the same handful of statements for one project or a thousand, and the write
    is a single upsert on the (project, day) slot, so two workers at once cannot add a row.
    """
    now = now or datetime.now(UTC)
    query = Project.filter(status__in=[ProjectStatus.PLANNING, ProjectStatus.ACTIVE])
    if project_code:
        query = query.filter(code=project_code.upper())
    zones = await query.values_list("id", "time_zone")
    days = {pid: _local_day(zone, now) for pid, zone in zones}
    measured = await _measure_in_sql(days)
    rest = {pid: day for pid, day in days.items() if pid not in measured}
    measured |= await _measure(rest, per_task=False)
    rows = [
        {
            "project_id": m.project_id,
            "day": m.day,
            "slot": f"{m.project_id}:{m.day.isoformat()}",
            "planned_percent": m.figures.planned_percent,
            "actual_percent": m.figures.actual_percent,
            "spi": m.figures.spi,
            "late_tasks": m.figures.late_tasks,
            "late_by_department": m.figures.late_by_department,
            "critical_finish": m.critical_finish,
            "forecast_finish": m.forecast_finish,
            "computed_at": now,
        }
        for m in measured.values()
    ]
    await upsert(ProgressSnapshot, rows, on="slot", update=[*SNAPSHOT_FIGURES, "computed_at"])
    return SnapshotReport(projects=len(rows))


# The sums behind a project's figures, per department, made inside the database: the same
# rules as _measure (leaf tasks; plan dates from the latest baseline, else the task as
# entered; measures.figures and measures.remaining_working_days), with working days
# counted by subtracting the company calendar's running counts. 50,000 tasks come back as
# a few thousand rows instead of being read one by one. Only integers we made ourselves are
# written into the statement. tests/server/test_snapshots.py holds it to the Python path.
SNAPSHOT_SUMS_SQL = """
WITH measured(project_id, day_ordinal) AS (VALUES {measured}),
latest_baseline AS (SELECT project_id, MAX(id) AS id FROM baseline GROUP BY project_id),
planned AS (
  SELECT t.project_id, t.department_id, t.percent_complete AS pct, t.actual_start,
         CASE WHEN t.status = '{done}' THEN 1 ELSE 0 END AS done,
         m.day_ordinal, d.count_through AS day_through,
         CASE WHEN bt.id IS NOT NULL THEN bt.start ELSE t.planned_start END AS start,
         CASE WHEN bt.id IS NOT NULL THEN bt.finish
              ELSE COALESCE(t.planned_finish, t.planned_start) END AS finish,
         s.early_finish AS scheduled_finish
  FROM measured m
  JOIN working_day_count d ON d.ordinal = m.day_ordinal
  JOIN task t ON t.project_id = m.project_id
  LEFT JOIN task_schedule s ON s.task_id = t.id
  LEFT JOIN latest_baseline lb ON lb.project_id = t.project_id
  LEFT JOIN baseline_task bt ON bt.baseline_id = lb.id AND bt.task_id = t.id
  WHERE NOT EXISTS (SELECT 1 FROM task child WHERE child.parent_id = t.id)
),
counted AS (
  SELECT p.project_id, p.department_id, p.done, p.pct, p.finish, p.scheduled_finish,
         p.day_ordinal, p.day_through,
         ws.ordinal AS start_ordinal, ws.count_before AS start_before,
         wf.ordinal AS finish_ordinal, wf.count_through AS finish_through,
         wa.ordinal AS actual_ordinal, wa.count_before AS actual_before,
         CASE WHEN wf.count_through - ws.count_before > 0
              THEN wf.count_through - ws.count_before ELSE 0 END AS span,
         CASE WHEN ws.ordinal IS NULL OR wf.ordinal IS NULL
                   OR (p.actual_start IS NOT NULL AND wa.ordinal IS NULL)
              THEN 1 ELSE 0 END AS uncounted
  FROM planned p
  LEFT JOIN working_day_count ws ON ws.day = p.start
  LEFT JOIN working_day_count wf ON wf.day = p.finish
  LEFT JOIN working_day_count wa ON wa.day = p.actual_start
),
weighed AS (
  SELECT c.*, CASE WHEN c.span > 1 THEN c.span ELSE 1 END AS weight FROM counted c
)
SELECT project_id, department_id,
  MAX(uncounted) AS uncounted,
  SUM(weight) AS total_days,
  SUM(CASE WHEN day_ordinal < start_ordinal THEN 0
           WHEN day_ordinal >= finish_ordinal OR span <= 0 THEN weight
           WHEN day_through - start_before < span THEN day_through - start_before
           ELSE span END) AS planned_days,
  SUM(weight * CASE WHEN done = 1 THEN 100 ELSE pct END) AS done_days_percent,
  SUM(CASE WHEN done = 0 AND day_ordinal > finish_ordinal AND day_through > finish_through
           THEN 1 ELSE 0 END) AS late_tasks,
  MAX(scheduled_finish) AS critical_finish,
  MAX(COALESCE(scheduled_finish, finish)) AS latest_finish,
  MAX(1 - done) AS unfinished,
  MAX(CASE WHEN done = 0 AND pct > 0 AND actual_ordinal <= day_ordinal
           THEN ((100 - pct)
                 * (CASE WHEN day_through - actual_before > 1
                         THEN day_through - actual_before ELSE 1 END)
                 + pct - 1) / pct
      END) AS most_remaining
FROM weighed
GROUP BY project_id, department_id
"""


@dataclass
class _Sums:
    total_days: int = 0
    planned_days: int = 0
    done_days_percent: int = 0
    late_by_department: dict[str, int] = field(default_factory=dict)
    critical_finish: date | None = None
    latest_finish: date | None = None
    unfinished: bool = False
    most_remaining: int | None = None
    uncounted: bool = False

    def add(self, row: Any) -> None:
        self.total_days += int(row["total_days"])
        self.planned_days += int(row["planned_days"])
        self.done_days_percent += int(row["done_days_percent"])
        if row["late_tasks"]:
            self.late_by_department[str(row["department_id"] or 0)] = int(row["late_tasks"])
        self.critical_finish = _latest(self.critical_finish, _as_date(row["critical_finish"]))
        self.latest_finish = _latest(self.latest_finish, _as_date(row["latest_finish"]))
        self.unfinished = self.unfinished or bool(row["unfinished"])
        if row["most_remaining"] is not None:
            remaining = int(row["most_remaining"])
            self.most_remaining = max(self.most_remaining or 0, remaining)
        self.uncounted = self.uncounted or bool(row["uncounted"])


def _latest(a: date | None, b: date | None) -> date | None:
    return max(a, b) if a and b else a or b


async def _measure_in_sql(project_days: dict[int, date]) -> dict[int, Measured]:
    """Snapshot figures summed in the database (SNAPSHOT_SUMS_SQL), no per-task measures.

    Projects with calendar exceptions of their own, or with a date beyond the counted
    range, are left out; the caller measures those in Python.
    """
    if not project_days:
        return {}
    await refresh_schedules(list(project_days))
    if not await planning.working_day_counts_are_current():
        await planning.refresh_working_day_counts()
    own_calendar: set[int] = {
        row["project_id"]
        for row in await ProjectCalendarDay.filter(project_id__in=list(project_days)).values(
            "project_id"
        )
    }
    counted = {
        pid: day
        for pid, day in project_days.items()
        if pid not in own_calendar and planning.COUNTED_FROM <= day <= planning.COUNTED_UNTIL
    }
    if not counted:
        return {}
    # Each project is summed whole by one statement; the projects are dealt out over as many
    # statements as there are cores, run side by side.
    projects, readers = sorted(counted), parallel_readers()
    parts = [projects[n::readers] for n in range(readers)]
    statements = [
        SNAPSHOT_SUMS_SQL.format(
            measured=", ".join(f"({int(pid)}, {counted[pid].toordinal()})" for pid in part),
            done=TaskStatus.DONE.value,
        )
        for part in parts
        if part
    ]
    sums = {pid: _Sums() for pid in counted}
    for rows in await read_side_by_side(statements):
        for row in rows:
            sums[row["project_id"]].add(row)
    counter = measures.DayCounter(
        WorkingCalendar(await planning.company_calendar_days()),
        min(counted.values()),
        max(counted.values()),
    )
    return {
        pid: Measured(
            project_id=pid,
            day=counted[pid],
            figures=measures.from_sums(
                total_days=total.total_days,
                planned_days=total.planned_days,
                done_days_percent=total.done_days_percent,
                late_by_department=total.late_by_department,
            ),
            critical_finish=total.critical_finish,
            forecast_finish=measures.project_forecast(
                counter,
                counted[pid],
                latest_finish=total.latest_finish,
                unfinished=total.unfinished,
                most_remaining=total.most_remaining,
            ),
            tasks=[],
        )
        for pid, total in sums.items()
        if not total.uncounted
    }


async def list_snapshots(project_id: int, *, limit: int = 120) -> list[ProgressSnapshot]:
    rows = await ProgressSnapshot.filter(project_id=project_id).order_by("-day").limit(limit)
    return list(reversed(rows))


# --- the liaisons' daily digest --------------------------------------------------------------


@dataclass
class DigestLine:
    task: Task
    project: Project
    due: date
    days_late: int


@dataclass
class Digest:
    due_this_week: list[DigestLine]
    late: list[DigestLine]
    not_updated: list[DigestLine]

    def __bool__(self) -> bool:
        return bool(self.due_this_week or self.late or self.not_updated)


STALE_AFTER_WORKING_DAYS = 2


async def queue_digests(*, now: datetime | None = None, only_at_hour: int | None = None) -> int:
    """One message per liaison: their departments' tasks due this week, late, and not updated
    for 2 working days. The cron passes only_at_hour (the digest hour in each liaison's own
    time zone, working days only); `job run digest` sends to everyone now. Once per local day."""
    now = now or datetime.now(UTC)
    calendar = WorkingCalendar(await planning.company_calendar_days())
    liaisons = await ProjectMember.filter(
        role=Role.LIAISON,
        left_at__isnull=True,
        project__status__in=[ProjectStatus.PLANNING, ProjectStatus.ACTIVE],
    ).select_related("user", "project")
    due_users: dict[int, tuple[User, date, list[ProjectMember]]] = {}
    for member in liaisons:
        local = now.astimezone(ZoneInfo(member.user.time_zone))
        if member.user.deactivated_at is not None:
            continue
        if only_at_hour is not None and (
            local.hour != only_at_hour or not calendar.is_working_day(local.date())
        ):
            continue
        due_users.setdefault(member.user.id, (member.user, local.date(), []))[2].append(member)
    if not due_users:
        return 0
    pairs = {
        (m.project_id, m.department_id)  # type: ignore[attr-defined]
        for _, _, members in due_users.values()
        for m in members
    }
    tasks = await Task.filter(
        project_id__in={p for p, _ in pairs}, status__not=TaskStatus.DONE
    ).order_by("id")
    parents = {
        int(str(pid))
        for pid in await Task.filter(
            project_id__in={p for p, _ in pairs}, parent_id__not_isnull=True
        ).values_list("parent_id", flat=True)
    }
    tasks = [t for t in tasks if t.id not in parents]
    ids = [t.id for t in tasks]
    schedules = await planning.schedules_for(ids)
    baselines = await planning.baseline_dates(ids)
    last_update: dict[int, datetime] = {}
    for task_id, created_at in await TaskUpdate.filter(task_id__in=ids).values_list(
        "task_id", "created_at"
    ):
        last_update[task_id] = max(last_update.get(task_id, created_at), created_at)
    queued = 0
    for user, today, members in due_users.values():
        projects = {m.project_id: m.project for m in members}  # type: ignore[attr-defined]
        mine = {(m.project_id, m.department_id) for m in members}  # type: ignore[attr-defined]
        digest = Digest([], [], [])
        week_end = today + timedelta(days=6 - today.weekday())
        for task in tasks:
            key = (task.project_id, task.department_id)  # type: ignore[attr-defined]
            if key not in mine:
                continue
            schedule = schedules.get(task.id)
            due = planning.agreed_finish(
                task.planned_start, task.planned_finish, baselines.get(task.id)
            )
            late = days_late(calendar, finish=due, today=today, done=False)
            line = DigestLine(task, projects[key[0]], due, late)
            if late > 0:
                digest.late.append(line)
            elif due <= week_end:
                digest.due_this_week.append(line)
            start = schedule.early_start if schedule else task.planned_start
            if start <= today:
                seen = last_update.get(task.id)
                seen_day = seen.astimezone(ZoneInfo(user.time_zone)).date() if seen else None
                quiet_since = seen_day or calendar.add_working_days(start, -1)
                if calendar.working_days_between(quiet_since, today) >= STALE_AFTER_WORKING_DAYS:
                    digest.not_updated.append(line)
        if not digest:
            continue
        await notices.queue_email(
            recipient=user,
            template="daily_digest",
            dedup_key=f"digest:{user.id}:{today.isoformat()}",
            digest=digest,
            today=today,
        )
        queued += 1
    return queued


# --- the weekly tracking table (项目进度跟踪表) ---------------------------------------------


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(key: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week written as 2026-W49."""
    try:
        year_text, _, week_text = key.partition("-W")
        monday = date.fromisocalendar(int(year_text), int(week_text), 1)
    except ValueError as error:
        raise Invalid("Write the week as 2026-W49.", field="week") from error
    return monday, monday + timedelta(days=6)


@dataclass
class TrackingRow:
    task: Task
    measure: TaskMeasure
    note: TrackingNote | None
    may_explain: bool


@dataclass
class TrackingTable:
    project: Project
    week: str
    monday: date
    sunday: date
    day: date
    measured: Measured
    rows: list[TrackingRow]
    snapshots: list[ProgressSnapshot]

    @property
    def late_rows(self) -> list[TrackingRow]:
        return [r for r in self.rows if r.measure.days_late > 0]


async def _reported_by(task_ids: list[int], until: datetime) -> dict[int, int]:
    """Each task's last reported percent at `until` (0 when nothing was reported yet)."""
    latest: dict[int, tuple[int, int]] = {}
    for update_id, task_id, percent in await TaskUpdate.filter(
        task_id__in=task_ids, created_at__lte=until
    ).values_list("id", "task_id", "percent_complete"):
        if task_id not in latest or update_id > latest[task_id][0]:
            latest[task_id] = (update_id, percent)
    return {task_id: percent for task_id, (_, percent) in latest.items()}


async def tracking_table(
    actor: Actor, *, project_id: int, week: str | None = None
) -> TrackingTable:
    """Plan vs actual per task for one week: at its Sunday, or today for the current week."""
    project = await get_project(actor, project_id=project_id)
    today = _today(project)
    key = week or week_key(today)
    monday, sunday = week_bounds(key)
    day = min(sunday, today)
    reported = None
    if sunday < today:
        zone = ZoneInfo(project.time_zone)
        until = datetime.combine(sunday + timedelta(days=1), datetime.min.time(), zone)
        ids = await Task.filter(project_id=project.id).values_list("id", flat=True)
        reported = await _reported_by([int(str(i)) for i in ids], until)
    measured = (await _measure({project.id: day}, reported=reported))[project.id]
    tasks = {t.id: t for t in await Task.filter(id__in=[m.task_id for m in measured.tasks])}
    await Task.fetch_for_list(list(tasks.values()), "owner", "department")
    notes = {
        n.task_id: n  # type: ignore[attr-defined]
        for n in await TrackingNote.filter(task_id__in=list(tasks), week=key)
    }
    editable = await _explainable_departments(actor, project)
    rows = [
        TrackingRow(
            task=tasks[m.task_id],
            measure=m,
            note=notes.get(m.task_id),
            may_explain=editable is None or tasks[m.task_id].department_id in editable,  # type: ignore[attr-defined]
        )
        for m in measured.tasks
    ]
    rows.sort(key=lambda r: (-r.measure.days_late, r.task.wbs_code, r.task.id))
    return TrackingTable(
        project=project,
        week=key,
        monday=monday,
        sunday=sunday,
        day=day,
        measured=measured,
        rows=rows,
        snapshots=await list_snapshots(project.id),
    )


async def _explainable_departments(actor: Actor, project: Project) -> set[int] | None:
    """Departments whose late tasks the actor explains (None: every department)."""
    if await may(actor, Action.APPROVE_PLAN, project):
        return None
    if actor.user is None:
        return set()
    return {
        int(str(d))
        for d in await ProjectMember.filter(
            project_id=project.id, user_id=actor.user.id, role=Role.LIAISON, left_at__isnull=True
        ).values_list("department_id", flat=True)
    }


async def explain_late_task(
    actor: Actor,
    *,
    task_id: int,
    week: str,
    cause: str,
    action: str,
    version: int | None,
    project_id: int | None = None,
) -> TrackingNote:
    """The liaison (or PM) writes why a task is late this week and what is being done.
    With `project_id`, a task of another project is not found."""
    task = await planning.get_task(actor, task_id=task_id)
    if project_id is not None and task.project_id != project_id:  # type: ignore[attr-defined]
        raise NotFound("No such task in this project.", field="taskId")
    week_bounds(week)
    async with in_transaction():
        project = await Project.filter(id=task.project_id).select_for_update().get()  # type: ignore[attr-defined]
        await authorize(actor, Action.EDIT_PLAN, project, department_id=task.department_id)  # type: ignore[attr-defined]
        checks = Checks()
        cause = checks.text("cause", cause, max_length=2000, multiline=True)
        action = checks.text("action", action, max_length=2000, multiline=True)
        checks.done()
        slot = f"{task.id}:{week}"
        note = await TrackingNote.filter(slot=slot).select_for_update().first()
        if note is None:
            if version not in (None, 0):
                raise Conflict(
                    "Someone else changed this in the meantime (now version %(version)s). "
                    "Reload and try again.",
                    field="version",
                    version=0,
                )
            note = await TrackingNote.create(
                task=task, week=week, slot=slot, cause=cause, action=action, author_id=actor.user_id
            )
        else:
            if version is not None and note.version != version:
                raise Conflict(
                    "Someone else changed this in the meantime (now version %(version)s). "
                    "Reload and try again.",
                    field="version",
                    version=note.version,
                )
            note.cause, note.action, note.author_id = cause, action, actor.user_id
            note.version += 1
            await note.save()
        await record(
            actor,
            action="task.explain",
            object_type="task",
            object_id=task.id,
            project_id=project.id,
            summary=f"{task.name} {week}",
            after={"cause": cause, "action": action},
        )
    return note
