"""The critical path method, on examples worked by hand and on random plans."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.planning.calendar import WorkingCalendar, WorkingDayIndex
from server.planning.cpm import CycleError, Link, LinkType, PlanTask, schedule, topological_order
from tests.server.planning.test_calendar import company_calendar

CAL = company_calendar()
MONDAY = date(2026, 11, 23)


def test_fs_chain_with_a_parallel_branch_has_float():
    tasks = [PlanTask(1, 3), PlanTask(2, 2), PlanTask(3, 1), PlanTask(4, 0)]
    links = [Link(1, 2), Link(2, 4), Link(1, 3), Link(3, 4)]
    result = schedule(tasks, links, MONDAY, CAL)
    one, two, three, end = (result.tasks[i] for i in (1, 2, 3, 4))
    assert (one.early_start, one.early_finish) == (MONDAY, date(2026, 11, 25))
    assert (two.early_start, two.early_finish) == (date(2026, 11, 26), date(2026, 11, 27))
    assert three.total_float == 1 and three.free_float == 1
    assert three.late_start == date(2026, 11, 27)
    assert end.early_start == end.early_finish == date(2026, 11, 27)  # milestone on the finish
    assert result.critical_path == [1, 2, 4]
    assert result.finish == date(2026, 11, 27)


def test_link_types_and_lags_follow_ms_project():
    tasks = [PlanTask(1, 2), PlanTask(2, 3), PlanTask(3, 1), PlanTask(4, 2), PlanTask(5, 1)]
    links = [
        Link(1, 2, LinkType.SS, 1),  # starts a day after 1 starts
        Link(1, 3, LinkType.FF, 0),  # finishes with 1
        Link(2, 4, LinkType.FS, -1),  # one day of lead
        Link(1, 5, LinkType.SF, 3),  # finishes before the third working day after 1 starts
    ]
    result = schedule(tasks, links, MONDAY, CAL)
    assert result.tasks[2].early_start == date(2026, 11, 24)
    assert result.tasks[3].early_finish == result.tasks[1].early_finish == date(2026, 11, 24)
    assert result.tasks[4].early_start == date(2026, 11, 26)  # 2 ends Thu 26, lead 1
    assert result.tasks[5].early_finish == date(2026, 11, 25)


def test_holidays_stretch_the_plan():
    tasks = [PlanTask(1, 3, not_before=date(2026, 9, 29)), PlanTask(2, 1)]
    result = schedule(tasks, [Link(1, 2)], date(2026, 9, 28), CAL)
    assert result.tasks[1].early_finish == date(2026, 10, 8)  # 29, 30 Sep, then 8 Oct
    assert result.tasks[2].early_start == date(2026, 10, 9)


def test_a_started_task_keeps_its_actual_start():
    tasks = [PlanTask(1, 2), PlanTask(2, 2, actual_start=MONDAY)]
    result = schedule(tasks, [Link(1, 2)], MONDAY, CAL)
    assert result.tasks[2].early_start == MONDAY
    # It started before its predecessor allows: the predecessor has negative float.
    assert result.tasks[1].total_float == -2
    assert result.critical_path == [1, 2]


def test_a_cycle_is_refused_naming_its_tasks():
    tasks = [PlanTask(i, 1) for i in (1, 2, 3, 4)]
    with pytest.raises(CycleError) as refused:
        schedule(tasks, [Link(1, 2), Link(2, 3), Link(3, 2), Link(3, 4)], MONDAY, CAL)
    assert set(refused.value.cycle) == {2, 3}


def test_a_cycle_upstream_of_the_first_task_is_named_in_link_order():
    tasks = [PlanTask(i, 1) for i in (1, 3, 4)]
    with pytest.raises(CycleError) as refused:
        schedule(tasks, [Link(3, 4), Link(4, 3), Link(4, 1)], MONDAY, CAL)
    assert refused.value.cycle in ([3, 4, 3], [4, 3, 4])


@given(
    edges=st.lists(
        st.tuples(st.integers(1, 8), st.integers(1, 8)).filter(lambda e: e[0] != e[1]),
        min_size=1,
        max_size=20,
        unique=True,
    )
)
def test_any_cycle_found_is_made_of_real_links(edges):
    links = [Link(p, s) for p, s in edges]
    try:
        topological_order(range(1, 9), links)
    except CycleError as refused:
        cycle = refused.cycle
        assert cycle[0] == cycle[-1] and len(cycle) >= 3
        assert all((a, b) in set(edges) for a, b in zip(cycle, cycle[1:], strict=False))


@st.composite
def plans(draw):
    count = draw(st.integers(min_value=1, max_value=25))
    tasks = [
        PlanTask(
            i,
            draw(st.integers(min_value=0, max_value=8)),
            not_before=draw(st.none() | st.dates(date(2026, 11, 1), date(2027, 1, 31))),
        )
        for i in range(count)
    ]
    links = []
    for successor in range(1, count):
        for predecessor in draw(st.sets(st.integers(0, successor - 1), max_size=3)):
            links.append(
                Link(
                    predecessor,
                    successor,
                    draw(st.sampled_from(list(LinkType))),
                    draw(st.integers(min_value=-2, max_value=3)),
                )
            )
    return tasks, links


@settings(max_examples=150, deadline=None)
@given(plans())
def test_early_and_late_dates_respect_every_link_and_float_is_consistent(plan):
    tasks, links = plan
    start = date(2026, 11, 2)
    result = schedule(tasks, links, start, CAL)
    index = WorkingDayIndex(CAL, start, start)

    def span(tid, which):
        t = result.tasks[tid]
        duration = next(x.duration for x in tasks if x.id == tid)
        first = index.index_of(getattr(t, f"{which}_start"))
        return first, first + duration

    for task in tasks:
        t = result.tasks[task.id]
        assert t.total_float >= 0
        assert 0 <= t.free_float <= t.total_float
        assert t.early_start >= start and t.early_start <= t.late_start
        assert CAL.is_working_day(t.early_start) and CAL.is_working_day(t.late_finish)
        if task.duration:
            assert CAL.duration_between(t.early_start, t.early_finish) == task.duration
    for link in links:
        if any(x.duration == 0 for x in tasks if x.id in (link.predecessor, link.successor)):
            continue  # milestone display dates shift by a day by convention
        p_s, p_e = span(link.predecessor, "early")
        s_s, s_e = span(link.successor, "early")
        bound = {"FS": (s_s, p_e), "SS": (s_s, p_s), "FF": (s_e, p_e), "SF": (s_e, p_s)}
        left, right = bound[link.type.value]
        assert left >= right + link.lag
    assert result.critical_path
    assert max(result.tasks[t].early_finish for t in result.critical_path) == result.finish


def test_weekends_only_calendar_works_too():
    plain = WorkingCalendar()
    result = schedule([PlanTask(1, 6)], [], date(2027, 9, 30), plain)
    assert result.tasks[1].early_finish == date(2027, 10, 7)
