"""Plan against actual per project and per task, measured set-based for many projects at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise import connections

from server import clock
from server.planning import scheduling as planning_scheduling
from server.planning.calendar import CalendarDay as CalendarRow
from server.planning.calendar import WorkingCalendar
from server.planning.models import (
    ProjectCalendarDay,
    TaskStatus,
)
from server.planning.scheduling import refresh_schedules
from server.progress import measures

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


def as_date(value: date | str | None) -> date | None:
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
                parsed = dates[value] = as_date(value)
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


async def measure_projects(
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
    company = await planning_scheduling.company_calendar_days()
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
        # The agreed plan (planning_queries.agreed_finish): the latest baseline, else as entered.
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
    today = clock.today_in(time_zone)
    measured = await measure_projects({project_id: day or today})
    return measured[project_id]
