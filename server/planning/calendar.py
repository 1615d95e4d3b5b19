"""Working-day arithmetic on a company calendar, with project exceptions. Pure: no I/O.

Monday to Friday are working days unless a row says otherwise: public holidays are rows
with is_working=False, adjusted working weekends (调休) rows with is_working=True. A project's
exceptions override the company's rows. Dates follow MS Project's convention: a task of
d working days starting on S finishes on the (d-1)-th working day after S, inclusive.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class CalendarDay:
    day: date
    is_working: bool
    name: str = ""


class WorkingCalendar:
    def __init__(
        self, company_days: Iterable[CalendarDay] = (), project_days: Iterable[CalendarDay] = ()
    ) -> None:
        company = list(company_days)
        # The project's exceptions in date order, as its plan page lists them.
        self.project_days = sorted(project_days, key=lambda row: row.day)
        self._known_years = frozenset(row.day.year for row in company if not row.is_working)
        self._overrides: dict[date, bool] = {row.day: row.is_working for row in company}
        self._overrides.update({row.day: row.is_working for row in self.project_days})
        self._names = {row.day: row.name for row in company if row.name}
        # Days whose working or not differs from Monday to Friday, with how each changes a
        # count (+1 a worked weekend, -1 a weekday holiday), summed in date order: counting
        # the working days of a span is then arithmetic, not a walk over its days.
        self._exception_days = sorted(
            day for day, working in self._overrides.items() if working != (day.weekday() < 5)
        )
        self._exception_sums = [0]
        for day in self._exception_days:
            self._exception_sums.append(
                self._exception_sums[-1] + (1 if day.weekday() >= 5 else -1)
            )

    def is_working_day(self, day: date) -> bool:
        override = self._overrides.get(day)
        if override is not None:
            return override
        return day.weekday() < 5

    def has_holidays_for(self, year: int) -> bool:
        """False for a year nobody entered holidays for: weekends only, the plan page says so."""
        return year in self._known_years

    def name_of(self, day: date) -> str:
        return self._names.get(day, "")

    def exceptions_between(self, first: date, last: date) -> list[tuple[date, bool]]:
        """The days from first to last whose working or not differs from a Monday-to-Friday
        week (holidays on weekdays, weekends worked instead), in order."""
        return sorted(
            (day, working)
            for day, working in self._overrides.items()
            if first <= day <= last and working != (day.weekday() < 5)
        )

    def on_or_after(self, day: date) -> date:
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def on_or_before(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= ONE_DAY
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """Move `count` working days from `day` (backwards when negative).

        A non-working `day` first moves to the next working day (the previous one when going
        backwards), so the result is always a working day.
        """
        step = ONE_DAY if count >= 0 else -ONE_DAY
        day = self.on_or_after(day) if count >= 0 else self.on_or_before(day)
        remaining = abs(count)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def finish_for(self, start: date, duration_days: int) -> date:
        """The inclusive last working day of a task; a milestone (0 days) finishes at its start."""
        first = self.on_or_after(start)
        return self.add_working_days(first, max(duration_days - 1, 0))

    def duration_between(self, start: date, finish: date) -> int:
        """Working days from start to finish, both included (what finish_for inverts)."""
        return self.working_days_between(start - ONE_DAY, finish)

    def working_days_between(self, after: date, until: date) -> int:
        """Working days d with after < d <= until; negative when until is before after."""
        if until < after:
            return -self.working_days_between(until, after)
        weekdays = _weekdays_through(until) - _weekdays_through(after)
        sums, days = self._exception_sums, self._exception_days
        return weekdays + sums[bisect_right(days, until)] - sums[bisect_right(days, after)]


def _weekdays_through(day: date) -> int:
    """Mondays to Fridays from 1 January of year 1 (a Monday) up to `day`, inclusive."""
    weeks, rest = divmod(day.toordinal(), 7)
    return 5 * weeks + min(rest, 5)


class WorkingDayIndex:
    """Working days of a span numbered 0, 1, 2…, so scheduling can add integers.

    Built once per schedule: index_of and day_at are O(log n) and O(1).
    """

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        first = calendar.on_or_after(first)
        self.days: list[date] = []
        day = first
        while day <= last or not self.days:
            if calendar.is_working_day(day):
                self.days.append(day)
            day += ONE_DAY
        self.calendar = calendar

    def _extend_to(self, index: int) -> None:
        day = self.days[-1]
        while len(self.days) <= index:
            day += ONE_DAY
            if self.calendar.is_working_day(day):
                self.days.append(day)

    def index_of(self, day: date) -> int:
        """The index of `day`, or of the next working day when `day` is not one.

        Days before the first one map to 0: nothing is scheduled before the project start.
        """
        if day > self.days[-1]:
            self._extend_to(len(self.days) + (day - self.days[-1]).days)
        return bisect_left(self.days, day)

    def index_on_or_before(self, day: date) -> int:
        if day > self.days[-1]:
            self.index_of(day)
        return bisect_right(self.days, day) - 1

    def day_at(self, index: int) -> date:
        if index < 0:
            raise ValueError("nothing is scheduled before the first day of the index")
        self._extend_to(index)
        return self.days[index]


def days_late(calendar: WorkingCalendar, *, finish: date, today: date, done: bool) -> int:
    """Working days past the finish a task owes while it is not done (0 when on time)."""
    if done or today <= finish:
        return 0
    return calendar.working_days_between(finish, today)


def forecast_days_late(
    calendar: WorkingCalendar, *, agreed: date, forecast: date, done: bool
) -> int:
    """Working days the scheduled finish lies past the agreed finish: a warning before the
    task is late, never counted as lateness (that waits for the day itself)."""
    if done or forecast <= agreed:
        return 0
    return calendar.working_days_between(agreed, forecast)
