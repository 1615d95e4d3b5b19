"""The company's working calendar (holidays and make-up working days), kept by admins, and its
running working-day counts for arithmetic inside SQL."""

from __future__ import annotations

from datetime import date

from tortoise import connections
from tortoise.transactions import in_transaction

from server.audit.service import record
from server.auth import Action, Actor, authorize
from server.errors import NotFound
from server.planning.calendar import ONE_DAY, WorkingCalendar
from server.planning.models import (
    CalendarDay,
    WorkingDayCount,
)
from server.planning.scheduling import company_calendar_days as company_calendar_days
from server.planning.scheduling import new_calendar_edition
from server.planning.scheduling import reschedule as reschedule
from server.planning.scheduling import working_calendar as working_calendar
from server.projects.models import Project
from server.validation import Checks

# --- the company calendar ------------------------------------------------------------------


async def seed_company_calendar() -> int:
    """Load Chinese holidays and adjusted working weekends from chinese_calendar, once.

    Its data ends with the last announced year; admins enter later years by hand.
    """
    import chinese_calendar

    if await CalendarDay.exists():
        return 0
    rows = [
        CalendarDay(day=day, is_working=False, name=str(name or ""), source="chinese_calendar")
        for day, name in chinese_calendar.holidays.items()
        if day.weekday() < 5 or name
    ] + [
        CalendarDay(day=day, is_working=True, name=str(name or ""), source="chinese_calendar")
        for day, name in chinese_calendar.workdays.items()
        if day.weekday() >= 5
    ]
    async with in_transaction():
        await CalendarDay.bulk_create(rows, ignore_conflicts=True)
        await refresh_working_day_counts()
    return len(rows)


# --- the company calendar as running counts, for working-day arithmetic in SQL ------------

COUNTED_FROM = date(2000, 1, 1)
COUNTED_UNTIL = date(2099, 12, 31)
COUNTED_DAYS = (COUNTED_UNTIL - COUNTED_FROM).days + 1

# Current when it spans every day of the range and its listed days are exactly the company
# calendar's rows within that range, each with the same working flag.
WORKING_DAY_COUNTS_AGREE_SQL = """
SELECT (SELECT COUNT(*) FROM working_day_count),
       (SELECT COUNT(*) FROM working_day_count w WHERE w.listed),
       (SELECT COUNT(*) FROM calendar_day c
         WHERE c.day >= (SELECT MIN(day) FROM working_day_count)
           AND c.day <= (SELECT MAX(day) FROM working_day_count)),
       (SELECT COUNT(*) FROM calendar_day c JOIN working_day_count w ON w.day = c.day
         WHERE w.listed
           AND w.count_through - w.count_before = CASE WHEN c.is_working THEN 1 ELSE 0 END)
"""


async def working_day_counts_are_current() -> bool:
    _, rows = await connections.get("default").execute_query(WORKING_DAY_COUNTS_AGREE_SQL)
    days, listed, calendar_days, agreeing = (int(value) for value in rows[0])
    return days == COUNTED_DAYS and listed == calendar_days == agreeing


async def refresh_working_day_counts() -> None:
    """Rewrite the running counts from the company calendar, and give it a new edition (every
    change to it ends here, in its transaction).

    An upsert of the whole range: two workers refreshing at once write the same rows.
    """
    company = await company_calendar_days()
    calendar = WorkingCalendar(company)
    listed = {row.day for row in company}
    rows = []
    count = 0
    day = COUNTED_FROM
    while day <= COUNTED_UNTIL:
        working = calendar.is_working_day(day)
        rows.append(
            WorkingDayCount(
                ordinal=day.toordinal(),
                day=day,
                count_before=count,
                count_through=count + working,
                listed=day in listed,
            )
        )
        count += working
        day += ONE_DAY
    await WorkingDayCount.bulk_create(
        rows,
        batch_size=5000,
        on_conflict=["ordinal"],
        update_fields=["day", "count_before", "count_through", "listed"],
    )
    await new_calendar_edition()


# --- editing the company calendar ----------------------------------------------------------


async def list_calendar_days(actor: Actor, *, year: int) -> list[CalendarDay]:
    return await CalendarDay.filter(day__gte=date(year, 1, 1), day__lte=date(year, 12, 31))


async def set_calendar_day(
    actor: Actor, *, day: date | str, is_working: bool, name: str = ""
) -> CalendarDay:
    """Enter or change one company calendar day (admins); every plan is rescheduled."""
    await authorize(actor, Action.ADMINISTER)
    checks = Checks()
    parsed = checks.day("day", day)
    name = checks.text("name", name, required=False, max_length=64)
    checks.done()
    assert parsed is not None
    async with in_transaction():
        row = await CalendarDay.get_or_none(day=parsed)
        before = {"is_working": row.is_working, "name": row.name} if row else None
        if row is None:
            row = await CalendarDay.create(day=parsed, is_working=is_working, name=name)
        else:
            row.is_working, row.name, row.source = is_working, name, "admin"
            await row.save()
        await record(
            actor,
            action="calendar.set",
            object_type="calendar_day",
            object_id=row.id,
            summary=f"{parsed.isoformat()} {name}",
            before=before,
            after={"is_working": is_working, "name": name},
        )
        await refresh_working_day_counts()
        for project in await Project.all().order_by("id").select_for_update():
            await reschedule(project)
    return row


async def remove_calendar_day(actor: Actor, *, day: date | str) -> None:
    await authorize(actor, Action.ADMINISTER)
    checks = Checks()
    parsed = checks.day("day", day)
    checks.done()
    async with in_transaction():
        row = await CalendarDay.get_or_none(day=parsed)
        if row is None:
            raise NotFound("No such calendar day.", field="day")
        await row.delete()
        await record(
            actor,
            action="calendar.remove",
            object_type="calendar_day",
            object_id=row.id,
            summary=str(parsed),
            before={"is_working": row.is_working, "name": row.name},
        )
        await refresh_working_day_counts()
        for project in await Project.all().order_by("id").select_for_update():
            await reschedule(project)
