"""The closing report's figures, measured from the project's record: the finish and the
milestones against the baseline in working days (the project's calendar, holidays and
make-up days included), SPI week by week, problems and escalations, meetings and minutes."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from server.changes.models import ChangeRequest, ChangeStatus
from server.i18n import translate
from server.meetings.models import Meeting, MeetingStatus
from server.planning import queries as planning_queries
from server.planning.calendar import WorkingCalendar
from server.planning.models import Baseline, Task, TaskStatus
from server.planning.scheduling import working_calendar
from server.progress.models import ProgressSnapshot
from server.progress.tracking import week_key
from server.risks.models import SEVERITY_LABELS, Escalation, Problem, Severity
from server.signoffs.content import GENERATED_SEPARATOR

SECONDS_PER_DAY = 86_400


def working_day_delta(calendar: WorkingCalendar, agreed: date, actual: date) -> int:
    """Working days `actual` lies after `agreed` (negative: before it), as a planner counts a
    slip: a finish one working day later is +1, whatever weekend or holiday lies between."""
    return calendar.working_days_between(agreed, actual)


def row(*cells: object) -> str:
    return GENERATED_SEPARATOR.join("" if c is None else str(c) for c in cells)


def signed(days: int | None) -> str:
    return "" if days is None else f"{days:+d}"


@dataclass(frozen=True)
class FinishFigures:
    baseline_finish: date | None
    actual_finish: date | None
    # The finish is a forecast while work is still open.
    forecast: bool
    delta: int | None


async def _latest_baseline(project_id: int) -> Baseline | None:
    return await Baseline.filter(project_id=project_id).order_by("-id").first()


async def finish_figures(project_id: int, calendar: WorkingCalendar) -> FinishFigures:
    baseline = await _latest_baseline(project_id)
    tasks = await Task.filter(project_id=project_id)
    agreed = None
    if baseline is not None:
        frozen = await planning_queries.baseline_dates(
            [t.id for t in tasks], baseline_id=baseline.id
        )
        agreed = max((row.finish for row in frozen.values()), default=None)
    open_ids = [t.id for t in tasks if t.actual_finish is None and t.status != TaskStatus.CANCELLED]
    actual = max((t.actual_finish for t in tasks if t.actual_finish), default=None)
    if open_ids:
        # The forecast as the schedule has it now (recomputed if progress moved on).
        schedules = await planning_queries.schedules_for(open_ids)
        forecasts = [s.early_finish for s in schedules.values()]
        actual = max([*forecasts, *([actual] if actual else [])], default=None)
    delta = working_day_delta(calendar, agreed, actual) if agreed and actual else None
    return FinishFigures(agreed, actual, bool(open_ids), delta)


async def milestone_rows(project_id: int, calendar: WorkingCalendar) -> list[str]:
    milestones = await Task.filter(project_id=project_id, is_milestone=True).order_by(
        "planned_start", "id"
    )
    baseline = await _latest_baseline(project_id)
    agreed: dict[int, date] = {}
    if baseline is not None:
        frozen = await planning_queries.baseline_dates(
            [m.id for m in milestones], baseline_id=baseline.id
        )
        agreed = {task_id: row.finish for task_id, row in frozen.items()}
    lines = []
    for m in milestones:
        planned = agreed.get(m.id) or m.planned_finish or m.planned_start
        actual = m.actual_finish
        delta = working_day_delta(calendar, planned, actual) if actual else None
        lines.append(
            row(m.name, planned.isoformat(), actual.isoformat() if actual else "", signed(delta))
        )
    return lines


async def spi_rows(project_id: int) -> list[str]:
    """The last SPI of each week the project was measured, oldest first."""
    snapshots = await ProgressSnapshot.filter(project_id=project_id, spi__isnull=False).order_by(
        "day"
    )
    weekly: dict[str, float] = {}
    for snapshot in snapshots:
        weekly[week_key(snapshot.day)] = float(snapshot.spi or 0)
    return [row(week, f"{spi:.2f}") for week, spi in weekly.items()]


async def problem_rows(project_id: int, language: str) -> list[str]:
    problems = await Problem.filter(project_id=project_id).values(
        "severity", "created_at", "resolved_at"
    )
    lines = []
    for severity in reversed(Severity):
        mine = [p for p in problems if p["severity"] == severity]
        if not mine:
            continue
        days = [
            (p["resolved_at"] - p["created_at"]).total_seconds() / SECONDS_PER_DAY
            for p in mine
            if p["resolved_at"] is not None
        ]
        median = f"{statistics.median(days):.1f}" if days else ""
        label = translate(language, SEVERITY_LABELS[severity])
        lines.append(row(label, len(mine), len(days), median))
    return lines


async def escalation_rows(project_id: int) -> list[str]:
    levels = Counter(await Escalation.filter(project_id=project_id).values_list("level", flat=True))
    return [row(level, levels[level]) for level in sorted(levels)]


async def meeting_rows(project_id: int) -> list[str]:
    meetings = await Meeting.filter(project_id=project_id, status=MeetingStatus.ENDED).values(
        "minutes_due_at", "minutes_published_at"
    )
    if not meetings:
        return []
    published = [m for m in meetings if m["minutes_published_at"] is not None]
    on_time = [
        m
        for m in published
        if m["minutes_due_at"] is None or m["minutes_published_at"] <= m["minutes_due_at"]
    ]
    percent = round(100 * len(on_time) / len(meetings))
    return [row(len(meetings), len(published), len(on_time), percent)]


async def change_rows(project_id: int) -> list[str]:
    """Changes approved and applied: how many, how far they moved the finish (each as its
    impact was computed when approved), and what they added to the cost."""
    applied = await ChangeRequest.filter(
        project_id=project_id, status=ChangeStatus.APPLIED
    ).values_list("impact", "cost_delta")
    moved = sum(int((impact or {}).get("deltaWorkingDays") or 0) for impact, _ in applied)
    cost = sum((Decimal(cost) for _, cost in applied), Decimal("0"))
    return [row(len(applied), signed(moved), f"{cost:.2f}")]


async def closing_figures(project_id: int, language: str) -> dict[str, list[str]]:
    """The generated sections of the closing report, each a list of table rows."""
    calendar = await working_calendar(project_id)
    finish = await finish_figures(project_id, calendar)
    actual = finish.actual_finish.isoformat() if finish.actual_finish else ""
    if actual and finish.forecast:
        actual = translate(language, "%(day)s (forecast, work still open)", day=actual)
    schedule = [
        row(
            finish.baseline_finish.isoformat() if finish.baseline_finish else "",
            actual,
            signed(finish.delta),
        )
    ]
    return {
        "scheduleFigures": schedule,
        "milestoneFigures": await milestone_rows(project_id, calendar),
        "spiSeries": await spi_rows(project_id),
        "changeFigures": await change_rows(project_id),
        "problemFigures": await problem_rows(project_id, language),
        "escalationFigures": await escalation_rows(project_id),
        "meetingFigures": await meeting_rows(project_id),
    }
