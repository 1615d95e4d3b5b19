"""Plan-vs-actual arithmetic, pure: planned %, actual %, SPI, forecast finish.

Weights are task durations in working days (a milestone weighs one day), so a long task
counts more than a short one; "planned %" at a day is the share of each task's baseline
working days that should be behind us by the end of that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from server.planning.calendar import WorkingCalendar


@dataclass(frozen=True)
class TaskFacts:
    task_id: int
    department_id: int | None
    planned_start: date
    planned_finish: date
    percent_complete: int
    done: bool
    actual_start: date | None = None


@dataclass
class ProgressFigures:
    planned_percent: float = 0.0
    actual_percent: float = 0.0
    spi: float | None = None
    late_tasks: int = 0
    late_by_department: dict[str, int] = field(default_factory=dict)


class DayCounter:
    """Working-day counts between dates in O(1): cumulative counts per calendar day.

    Built once per calendar for the span measured and widened, either way, when asked
    about a day outside it (an actual start before the plan began, a forecast beyond it),
    so a snapshot of 50,000 tasks costs list lookups, not calendar walks.
    """

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        self.calendar = calendar
        self._count_from(first.toordinal(), last.toordinal())

    def _count_from(self, first: int, last: int) -> None:
        self._before_first = first - 1
        self._cumulative = [0]  # [i]: working days in (first - 1, first - 1 + i]
        self._working: list[int] = []  # ordinals of the working days, in order
        self._grow_to(last)

    def _last(self) -> int:
        return self._before_first + len(self._cumulative) - 1

    def _grow_to(self, ordinal: int) -> None:
        current = self._last()
        while current < ordinal:
            current += 1
            if self.calendar.is_working_day(date.fromordinal(current)):
                self._working.append(current)
            self._cumulative.append(len(self._working))

    def _cover(self, *ordinals: int) -> None:
        """Make every ordinal countable; counts taken before this call may be rebased."""
        low, high = min(ordinals), max(ordinals)
        if low < self._before_first:
            self._count_from(low - 31, max(high, self._last()))
        elif high > self._last():
            self._grow_to(high)

    def _through(self, ordinal: int) -> int:
        return self._cumulative[ordinal - self._before_first]

    def between(self, start: date, finish: date) -> int:
        """Working days from start to finish, both included (0 when finish < start)."""
        before, last = start.toordinal() - 1, finish.toordinal()
        self._cover(before, last)
        return max(self._through(last) - self._through(before), 0)

    def add(self, day: date, count: int) -> date:
        """The working day `count` working days after `day` (day itself, or the next working
        day when it is not one, for 0)."""
        before = day.toordinal() - 1
        self._cover(before)
        position = self._through(before) + count
        while position >= len(self._working):
            self._grow_to(self._last() + 31)
        return date.fromordinal(self._working[position])

    def late(self, finish: date, today: date, done: bool) -> int:
        if done or today <= finish:
            return 0
        self._cover(finish.toordinal(), today.toordinal())
        return self._through(today.toordinal()) - self._through(finish.toordinal())


def planned_fraction(counter: DayCounter, start: date, finish: date, day: date) -> float:
    """How much of a task should be done by the end of `day` according to its plan."""
    span = counter.between(start, finish)
    return planned_working_days(counter, start, finish, day, span=span) / max(span, 1)


def figures(
    tasks: Iterable[TaskFacts],
    *,
    counter: DayCounter,
    day: date,
    late_after: dict[int, date] | None = None,
) -> ProgressFigures:
    """Planned and actual % weighted by duration, SPI = actual / planned, late tasks by department.

    `late_after` gives the date after which a task counts as late (its baseline finish);
    a task not in it is judged by its planned finish.
    """
    # Whole numbers only (working days, days × percent): the figures must not depend on the
    # order the tasks come in, which float sums did (45.2 against 45.3 in bench/snapshots.py).
    planned_days = done_days_percent = total_days = 0
    late_by_department: dict[str, int] = {}
    for task in tasks:
        span = counter.between(task.planned_start, task.planned_finish)
        weight = max(span, 1)
        total_days += weight
        planned_days += planned_working_days(
            counter, task.planned_start, task.planned_finish, day, span=span
        )
        done_days_percent += weight * (100 if task.done else task.percent_complete)
        due = (late_after or {}).get(task.task_id, task.planned_finish)
        if counter.late(due, day, task.done) > 0:
            key = str(task.department_id or 0)
            late_by_department[key] = late_by_department.get(key, 0) + 1
    return from_sums(
        total_days=total_days,
        planned_days=planned_days,
        done_days_percent=done_days_percent,
        late_by_department=late_by_department,
    )


def from_sums(
    *,
    total_days: int,
    planned_days: int,
    done_days_percent: int,
    late_by_department: dict[str, int],
) -> ProgressFigures:
    """The figures from whole-number sums over a project's tasks (made in Python or in SQL):
    total working days, working days planned by now, and days × percent complete."""
    result = ProgressFigures(
        late_tasks=sum(late_by_department.values()), late_by_department=late_by_department
    )
    if total_days:
        result.planned_percent = rounded_ratio(100 * planned_days, total_days, places=1)
        result.actual_percent = rounded_ratio(done_days_percent, total_days, places=1)
        if planned_days > 0:
            result.spi = rounded_ratio(done_days_percent, 100 * planned_days, places=2)
    return result


def planned_working_days(
    counter: DayCounter, start: date, finish: date, day: date, *, span: int | None = None
) -> int:
    """Working days of a task's span that its plan has done by the end of `day`
    (a task of no working days counts as one). `span`: start to finish, when known."""
    if span is None:
        span = counter.between(start, finish)
    if day < start:
        return 0
    if day >= finish or span <= 0:
        return max(span, 1)
    return min(counter.between(start, day), span)


def rounded_ratio(part: int, whole: int, *, places: int) -> float:
    """part / whole to `places` decimals, halves rounded up, in exact integer arithmetic."""
    scale: int = 10**places
    return ((2 * scale * part + whole) // (2 * whole)) / scale


def remaining_working_days(
    counter: DayCounter,
    *,
    actual_start: date | None,
    percent_complete: int,
    today: date,
    done: bool,
) -> int | None:
    """Working days a task still needs at the rate it has gone so far (None before it starts).

    Whole numbers: ceil((100 - p) × worked / p), as the snapshot SQL computes it too.
    """
    if done or actual_start is None or percent_complete <= 0 or today < actual_start:
        return None
    worked = max(counter.between(actual_start, today), 1)
    return -(-(100 - percent_complete) * worked // percent_complete)


def finish_after(counter: DayCounter, today: date, remaining: int) -> date:
    return today if remaining <= 0 else counter.add(today, remaining)


def forecast_finish(
    counter: DayCounter,
    *,
    actual_start: date | None,
    percent_complete: int,
    today: date,
    done: bool,
) -> date | None:
    """When the task will finish at the rate it has gone so far (None before it starts)."""
    remaining = remaining_working_days(
        counter,
        actual_start=actual_start,
        percent_complete=percent_complete,
        today=today,
        done=done,
    )
    return None if remaining is None else finish_after(counter, today, remaining)


def project_forecast(
    counter: DayCounter,
    day: date,
    *,
    latest_finish: date | None,
    unfinished: bool,
    most_remaining: int | None,
) -> date | None:
    """A project finishes with its last task: not before the latest scheduled finish, not in
    the past while work is open, not before the slowest started task's forecast."""
    candidates = [latest_finish] if latest_finish else []
    if unfinished:
        candidates.append(day)
    if most_remaining is not None:
        candidates.append(finish_after(counter, day, most_remaining))
    return max(candidates, default=None)
