"""Working days across the 2025 and 2026 Spring Festival and National Day breaks."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
from hypothesis import given
from hypothesis import strategies as st

from server.planning.calendar import CalendarDay, WorkingCalendar, WorkingDayIndex


def company_rows() -> list[CalendarDay]:
    return [
        CalendarDay(day, False, str(name or "")) for day, name in chinese_calendar.holidays.items()
    ] + [
        CalendarDay(day, True, str(name or ""))
        for day, name in chinese_calendar.workdays.items()
        if day.weekday() >= 5
    ]


def company_calendar() -> WorkingCalendar:
    return WorkingCalendar(company_rows())


CAL_ROWS = company_rows()
CAL = WorkingCalendar(CAL_ROWS)


def test_national_day_2025_and_its_adjusted_working_weekends():
    assert CAL.is_working_day(date(2025, 9, 28))  # Sunday, worked (调休)
    assert not any(CAL.is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert CAL.is_working_day(date(2025, 10, 11))  # Saturday, worked
    # A 3-day task starting Tuesday 30 Sep runs 30 Sep, 9 Oct, 10 Oct.
    assert CAL.finish_for(date(2025, 9, 30), 3) == date(2025, 10, 10)
    assert CAL.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)


def test_spring_festival_2026():
    assert CAL.is_working_day(date(2026, 2, 14))  # Saturday, worked
    assert not any(CAL.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert CAL.on_or_after(date(2026, 2, 15)) == date(2026, 2, 24)
    assert CAL.finish_for(date(2026, 2, 13), 2) == date(2026, 2, 14)
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6


def test_spring_festival_2025_and_national_day_2026():
    assert [d for d in range(26, 32) if CAL.is_working_day(date(2025, 1, d))] == [26, 27]
    assert CAL.on_or_after(date(2025, 1, 28)) == date(2025, 2, 5)
    assert CAL.is_working_day(date(2026, 9, 20)) and CAL.is_working_day(date(2026, 10, 10))
    assert CAL.finish_for(date(2026, 9, 30), 2) == date(2026, 10, 8)


def test_ms_project_conventions():
    monday = date(2026, 11, 23)
    assert CAL.finish_for(monday, 1) == monday
    assert CAL.finish_for(monday, 5) == date(2026, 11, 27)
    assert CAL.finish_for(monday, 0) == monday
    assert CAL.finish_for(date(2026, 11, 28), 1) == date(2026, 11, 30)  # Saturday start moves


def test_a_year_without_holiday_rows_is_weekends_only_and_says_so():
    assert CAL.has_holidays_for(2026)
    assert not CAL.has_holidays_for(2027)
    assert CAL.is_working_day(date(2027, 10, 1))  # a Friday: nobody entered 2027 yet
    assert not CAL.is_working_day(date(2027, 10, 2))


def test_project_exceptions_override_the_company_calendar():
    project = WorkingCalendar(
        [CalendarDay(date(2026, 10, 1), False)],
        [CalendarDay(date(2026, 10, 1), True), CalendarDay(date(2026, 11, 25), False)],
    )
    assert project.is_working_day(date(2026, 10, 1))
    assert not project.is_working_day(date(2026, 11, 25))


days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))


@given(days, st.integers(min_value=-300, max_value=300))
def test_adding_working_days_lands_on_a_working_day_the_right_distance_away(day, count):
    result = CAL.add_working_days(day, count)
    assert CAL.is_working_day(result)
    start = CAL.on_or_after(day) if count >= 0 else CAL.on_or_before(day)
    assert CAL.working_days_between(start, result) == count


@given(days, st.integers(min_value=1, max_value=200))
def test_duration_between_inverts_finish_for(day, duration):
    start = CAL.on_or_after(day)
    assert CAL.duration_between(start, CAL.finish_for(start, duration)) == duration


@given(days, st.integers(min_value=0, max_value=400))
def test_the_index_numbers_working_days_in_order(day, offset):
    index = WorkingDayIndex(CAL, date(2025, 1, 1), date(2025, 3, 1))
    target = day + timedelta(days=offset)
    position = index.index_of(target)
    assert index.day_at(position) == max(CAL.on_or_after(target), index.days[0])


def test_days_late_counts_working_days_past_the_finish_only_while_not_done():
    from server.planning.calendar import days_late

    finish = date(2026, 9, 30)  # the last working day before National Day
    assert days_late(CAL, finish=finish, today=date(2026, 10, 7), done=False) == 0
    assert days_late(CAL, finish=finish, today=date(2026, 10, 9), done=False) == 2
    assert days_late(CAL, finish=finish, today=date(2026, 10, 9), done=True) == 0
    assert days_late(CAL, finish=finish, today=finish, done=False) == 0


exception_days = st.dictionaries(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)), st.booleans(), max_size=12
)


@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
    exception_days,
)
def test_working_days_between_counts_what_a_walk_over_the_days_counts(after, until, project):
    """Counted by arithmetic; checked day by day against the official calendar itself, with
    a project's own exceptions on top."""
    calendar = WorkingCalendar(
        CAL_ROWS, [CalendarDay(day, working) for day, working in project.items()]
    )

    def works(day: date) -> bool:
        return project[day] if day in project else chinese_calendar.is_workday(day)

    first, last = min(after, until), max(after, until)
    walked = sum(works(first + timedelta(days=i)) for i in range(1, (last - first).days + 1))
    assert calendar.working_days_between(after, until) == (walked if until >= after else -walked)
