"""The company calendar is read once per process and again only after it changed."""

from __future__ import annotations

from datetime import date

from tortoise.transactions import in_transaction

from server.planning import company_calendar, project_calendar
from server.planning.models import CalendarDay, CalendarEdition
from server.planning.scheduling import new_calendar_edition, working_calendar
from tests import factories as f
from tests.conftest import count_queries

THURSDAY = date(2026, 11, 5)
SATURDAY = date(2026, 11, 7)


def reads_company_rows(queries: list[str]) -> bool:
    return any("FROM calendar_day" in query or '"calendar_day"' in query for query in queries)


async def test_the_company_calendar_is_read_again_only_after_it_changed(db):
    await company_calendar.seed_company_calendar()
    pm = await f.user()
    project = await f.project(pm)
    admin = f.actor(await f.user(is_admin=True))
    assert (await working_calendar(project.id)).is_working_day(THURSDAY)

    with count_queries() as unchanged:
        calendar = await working_calendar(project.id)
    assert calendar.is_working_day(THURSDAY)
    assert not calendar.is_working_day(date(2026, 10, 1))  # National Day, from the rows
    assert unchanged.count == 1 and not reads_company_rows(unchanged.queries)

    await company_calendar.set_calendar_day(admin, day=THURSDAY, is_working=False, name="停电")
    assert not (await working_calendar(project.id)).is_working_day(THURSDAY)
    await company_calendar.remove_calendar_day(admin, day=THURSDAY)
    assert (await working_calendar(project.id)).is_working_day(THURSDAY)

    # What another process's change leaves in the database: the row and a new edition.
    async with in_transaction():
        await CalendarDay.create(day=THURSDAY, is_working=False, name="停电")
        await new_calendar_edition()
    with count_queries() as changed:
        assert not (await working_calendar(project.id)).is_working_day(THURSDAY)
    assert reads_company_rows(changed.queries)


async def test_a_projects_own_days_count_at_once_and_the_company_rows_stay_kept(db):
    await company_calendar.seed_company_calendar()
    pm = await f.user()
    project = await f.project(pm)
    other = await f.project(pm)
    await working_calendar(project.id)

    await project_calendar.set_project_calendar_day(
        f.actor(pm), project_id=project.id, day=SATURDAY, is_working=True, name="冲刺"
    )
    with count_queries() as queries:
        assert (await working_calendar(project.id)).is_working_day(SATURDAY)
    assert not reads_company_rows(queries.queries)
    assert not (await working_calendar(other.id)).is_working_day(SATURDAY)


async def test_a_database_without_an_edition_is_read_every_time(db):
    await company_calendar.seed_company_calendar()
    project = await f.project(await f.user())
    await CalendarEdition.all().delete()
    for _ in range(2):
        with count_queries() as queries:
            calendar = await working_calendar(project.id)
        assert reads_company_rows(queries.queries)
        assert not calendar.is_working_day(date(2026, 10, 1))
