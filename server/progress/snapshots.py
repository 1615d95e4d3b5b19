"""The nightly progress snapshots (the tracking chart's points), summed inside the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server import clock
from server.auth import Actor
from server.db import parallel_readers, read_side_by_side, upsert
from server.planning import baselines as planning_baselines
from server.planning import company_calendar as planning_company_calendar
from server.planning import scheduling as planning_scheduling
from server.planning.calendar import WorkingCalendar
from server.planning.models import (
    Baseline,
    ProjectCalendarDay,
    TaskStatus,
)
from server.planning.scheduling import refresh_schedules
from server.progress import measures
from server.progress.measuring import Measured, as_date, measure_projects
from server.progress.models import ProgressSnapshot
from server.projects.models import LIVE_STATUSES, Project
from server.risks.queries import open_high_counts


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
    "open_high_risks",
)


async def approve_plan(actor: Actor, *, project_id: int, name: str | None = None) -> Baseline:
    """The plan approved as a new baseline, and the project measured against it at once: the
    first point of the tracking chart is the day the plan was agreed, not the next night."""
    async with in_transaction():
        baseline = await planning_baselines.approve_plan(actor, project_id=project_id, name=name)
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
    now = now or clock.now()
    query = Project.filter(status__in=list(LIVE_STATUSES))
    if project_code:
        query = query.filter(code=project_code.upper())
    zones = await query.values_list("id", "time_zone")
    days = {pid: _local_day(zone, now) for pid, zone in zones}
    measured = await measure_in_sql(days)
    rest = {pid: day for pid, day in days.items() if pid not in measured}
    measured |= await measure_projects(rest, per_task=False)
    high_risks = await open_high_counts(list(measured))
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
            "open_high_risks": high_risks[m.project_id],
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
        self.critical_finish = _latest(self.critical_finish, as_date(row["critical_finish"]))
        self.latest_finish = _latest(self.latest_finish, as_date(row["latest_finish"]))
        self.unfinished = self.unfinished or bool(row["unfinished"])
        if row["most_remaining"] is not None:
            remaining = int(row["most_remaining"])
            self.most_remaining = max(self.most_remaining or 0, remaining)
        self.uncounted = self.uncounted or bool(row["uncounted"])


def _latest(a: date | None, b: date | None) -> date | None:
    return max(a, b) if a and b else a or b


async def measure_in_sql(project_days: dict[int, date]) -> dict[int, Measured]:
    """Snapshot figures summed in the database (SNAPSHOT_SUMS_SQL), no per-task measures.

    Projects with calendar exceptions of their own, or with a date beyond the counted
    range, are left out; the caller measures those in Python.
    """
    if not project_days:
        return {}
    await refresh_schedules(list(project_days))
    if not await planning_company_calendar.working_day_counts_are_current():
        await planning_company_calendar.refresh_working_day_counts()
    own_calendar: set[int] = {
        row["project_id"]
        for row in await ProjectCalendarDay.filter(project_id__in=list(project_days)).values(
            "project_id"
        )
    }
    counted = {
        pid: day
        for pid, day in project_days.items()
        if pid not in own_calendar
        and planning_company_calendar.COUNTED_FROM <= day <= planning_company_calendar.COUNTED_UNTIL
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
        WorkingCalendar(await planning_scheduling.company_calendar_days()),
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
