"""Plan-vs-actual figures, daily snapshots and the liaisons' digest."""

from __future__ import annotations

import asyncio
import math
import random
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from server.notices.models import Notice
from server.planning import company_calendar as planning_company_calendar
from server.planning import service as planning
from server.planning.calendar import CalendarDay as CalendarRow
from server.planning.calendar import WorkingCalendar
from server.planning.models import (
    Baseline,
    BaselineTask,
    CalendarDay,
    ProjectCalendarDay,
    Task,
)
from server.progress import digest, measures, measuring, snapshots
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


task_facts = st.builds(
    measures.TaskFacts,
    task_id=st.integers(min_value=1, max_value=10**6),
    department_id=st.sampled_from([None, 1, 2]),
    planned_start=st.dates(min_value=date(2026, 10, 1), max_value=date(2026, 12, 31)),
    planned_finish=st.dates(min_value=date(2026, 10, 1), max_value=date(2027, 2, 1)),
    percent_complete=st.integers(min_value=0, max_value=100),
    done=st.booleans(),
)


@given(tasks=st.lists(task_facts, min_size=1, max_size=30), data=st.data())
def test_figures_do_not_depend_on_the_order_of_tasks(tasks, data) -> None:
    day = date(2026, 11, 18)
    shuffled = data.draw(st.permutations(tasks))
    first = measures.figures(tasks, counter=counter(), day=day)
    again = measures.figures(shuffled, counter=counter(), day=day)
    assert (first.planned_percent, first.actual_percent, first.spi, first.late_tasks) == (
        again.planned_percent,
        again.actual_percent,
        again.spi,
        again.late_tasks,
    )
    assert 0 <= first.planned_percent <= 100 and 0 <= first.actual_percent <= 100


def test_figures_of_a_plan_in_reverse_order_are_the_same() -> None:
    # Float sums gave SPI 0.94 one way round and 0.93 the other for this plan.
    plan = [
        ((2026, 10, 16), (2026, 10, 20), 92),
        ((2026, 10, 3), (2026, 10, 8), 17),
        ((2026, 10, 11), (2026, 10, 21), 68),
        ((2026, 10, 14), (2026, 10, 31), 97),
        ((2026, 10, 22), (2026, 11, 29), 64),
        ((2026, 11, 23), (2026, 12, 9), 47),
    ]
    tasks = [
        measures.TaskFacts(n, None, date(*start), date(*finish), percent, False)
        for n, (start, finish, percent) in enumerate(plan, 1)
    ]
    day = date(2026, 11, 18)
    forward = measures.figures(tasks, counter=counter(), day=day)
    backward = measures.figures(tasks[::-1], counter=counter(), day=day)
    assert (forward.planned_percent, forward.actual_percent, forward.spi) == (70.6, 66.0, 0.94)
    assert (backward.planned_percent, backward.actual_percent, backward.spi) == (70.6, 66.0, 0.94)


@given(part=st.integers(min_value=0, max_value=10**7), whole=st.integers(1, 10**7))
def test_ratios_round_halves_up_exactly(part: int, whole: int) -> None:
    tenths = Fraction(part, whole) * 10
    expected = math.floor(tenths + Fraction(1, 2)) / 10
    assert measures.rounded_ratio(part, whole, places=1) == expected
    assert measures.rounded_ratio(4525, 100, places=1) == 45.3  # round(45.25, 1) gives 45.2


def test_day_counter_agrees_with_the_calendar() -> None:
    calendar = WorkingCalendar()
    c = measures.DayCounter(calendar, date(2026, 11, 1), date(2026, 11, 30))
    for start in (date(2026, 11, 2), date(2026, 11, 7), date(2026, 11, 13)):
        for finish in (date(2026, 11, 13), date(2026, 11, 20), date(2026, 12, 20)):
            assert c.between(start, finish) == calendar.duration_between(start, finish)
    assert c.late(date(2026, 11, 6), date(2026, 11, 11), False) == 3


HOLIDAYS = WorkingCalendar(
    [CalendarRow(date(2026, 10, 1) + timedelta(days=n), False, "国庆节") for n in range(8)]
    + [CalendarRow(date(2026, 10, 10), True, "调休")]
)


