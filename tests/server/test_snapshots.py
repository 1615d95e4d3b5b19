"""Plan-vs-actual figures, daily snapshots and the liaisons' digest."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from server.notices.models import Notice
from server.planning import service as planning
from server.planning.calendar import WorkingCalendar
from server.planning.models import Task
from server.progress import measures
from server.progress import service as progress
from server.progress.models import ProgressSnapshot
from server.projects.models import Role
from tests import factories as f
from tests.conftest import count_queries

MONDAY = date(2026, 11, 2)


def counter() -> measures.DayCounter:
    return measures.DayCounter(WorkingCalendar(), date(2026, 10, 1), date(2027, 3, 1))


@given(
    start=st.dates(min_value=date(2026, 10, 1), max_value=date(2026, 12, 31)),
    length=st.integers(min_value=0, max_value=40),
    offset=st.integers(min_value=-10, max_value=60),
)
def test_planned_fraction_grows_from_zero_to_one(start: date, length: int, offset: int) -> None:
    c = counter()
    finish = c.add(start, length)
    day = date.fromordinal(start.toordinal() + offset)
    fraction = measures.planned_fraction(c, start, finish, day)
    assert 0.0 <= fraction <= 1.0
    later = date.fromordinal(day.toordinal() + 1)
    assert measures.planned_fraction(c, start, finish, later) >= fraction
    if day >= finish:
        assert fraction == 1.0
    if day < start:
        assert fraction == 0.0


def test_day_counter_agrees_with_the_calendar() -> None:
    calendar = WorkingCalendar()
    c = measures.DayCounter(calendar, date(2026, 11, 1), date(2026, 11, 30))
    for start in (date(2026, 11, 2), date(2026, 11, 7), date(2026, 11, 13)):
        for finish in (date(2026, 11, 13), date(2026, 11, 20), date(2026, 12, 20)):
            assert c.between(start, finish) == calendar.duration_between(start, finish)
    assert c.late(date(2026, 11, 6), date(2026, 11, 11), False) == 3


def test_forecast_finish_follows_the_rate_so_far() -> None:
    c = counter()
    # Started Monday, 40% after 4 working days (Thursday): 6 more days → Friday week after.
    forecast = measures.forecast_finish(
        c, actual_start=MONDAY, percent_complete=40, today=date(2026, 11, 5), done=False
    )
    assert forecast == date(2026, 11, 13)
    assert (
        measures.forecast_finish(c, actual_start=None, percent_complete=0, today=MONDAY, done=False)
        is None
    )


async def project_with_tasks(count: int, code: str | None = None):
    pm = await f.user()
    project = await f.project(pm, code=code)
    for i in range(count):
        await planning.create_task(
            f.actor(pm),
            project_id=project.id,
            data=planning.TaskInput(
                name=f"任务{i}", planned_start=MONDAY, duration_days=5 + 5 * (i % 2)
            ),
        )
    return pm, project


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


async def test_figures_weigh_tasks_by_duration(db):
    pm, project = await project_with_tasks(2)
    short, long = await Task.filter(project_id=project.id).order_by("id")
    await Task.filter(id=short.id).update(percent_complete=100, status="DONE")
    measured = await progress.project_progress(project.id, project.time_zone, day=date(2026, 11, 6))
    # The 5-day task should be done (5 of 5), the 10-day one half done (5 of 10): 10/15.
    assert measured.figures.planned_percent == 66.7
    # Done: 5 of 15 weighted days.
    assert measured.figures.actual_percent == 33.3
    assert measured.figures.spi == 0.5
    assert measured.figures.late_tasks == 0
    later = await progress.project_progress(project.id, project.time_zone, day=date(2026, 11, 18))
    assert later.figures.late_tasks == 1
    assert later.critical_finish == date(2026, 11, 13)


async def test_a_rerun_the_same_day_replaces_the_snapshot(db):
    pm, project = await project_with_tasks(2)
    first = await progress.take_snapshots(now=at(date(2026, 11, 6)))
    assert first.projects == 1
    await Task.filter(project_id=project.id).update(percent_complete=50, status="IN_PROGRESS")
    await asyncio.gather(
        progress.take_snapshots(now=at(date(2026, 11, 6))),
        progress.take_snapshots(now=at(date(2026, 11, 6))),
    )
    rows = await ProgressSnapshot.filter(project_id=project.id)
    assert len(rows) == 1 and rows[0].actual_percent == 50.0
    await progress.take_snapshots(now=at(date(2026, 11, 9)))
    days = await ProgressSnapshot.filter(project_id=project.id).values_list("day", flat=True)
    assert sorted(days) == [date(2026, 11, 6), date(2026, 11, 9)]


async def test_the_snapshot_job_costs_the_same_queries_for_few_and_many_tasks(db):
    await project_with_tasks(2, code="SMALL")
    with count_queries() as small:
        await progress.take_snapshots(now=at(date(2026, 11, 6)))
    await ProgressSnapshot.all().delete()
    for n in range(4):
        await project_with_tasks(6, code=f"BIG{n}")
    with count_queries() as big:
        await progress.take_snapshots(now=at(date(2026, 11, 6)))
    assert small.count == big.count
    assert big.count <= 10
    assert await ProgressSnapshot.all().count() == 5


async def test_each_liaison_gets_one_digest_a_day(db):
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd])
    liaison = await f.user(name="李娜", dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    for name, days in (("样机测试", 5), ("小批试产", 12)):
        await planning.create_task(
            f.actor(pm),
            project_id=project.id,
            data=planning.TaskInput(
                name=name, planned_start=MONDAY, duration_days=days, department_id=rnd.id
            ),
        )
    wednesday_eight = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert await progress.queue_digests(now=wednesday_eight, only_at_hour=9) == 0
    assert await progress.queue_digests(now=wednesday_eight, only_at_hour=8) == 1
    assert await progress.queue_digests(now=wednesday_eight, only_at_hour=8) == 1  # deduped
    digests = await Notice.filter(recipient_id=liaison.id, dedup_key__startswith="digest:")
    assert len(digests) == 1
    body = digests[0].body
    late_part, _, stale_part = body.partition("已 2 个工作日未更新")
    assert "已逾期" in late_part and "样机测试" in late_part  # due 6 Nov
    assert "本周到期" not in body  # the other is due 17 Nov, next week
    assert "小批试产" in stale_part  # started 2 Nov, never updated
    assert "/my/tasks" in body
