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

    Built once per calendar for the span measured (it grows if asked beyond it), so a
    snapshot of 50,000 tasks costs list lookups, not calendar walks.
    """

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        self.calendar = calendar
        self._before_first = first.toordinal() - 1
        self._cumulative = [0]  # [i]: working days in (first - 1, first - 1 + i]
        self._working: list[int] = []  # ordinals of the working days, in order
        self._grow_to(last.toordinal())

    def _grow_to(self, ordinal: int) -> None:
        current = self._before_first + len(self._cumulative) - 1
        while current < ordinal:
            current += 1
            if self.calendar.is_working_day(date.fromordinal(current)):
                self._working.append(current)
            self._cumulative.append(len(self._working))

    def _through(self, ordinal: int) -> int:
        offset = ordinal - self._before_first
        if offset <= 0:
            return 0
        if offset >= len(self._cumulative):
            self._grow_to(ordinal)
        return self._cumulative[offset]

    def through(self, day: date) -> int:
        """Working days from the first day of the span through `day`, inclusive."""
        return self._through(day.toordinal())

    def between(self, start: date, finish: date) -> int:
        """Working days from start to finish, both included (0 when finish < start)."""
        return max(self._through(finish.toordinal()) - self._through(start.toordinal() - 1), 0)

    def add(self, day: date, count: int) -> date:
        """The working day `count` working days after `day` (day itself, or the next working
        day when it is not one, for 0)."""
        position = self._through(day.toordinal() - 1) + count
        while position >= len(self._working):
            self._grow_to(self._before_first + len(self._cumulative) + 31)
        return date.fromordinal(self._working[position])

    def late(self, finish: date, today: date, done: bool) -> int:
        if done or today <= finish:
            return 0
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
    result = ProgressFigures()
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
            result.late_tasks += 1
            key = str(task.department_id or 0)
            result.late_by_department[key] = result.late_by_department.get(key, 0) + 1
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


def forecast_finish(
    counter: DayCounter,
    *,
    actual_start: date | None,
    percent_complete: int,
    today: date,
    done: bool,
) -> date | None:
    """When the task will finish at the rate it has gone so far (None before it starts)."""
    if done or actual_start is None or percent_complete <= 0 or today < actual_start:
        return None
    worked = max(counter.between(actual_start, today), 1)
    per_day = percent_complete / worked
    remaining = (100 - percent_complete) / per_day
    whole_days = int(-(-remaining // 1))
    if whole_days <= 0:
        return today
    return counter.add(today, whole_days)