@given(
    first=st.dates(min_value=date(2026, 9, 1), max_value=date(2026, 12, 31)),
    start=st.dates(min_value=date(2026, 8, 1), max_value=date(2027, 3, 1)),
    length=st.integers(min_value=-5, max_value=90),
    count=st.integers(min_value=0, max_value=300),
)
def test_day_counter_counts_days_outside_its_first_span(first, start, length, count) -> None:
    # An actual start before the plan began was counted from the span's first day.
    c = measures.DayCounter(HOLIDAYS, first, first)
    finish = start + timedelta(days=length)
    expected = HOLIDAYS.duration_between(start, finish) if finish >= start else 0
    assert c.between(start, finish) == expected
    assert c.add(start, count) == HOLIDAYS.add_working_days(start, count)
    assert c.late(start, finish, False) == max(HOLIDAYS.working_days_between(start, finish), 0)


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
    measured = await measuring.project_progress(
        project.id, project.time_zone, day=date(2026, 11, 6)
    )
    # The 5-day task should be done (5 of 5), the 10-day one half done (5 of 10): 10/15.
    assert measured.figures.planned_percent == 66.7
    # Done: 5 of 15 weighted days.
    assert measured.figures.actual_percent == 33.3
    assert measured.figures.spi == 0.5
    assert measured.figures.late_tasks == 0
    later = await measuring.project_progress(project.id, project.time_zone, day=date(2026, 11, 18))
    assert later.figures.late_tasks == 1
    assert later.critical_finish == date(2026, 11, 13)


async def test_a_rerun_the_same_day_replaces_the_snapshot(db):
    pm, project = await project_with_tasks(2)
    first = await snapshots.take_snapshots(now=at(date(2026, 11, 6)))
    assert first.projects == 1
    await Task.filter(project_id=project.id).update(percent_complete=50, status="IN_PROGRESS")
    await asyncio.gather(
        snapshots.take_snapshots(now=at(date(2026, 11, 6))),
        snapshots.take_snapshots(now=at(date(2026, 11, 6))),
    )
    rows = await ProgressSnapshot.filter(project_id=project.id)
    assert len(rows) == 1 and rows[0].actual_percent == 50.0
    await snapshots.take_snapshots(now=at(date(2026, 11, 9)))
    days = await ProgressSnapshot.filter(project_id=project.id).values_list("day", flat=True)
    assert sorted(days) == [date(2026, 11, 6), date(2026, 11, 9)]


async def test_the_snapshot_job_costs_the_same_queries_for_few_and_many_tasks(db):
    # Four projects at least on both sides: the sums are dealt out over one statement per
    # core, at most four (server.db.parallel_readers).
    for n in range(4):
        await project_with_tasks(2, code=f"SMALL{n}")
    await snapshots.take_snapshots(now=at(date(2026, 11, 5)))  # counts the calendar if stale
    with count_queries() as small:
        await snapshots.take_snapshots(now=at(date(2026, 11, 6)))
    await ProgressSnapshot.all().delete()
    for n in range(4):
        await project_with_tasks(12, code=f"BIG{n}")
    with count_queries() as big:
        await snapshots.take_snapshots(now=at(date(2026, 11, 6)))
    assert small.count == big.count
    assert big.count <= 10
    assert await ProgressSnapshot.all().count() == 8


async def random_plans(rng: random.Random, projects: int) -> list[int]:
    """Projects with nested tasks, milestones, progress, actual starts, two departments,
    baselines that move some dates onto weekends, and one project with its own calendar."""
    departments = [await f.department(f"部门{n}") for n in range(2)]
    ids = []
    for p in range(projects):
        pm, project = await project_with_tasks(0)
        ids.append(project.id)
        actor = f.actor(pm)
        parents: list[int] = []
        for n in range(rng.randint(0, 9)):
            parent = rng.choice([None, None, None, *parents])
            task = await planning.create_task(
                actor,
                project_id=project.id,
                data=planning.TaskInput(
                    name=f"任务{n}",
                    planned_start=date(2026, 9, 20) + timedelta(days=rng.randint(0, 80)),
                    duration_days=rng.choice([0, 1, 2, 3, 5, 8, 13, 21]),
                    parent_id=parent,
                ),
            )
            if parent is None and rng.random() < 0.3:
                parents.append(task.id)
        for task in await Task.filter(project_id=project.id):
            percent = rng.choice([0, 0, 10, 33, 50, 67, 99, 100])
            done = percent == 100 and rng.random() < 0.8
            started = task.planned_start + timedelta(days=rng.randint(-5, 30))
            await Task.filter(id=task.id).update(
                percent_complete=percent,
                status="DONE" if done else ("IN_PROGRESS" if percent else "NOT_STARTED"),
                actual_start=started if percent or rng.random() < 0.3 else None,
                department_id=rng.choice([None, *[d.id for d in departments]]),
            )
        for version in range(rng.choice([0, 0, 1, 2])):
            baseline = await Baseline.create(project_id=project.id, name=f"基线{version}")
            for task in await Task.filter(project_id=project.id):
                if rng.random() < 0.7:
                    start = task.planned_start + timedelta(days=rng.randint(-6, 6))
                    finish = start + timedelta(days=rng.randint(0, 20))
                    await BaselineTask.create(
                        baseline=baseline, task_id=task.id, start=start, finish=finish
                    )
        if p == 0:
            await ProjectCalendarDay.create(
                project_id=project.id, day=date(2026, 11, 10), is_working=False, pair="x"
            )
    return ids


