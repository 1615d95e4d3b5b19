"""Scheduling with progress on a status date (Primavera P6's retained logic), checked against
an independent implementation written here: longest paths by repeated relaxation over a
working-day list of its own, on random plans across the 2026 Spring Festival and National Day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from server.planning.cpm import Link, LinkType, Options, PlanTask, schedule
from tests.server.planning.test_calendar import company_calendar

CAL = company_calendar()
START = date(2026, 1, 5)
WORKING_DAYS = [
    START + timedelta(days=n)
    for n in range(0, 900)
    if CAL.is_working_day(START + timedelta(days=n))
]


def idx(day: date) -> int:
    """Position of the working day on or after `day` (0 for anything before the start)."""
    return next(i for i, d in enumerate(WORKING_DAYS) if d >= day)


def idx_before(day: date) -> int:
    return max(i for i, d in enumerate(WORKING_DAYS) if d <= day)


@dataclass
class Oracle:
    early: dict[int, tuple[int, int]]  # (start of remaining work or of the task, end)
    shown_start: dict[int, int]
    late_end: dict[int, int]
    done: set[int]
    started: set[int]
    anchor: int


def oracle(tasks, links, status, retained=True, deadline=None) -> Oracle:
    """The rules of API.md and P6, applied until nothing moves (no topological order)."""
    s_idx = idx(status)
    by = {t.id: t for t in tasks}
    done = {t.id for t in tasks if t.actual_finish or t.percent_complete >= 100}
    started = {t.id for t in tasks if t.actual_start and t.id not in done}
    early: dict[int, tuple[int, int]] = {}
    shown: dict[int, int] = {}
    remaining: dict[int, int] = {}
    for t in tasks:
        if t.id in done:
            begin = idx(t.actual_start or t.actual_finish)
            end = max(idx_before(t.actual_finish or status) + 1, begin)
            early[t.id], shown[t.id] = (end, end), begin
        elif t.id in started:
            remaining[t.id] = max(math.ceil(t.duration * (100 - t.percent_complete) / 100), 1)
            begin = max(s_idx, idx(t.actual_start))
            early[t.id], shown[t.id] = (begin, begin + remaining[t.id]), idx(t.actual_start)
        else:
            floor = max(s_idx, idx(t.not_before) if t.not_before else 0)
            early[t.id] = (floor, floor + t.duration)
            shown[t.id] = floor

    def start_of(tid):
        return shown[tid] if tid in started or tid in done else early[tid][0]

    moved = True
    while moved:
        moved = False
        for link in links:
            j = link.successor
            if j in done or (j in started and not retained):
                continue
            i = link.predecessor
            first, end = early[j]
            length = end - first
            if link.type == LinkType.FS:
                wanted = early[i][1] + link.lag
            elif link.type == LinkType.SS:
                if j in started:
                    continue
                wanted = start_of(i) + link.lag
            elif link.type == LinkType.FF:
                wanted = early[i][1] + link.lag - length
            else:
                wanted = start_of(i) + link.lag - length
            if wanted > first:
                early[j] = (wanted, wanted + length)
                if j not in started:
                    shown[j] = wanted
                moved = True
    anchor = max(end for _, end in early.values())
    if deadline:
        anchor = idx_before(deadline) + 1
    late_end = {tid: (early[tid][1] if tid in done else anchor) for tid in by}
    moved = True
    while moved:
        moved = False
        for link in links:
            i, m = link.predecessor, link.successor
            if i in done or m in done or (m in started and not retained):
                continue
            length_m = early[m][1] - early[m][0]
            length_i = early[i][1] - early[i][0]
            if link.type == LinkType.FS:
                bound = late_end[m] - length_m - link.lag
            elif link.type == LinkType.SS:
                if m in started or i in started:
                    continue
                bound = late_end[m] - length_m - link.lag + length_i
            elif link.type == LinkType.FF:
                bound = late_end[m] - link.lag
            else:
                if i in started:
                    continue
                bound = late_end[m] - link.lag + length_i
            if bound < late_end[i]:
                late_end[i] = bound
                moved = True
    return Oracle(early, shown, late_end, done, started, anchor)


@st.composite
def progressed_plans(draw):
    count = draw(st.integers(min_value=1, max_value=14))
    status = draw(st.dates(date(2026, 2, 2), date(2026, 10, 20)))
    tasks = []
    for i in range(count):
        duration = draw(st.integers(min_value=0, max_value=8))
        state = draw(st.sampled_from(["new", "new", "started", "done"]))
        not_before = draw(st.none() | st.dates(START, date(2026, 11, 30)))
        if state == "new" or duration == 0:
            tasks.append(PlanTask(i, duration, not_before=not_before))
            continue
        began = draw(st.dates(START, status))
        if state == "started":
            percent = draw(st.integers(min_value=1, max_value=99))
            tasks.append(
                PlanTask(i, duration, not_before, actual_start=began, percent_complete=percent)
            )
        else:
            ended = draw(st.dates(began, status))
            tasks.append(
                PlanTask(i, duration, not_before, began, actual_finish=ended, percent_complete=100)
            )
    links = []
    for successor in range(1, count):
        for predecessor in draw(st.sets(st.integers(0, successor - 1), max_size=3)):
            kind = draw(st.sampled_from(list(LinkType)))
            links.append(Link(predecessor, successor, kind, draw(st.integers(-2, 3))))
    retained = draw(st.booleans())
    deadline = draw(st.none() | st.dates(date(2026, 3, 1), date(2026, 12, 31)))
    return tasks, links, status, retained, deadline


@settings(max_examples=300, deadline=None)
@given(progressed_plans())
def test_progress_scheduling_matches_an_independent_relaxation(plan):
    tasks, links, status, retained, deadline = plan
    options = Options(status_date=status, retained_logic=retained, deadline=deadline)
    result = schedule(tasks, links, START, CAL, options)
    expected = oracle(tasks, links, status, retained, deadline)
    for task in tasks:
        got = result.tasks[task.id]
        if task.id in expected.done:
            assert got.is_done and not got.is_critical
            assert (got.early_start, got.early_finish) == (
                task.actual_start or task.actual_finish,
                task.actual_finish,
            )
            continue
        first, end = expected.early[task.id]
        total = expected.late_end[task.id] - end
        assert got.total_float == total, task
        assert got.is_critical == (total <= 0)
        if task.duration == 0 and task.id not in expected.started:
            continue  # a milestone's shown day follows MS Project's convention (tested apart)
        if task.id not in expected.started:  # a started task shows its actual start as given
            assert got.early_start == WORKING_DAYS[expected.shown_start[task.id]], task
        assert got.early_finish == WORKING_DAYS[end - 1], task
        assert got.late_finish == WORKING_DAYS[expected.late_end[task.id] - 1], task
        assert got.early_finish >= got.early_start
        if task.id in expected.started:
            assert got.early_start == task.actual_start
            assert got.early_finish >= CAL.on_or_after(status)
        else:
            assert got.early_start >= CAL.on_or_after(status)
    assert_driving_path_is_a_path(result, tasks, links)


def assert_driving_path_is_a_path(result, tasks, links):
    path = result.driving_path
    open_tasks = [t for t in tasks if not result.tasks[t.id].is_done]
    if not open_tasks:
        assert path == []
        return
    assert path, "an unfinished plan has a driving path"
    last = result.tasks[path[-1]]
    assert last.early_finish == max(result.tasks[t.id].early_finish for t in open_tasks)
    pairs = {(x.predecessor, x.successor) for x in links}
    assert len(result.driving_links) == len(path) - 1
    for link, (a, b) in zip(result.driving_links, zip(path, path[1:], strict=False), strict=True):
        assert (link.predecessor, link.successor) == (a, b) and (a, b) in pairs
        assert a in result.tasks[b].driving_predecessors
    first = result.tasks[path[0]]
    assert not [p for p in first.driving_predecessors if not result.tasks[p].is_done]


# --- hand-worked: the table a planner would check ----------------------------------------

MONDAY = date(2026, 11, 30)


def table(result, ids):
    """task: (ES, EF, LS, LF, TF, FF, critical)."""
    return {
        i: (
            result.tasks[i].early_start,
            result.tasks[i].early_finish,
            result.tasks[i].late_start,
            result.tasks[i].late_finish,
            result.tasks[i].total_float,
            result.tasks[i].free_float,
            result.tasks[i].is_critical,
        )
        for i in ids
    }


def d(day: int, month: int = 12) -> date:
    return date(2026, month, day)


def test_a_finished_task_keeps_its_actual_dates_and_has_no_float():
    # 1 (5 d) finished early on Wed 2 Dec; 2 (3 d) follows; status date Fri 4 Dec.
    tasks = [
        PlanTask(1, 5, actual_start=MONDAY, actual_finish=d(2), percent_complete=100),
        PlanTask(2, 3),
    ]
    result = schedule(tasks, [Link(1, 2)], MONDAY, CAL, Options(status_date=d(4)))
    assert table(result, [1, 2]) == {
        1: (MONDAY, d(2), MONDAY, d(2), 0, 0, False),
        2: (d(4), d(8), d(4), d(8), 0, 0, True),  # not before the status date
    }
    assert result.driving_path == [2]


def test_out_of_sequence_progress_waits_for_the_predecessor_with_retained_logic():
    # 1 hardware (10 d) not started; 2 app testing (4 d) reported 50 % though 1 is unfinished.
    tasks = [PlanTask(1, 10), PlanTask(2, 4, actual_start=MONDAY, percent_complete=50)]
    retained = schedule(tasks, [Link(1, 2)], MONDAY, CAL, Options(status_date=d(2)))
    # Status Wed 2 Dec: 1 runs 2–15 Dec; 2's remaining 2 days follow it, 16–17 Dec.
    assert table(retained, [1, 2]) == {
        1: (d(2), d(15), d(2), d(15), 0, 0, True),
        2: (MONDAY, d(17), d(16), d(17), 0, 0, True),
    }
    assert retained.driving_path == [1, 2] and retained.tasks[2].remaining_days == 2
    override = schedule(
        tasks, [Link(1, 2)], MONDAY, CAL, Options(status_date=d(2), retained_logic=False)
    )
    # Progress override: the remaining work goes on from the status date regardless.
    assert table(override, [1, 2])[2][:2] == (MONDAY, d(3))
    assert override.finish == d(15)


def test_work_that_should_have_started_slips_the_forecast():
    tasks = [PlanTask(1, 3, not_before=d(2, 11)), PlanTask(2, 2)]
    result = schedule(tasks, [Link(1, 2)], d(2, 11), CAL, Options(status_date=d(1)))
    assert table(result, [1, 2]) == {
        1: (d(1), d(3), d(1), d(3), 0, 0, True),
        2: (d(4), d(7), d(4), d(7), 0, 0, True),
    }
    assert result.finish == d(7)


def test_a_deadline_turns_float_negative_when_the_forecast_passes_it():
    tasks = [PlanTask(1, 5), PlanTask(2, 5), PlanTask(3, 2)]
    links = [Link(1, 2), Link(1, 3)]
    result = schedule(tasks, links, MONDAY, CAL, Options(status_date=MONDAY, deadline=d(9)))
    # Forecast finish Fri 11 Dec, deadline Wed 9 Dec: two working days short.
    assert table(result, [1, 2, 3]) == {
        1: (MONDAY, d(4), d(26, 11), d(2), -2, -2, True),  # late start before the start
        2: (d(7), d(11), d(3), d(9), -2, -2, True),
        3: (d(7), d(8), d(8), d(9), 1, 1, False),
    }
    assert result.driving_path == [1, 2]
    assert [x.type for x in result.driving_links] == [LinkType.FS]


def test_the_critical_threshold_widens_what_counts_as_critical():
    tasks = [PlanTask(1, 5), PlanTask(2, 3)]
    plain = schedule(tasks, [], MONDAY, CAL, Options(status_date=MONDAY))
    wide = schedule(tasks, [], MONDAY, CAL, Options(status_date=MONDAY, critical_threshold=2))
    assert plain.tasks[2].total_float == 2 and not plain.tasks[2].is_critical
    assert wide.tasks[2].is_critical


def test_the_path_ends_at_the_day_shown_last_when_a_milestone_and_a_task_end_together():
    # Found by the property test: both end at the same index; the milestone shows a day later.
    tasks = [PlanTask(0, 0, not_before=d(24, 11)), PlanTask(1, 1, not_before=d(23, 11))]
    result = schedule(tasks, [], d(2, 11), CAL)
    assert result.finish == d(24, 11) and result.driving_path == [0]


def test_an_unlinked_milestone_may_wait_until_the_finish_and_not_a_day_more():
    tasks = [PlanTask(1, 5), PlanTask(2, 0)]
    result = schedule(tasks, [], MONDAY, CAL, Options(status_date=MONDAY))
    assert result.finish == d(4)
    assert (result.tasks[2].early_finish, result.tasks[2].late_finish) == (MONDAY, d(4))


def test_a_milestone_right_after_a_milestone_shows_the_same_day_early_and_late():
    tasks = [PlanTask(0, 0, not_before=d(1)), PlanTask(4, 0)]
    result = schedule(tasks, [Link(0, 4)], d(2, 11), CAL)
    after = result.tasks[4]
    assert after.early_start == after.late_start == after.late_finish == d(1)