async def test_snapshot_sums_in_sql_agree_with_the_figures_in_python(db):
    await (
        planning_company_calendar.seed_company_calendar()
    )  # National Day and its working weekends included
    rng = random.Random(6)
    ids = await random_plans(rng, projects=14)
    # A weekday, a Saturday, a National Day holiday, the working Saturday after it, and the
    # Mid-Autumn holiday on a Sunday.
    days_measured = (
        date(2026, 11, 18),
        date(2026, 11, 21),
        date(2026, 10, 5),
        date(2026, 10, 10),
        date(2026, 9, 27),
    )
    for day in days_measured:
        days = dict.fromkeys(ids, day)
        in_sql = await snapshots.measure_in_sql(days)
        assert set(in_sql) == set(ids[1:])  # the project with its own calendar is left out
        for pid in ids:
            python = await measuring.project_progress(pid, "Asia/Shanghai", day=day)
            taken = in_sql.get(pid, python)
            assert (taken.figures, taken.critical_finish, taken.forecast_finish) == (
                python.figures,
                python.critical_finish,
                python.forecast_finish,
            ), (pid, day)
    figures = [(await measuring.project_progress(pid, "Asia/Shanghai")).figures for pid in ids]
    assert any(f.late_by_department for f in figures) and any(f.spi for f in figures)


async def test_the_job_recounts_a_company_calendar_changed_behind_its_back(db):
    await planning_company_calendar.seed_company_calendar()
    pm, project = await project_with_tasks(2)  # 2–6 Nov and 2–13 Nov
    day = date(2026, 11, 6)
    assert await planning_company_calendar.working_day_counts_are_current()
    # A holiday written straight into the table, as a data fix would: the counts are stale.
    await CalendarDay.create(day=date(2026, 11, 4), is_working=False, name="厂庆")
    assert not await planning_company_calendar.working_day_counts_are_current()
    await snapshots.take_snapshots(now=at(day))
    assert await planning_company_calendar.working_day_counts_are_current()
    row = await ProgressSnapshot.get(project_id=project.id)
    # 4 of 4 and 4 of 9 working days planned by Friday: 8 / 13 (10 / 15 without the holiday).
    assert row.planned_percent == 61.5
    python = await measuring.project_progress(project.id, project.time_zone, day=day)
    assert python.figures.planned_percent == 61.5
    # An admin's change through the service keeps the counts current by itself.
    admin = f.actor(await f.user(is_admin=True))
    await planning_company_calendar.set_calendar_day(admin, day=date(2026, 11, 5), is_working=False)
    assert await planning_company_calendar.working_day_counts_are_current()
    await planning_company_calendar.remove_calendar_day(admin, day=date(2026, 11, 5))
    assert await planning_company_calendar.working_day_counts_are_current()


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
    assert await digest.queue_digests(now=wednesday_eight, only_at_hour=9) == 0
    assert await digest.queue_digests(now=wednesday_eight, only_at_hour=8) == 1
    assert await digest.queue_digests(now=wednesday_eight, only_at_hour=8) == 1  # deduped
    digests = await Notice.filter(recipient_id=liaison.id, dedup_key__startswith="digest:")
    assert len(digests) == 1
    body = digests[0].body
    late_part, _, stale_part = body.partition("已 2 个工作日未更新")
    assert "已逾期" in late_part and "样机测试" in late_part  # due 6 Nov
    assert "本周到期" not in body  # the other is due 17 Nov, next week
    assert "小批试产" in stale_part  # started 2 Nov, never updated
    assert "/my/tasks" in body
