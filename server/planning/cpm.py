"""The critical path method over working days, with progress on a status date. Pure: no I/O,
O(V + E), integer arrays in topological order.

Times are indices of working days (see calendar.WorkingDayIndex) with half-open intervals:
a task occupies [start, start + duration). A dependency of type FS/SS/FF/SF with lag L
(negative = lead) constrains the successor j against the predecessor i:

    FS: start_j >= end_i + L        SS: start_j >= start_i + L
    FF: end_j   >= end_i + L        SF: end_j   >= start_i + L

Dates follow MS Project: finish dates are the inclusive last working day, an FS successor
with lag 0 starts the next working day, a milestone after a task shows that task's finish.

With a status date the schedule is what Primavera P6 computes on a data date:
- a finished task keeps its actual start and finish, and constrains nothing after it but
  through those dates;
- a started task keeps its actual start; its remaining working days (duration × (1 − %),
  rounded up, or the remaining duration given) start no earlier than the status date and,
  with retained logic, no earlier than its predecessors allow (FS, FF, SF: an SS link is
  met once the task has started); with progress override they ignore the predecessors;
- a task not started starts no earlier than the status date.
Total float is late finish − early finish; with a deadline the late dates count back from it,
so float turns negative when the forecast passes it. Finished tasks have no float.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from operator import attrgetter
from typing import Any, NamedTuple

import numpy as np

from server.planning import cpm_kernels as kernels
from server.planning.calendar import WorkingCalendar, WorkingDayIndex
from server.planning.cpm_kernels import DONE, NOT_STARTED, STARTED, Ints


class LinkType(StrEnum):
    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


_CODES = {"FS": kernels.FS, "SS": kernels.SS, "FF": kernels.FF, "SF": kernels.SF}
_TYPES = {code: LinkType(name) for name, code in _CODES.items()}


class PlanTask(NamedTuple):
    """One task as the scheduler sees it (a tuple: a plan's worth are made per edit)."""

    id: int
    duration: int
    not_before: date | None = None
    actual_start: date | None = None
    actual_finish: date | None = None
    percent_complete: int = 0
    # Working days still to go, when the owner said so (otherwise from the percentage).
    remaining: int | None = None


class Link(NamedTuple):
    predecessor: int
    successor: int
    type: LinkType = LinkType.FS
    lag: int = 0


class TaskSchedule(NamedTuple):
    """One task's computed dates and floats (a tuple: 100,000 of them are made at once)."""

    early_start: date
    early_finish: date
    late_start: date
    late_finish: date
    total_float: int
    free_float: int
    remaining_days: int = 0
    is_done: bool = False
    is_critical: bool = False
    # Predecessors whose link set this task's early dates (relationship free float 0).
    driving_predecessors: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class DrivingLink:
    predecessor: int
    successor: int
    type: LinkType
    lag: int


@dataclass
class ScheduleTable:
    """Every task's schedule as columns, in the order the tasks were given: days as ordinals
    (date.toordinal), flags as 0/1. What a caller comparing or storing thousands of rows
    reads instead of making a row object per task."""

    ids: Ints
    early_start: Ints
    early_finish: Ints
    late_start: Ints
    late_finish: Ints
    total_float: Ints
    free_float: Ints
    remaining_days: Ints
    is_done: Ints
    is_critical: Ints
    # Each task's driving predecessors' ids, in compressed rows: task j's are
    # driver_ids[driver_start[j]:driver_start[j + 1]], in link order.
    driver_start: Ints
    driver_ids: Ints

    @functools.cached_property
    def _drivers(self) -> tuple[list[int], list[int]]:
        return self.driver_start.tolist(), self.driver_ids.tolist()

    def driving_predecessors(self, j: int) -> tuple[int, ...]:
        start, ids = self._drivers
        return tuple(ids[start[j] : start[j + 1]])


@dataclass
class Schedule:
    start: date
    finish: date
    tasks: Mapping[int, TaskSchedule]
    # The chain that drives the finish, first task first, and the links between them.
    driving_path: list[int] = field(default_factory=list)
    driving_links: list[DrivingLink] = field(default_factory=list)
    table: ScheduleTable | None = None

    @property
    def critical_path(self) -> list[int]:
        """The driving path: connected, in order, ending at the project finish."""
        return self.driving_path


class CycleError(ValueError):
    def __init__(self, cycle: list[int]) -> None:
        super().__init__(f"dependency cycle: {' -> '.join(map(str, cycle))}")
        self.cycle = cycle


def topological_order(task_ids: Iterable[int], links: Sequence[Link]) -> list[int]:
    """Kahn's algorithm; raises CycleError naming one cycle's tasks."""
    ids = list(task_ids)
    position = {tid: i for i, tid in enumerate(ids)}
    net = _Network.of(
        ids, [position[x.predecessor] for x in links], [position[x.successor] for x in links]
    )
    if len(net.order) < len(ids):
        raise _cycle_error(ids, [(x.predecessor, x.successor) for x in links], net.order)
    return [ids[i] for i in net.order]


def _cycle_error(ids: list[int], pairs: Iterable[tuple[int, int]], ordered: Ints) -> CycleError:
    done = set(ordered.tolist())
    stuck = {ids[i] for i in range(len(ids)) if i not in done}
    incoming_links: dict[int, list[int]] = {t: [] for t in stuck}
    for predecessor, successor in pairs:
        if successor in stuck and predecessor in stuck:
            incoming_links[successor].append(predecessor)
    return CycleError(find_cycle(stuck, incoming_links))


def find_cycle(nodes: set[int], predecessors: dict[int, list[int]]) -> list[int]:
    """One cycle among the tasks Kahn's algorithm could not order, in link direction.

    Those tasks lie on a cycle or downstream of one, so each still has a predecessor
    among them: walking predecessors from any of them must come back round.
    """
    node = min(nodes)
    seen: dict[int, int] = {}
    path: list[int] = []
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = min(predecessors[node])
    cycle = [*path[seen[node] :], node]
    return cycle[::-1]


@dataclass(frozen=True)
class Options:
    status_date: date | None = None
    # False: progress override, a started task's remaining work ignores its predecessors.
    retained_logic: bool = True
    deadline: date | None = None
    critical_threshold: int = 0


@dataclass
class _Network:
    """The plan as integer arrays: tasks by position, links by number, grouped both ways."""

    preds: Ints
    succs: Ints
    into_start: Ints
    into_links: Ints
    out_start: Ints
    out_links: Ints
    order: Ints

    @classmethod
    def of(
        cls, ids: Sequence[int], preds: Sequence[int] | Ints, succs: Sequence[int] | Ints
    ) -> _Network:
        count = len(ids)
        pred_array = np.array(preds, np.int64)
        succ_array = np.array(succs, np.int64)
        into_start, into_links = kernels.grouped(count, succ_array)
        out_start, out_links = kernels.grouped(count, pred_array)
        order = kernels.topological(count, succ_array, out_start, out_links)
        return cls(pred_array, succ_array, into_start, into_links, out_start, out_links, order)


@dataclass(frozen=True)
class PlanColumns:
    """A plan as columns: tasks by position, links by number, naming tasks by id. Days are
    ordinals (0: none), `remaining` -1 where the owner gave no figure, link kinds coded."""

    ids: Ints
    durations: Ints
    not_before: Ints
    actual_start: Ints
    actual_finish: Ints
    percent: Ints
    remaining: Ints
    link_predecessors: Ints
    link_successors: Ints
    link_kinds: Ints
    link_lags: Ints

    @classmethod
    def of(cls, tasks: Sequence[PlanTask], links: Sequence[Link]) -> PlanColumns:
        return cls(
            _column(tasks, "id"),
            _column(tasks, "duration"),
            _coded(map(attrgetter("not_before"), tasks), _ordinal),
            _coded(map(attrgetter("actual_start"), tasks), _ordinal),
            _coded(map(attrgetter("actual_finish"), tasks), _ordinal),
            _column(tasks, "percent_complete"),
            _coded(map(attrgetter("remaining"), tasks), _given_days),
            _column(links, "predecessor"),
            _column(links, "successor"),
            _coded(map(attrgetter("type"), links), _CODES.__getitem__),
            _column(links, "lag"),
        )


def schedule(
    tasks: Sequence[PlanTask],
    links: Sequence[Link],
    project_start: date,
    calendar: WorkingCalendar,
    options: Options | None = None,
) -> Schedule:
    return schedule_columns(PlanColumns.of(tasks, links), project_start, calendar, options)


def schedule_columns(
    plan: PlanColumns,
    project_start: date,
    calendar: WorkingCalendar,
    options: Options | None = None,
) -> Schedule:
    options = options or Options()
    ids = plan.ids.tolist()
    net = _Network.of(
        ids, _positions(plan.ids, plan.link_predecessors),
        _positions(plan.ids, plan.link_successors),
    )  # fmt: skip
    if len(net.order) < len(ids):
        pairs = zip(plan.link_predecessors.tolist(), plan.link_successors.tolist(), strict=True)
        raise _cycle_error(ids, pairs, net.order)
    kinds, lags, durations = plan.link_kinds, plan.link_lags, plan.durations
    index = WorkingDayIndex(calendar, project_start, project_start)
    state, floor, start, rstart, end, rem = _progress(plan, index, project_start, options)
    # Without a status date a started task stays where it started (the plan before progress
    # scheduling); its predecessors still measure against it.
    retained = options.retained_logic or options.status_date is None
    started_fixed = not options.retained_logic or options.status_date is None
    kernels.forward(
        net.order, net.into_start, net.into_links, net.preds, kinds, lags,
        state, start, rstart, end, rem, started_fixed,
    )  # fmt: skip
    anchor = int(end.max()) if len(end) else 0
    if options.deadline is not None:
        anchor = index.index_on_or_before(options.deadline) + 1
    late_end = kernels.backward(
        net.order, net.out_start, net.out_links, net.succs, kinds, lags,
        state, start, rstart, end, anchor, retained,
    )  # fmt: skip
    slack, drives, free = kernels.link_floats(
        net.preds, net.succs, kinds, lags, state, start, rstart, end, anchor
    )
    shown = kernels.milestone_days(
        net.order, net.into_start, net.into_links, net.preds, drives, durations,
        state, floor, start,
    )  # fmt: skip
    unstarted_milestone = (durations == 0) & (state == NOT_STARTED)
    finish_shown = np.where(unstarted_milestone, shown, np.maximum(end - 1, 0))
    path, path_links = kernels.driving_path(
        plan.ids, net.order, net.into_start, net.into_links, net.preds, kinds,
        slack, state, end, finish_shown,
    )  # fmt: skip
    last_index = max(int(end.max(initial=0)), int(late_end.max(initial=0))) + 1
    index.day_at(last_index)  # one extension, then plain array lookups
    table = _table(
        plan, index, options, net, drives,
        state, floor, start, rstart, end, rem, late_end, free, shown,
    )  # fmt: skip
    return Schedule(
        start=index.day_at(0),
        finish=date.fromordinal(int(table.early_finish.max())) if ids else index.day_at(0),
        tasks=_Rows(table),
        driving_path=[ids[j] for j in path.tolist()],
        driving_links=[
            DrivingLink(
                ids[int(net.preds[k])],
                ids[int(net.succs[k])],
                _TYPES[int(kinds[k])],
                int(lags[k]),
            )
            for k in path_links.tolist()
        ],
        table=table,
    )


def _table(
    plan: PlanColumns,
    index: WorkingDayIndex,
    options: Options,
    net: _Network,
    drives: Ints,
    *arrays: Ints,
) -> ScheduleTable:
    """Every task's dates and floats from the passes' indices, as MS Project shows them."""
    state, floor, start, rstart, end, rem, late_end, free, shown = arrays
    days = np.fromiter(map(date.toordinal, index.days), np.int64, len(index.days))

    def ordinals(at: Ints) -> Ints:
        found = days[np.clip(at, 0, len(days) - 1)]
        for j in np.flatnonzero(at < 0).tolist():
            # Late dates behind a deadline may fall before the start.
            found[j] = _day(index, int(at[j])).toordinal()
        return found

    done = state == DONE
    total = late_end - end
    spare = np.where(total >= 0, np.minimum(free, total), total)
    spare = np.where((spare < 0) & (total >= 0), 0, spare)
    # An unstarted milestone shows on its early day (after the work or milestone that pushed
    # it), and late on the last day before its late index, or its own date with no float.
    milestone = (plan.durations == 0) & (state == NOT_STARTED)
    late_at = np.where(
        start > floor,
        late_end - (start - shown),
        np.where(late_end > floor, late_end - 1, late_end),
    )
    late_first = late_end - (end - np.where(state == STARTED, rstart, start))
    early_start = ordinals(np.where(milestone, shown, np.maximum(start, 0)))
    early_finish = ordinals(np.where(milestone, shown, np.maximum(end - 1, 0)))
    late_start = ordinals(np.where(milestone, late_at, late_first))
    late_finish = ordinals(np.where(milestone, late_at, late_end - 1))
    early_start = np.where(
        (state == STARTED) & (plan.actual_start > 0), plan.actual_start, early_start
    )
    # A finished task keeps its actual dates (the status date where one is missing).
    status = options.status_date.toordinal() if options.status_date else 0
    last = np.where(plan.actual_finish > 0, plan.actual_finish, status)
    first = np.where(plan.actual_start > 0, plan.actual_start, last)
    driving = np.flatnonzero(drives)
    by_successor = np.argsort(net.succs[driving], kind="stable")  # link order kept within
    counts = np.bincount(net.succs[driving], minlength=len(state))
    return ScheduleTable(
        ids=plan.ids,
        early_start=np.where(done, first, early_start),
        early_finish=np.where(done, last, early_finish),
        late_start=np.where(done, first, late_start),
        late_finish=np.where(done, last, late_finish),
        total_float=np.where(done, 0, total),
        free_float=np.where(done, 0, spare),
        remaining_days=np.where(done, 0, np.where(state == STARTED, rem, plan.durations)),
        is_done=done.astype(np.int64),
        is_critical=((~done) & (total <= options.critical_threshold)).astype(np.int64),
        driver_start=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        driver_ids=plan.ids[net.preds[driving][by_successor]],
    )


def _column(rows: Sequence[Any], name: str) -> Ints:
    return np.fromiter(map(attrgetter(name), rows), np.int64, len(rows))


def _coded(values: Iterable[Any], code: Callable[[Any], int]) -> Ints:
    """A column of few distinct values (days, link types, None), each coded once: a plan of
    100,000 tasks names a few hundred days."""
    items = list(values)
    table = {value: code(value) for value in set(items)}
    return np.fromiter(map(table.__getitem__, items), np.int64, len(items))


def _given_days(days: int | None) -> int:
    return -1 if days is None else max(days, 0)


def _ordinal(day: date | None) -> int:
    return day.toordinal() if day else 0


def _positions(ids: Ints, wanted: Ints) -> Ints:
    """Where each wanted task id stands among the tasks (KeyError for one not there)."""
    if len(ids) == 0:
        if len(wanted):
            raise KeyError(int(wanted[0]))
        return wanted
    low, high = int(ids.min()), int(ids.max())
    if high - low <= 4 * len(ids) + 1000:
        # Database ids are dense: a lookup table indexed by id.
        table = np.full(high - low + 1, -1, np.int64)
        table[ids - low] = np.arange(len(ids), dtype=np.int64)
        inside = (wanted >= low) & (wanted <= high)
        found = np.where(inside, table[np.clip(wanted - low, 0, high - low)], -1)
    else:
        order = np.argsort(ids, kind="stable")
        found = order[np.minimum(np.searchsorted(ids, wanted, sorter=order), len(ids) - 1)]
        found = np.where(ids[found] == wanted, found, -1)
    if len(found) and found.min() < 0:
        raise KeyError(int(wanted[found < 0][0]))
    return found


def _progress(
    plan: PlanColumns, index: WorkingDayIndex, project_start: date, options: Options
) -> tuple[Ints, Ints, Ints, Ints, Ints, Ints]:
    """Where each task stands before the links are applied, from its dates as indices."""
    status_date = options.status_date
    status_ordinal = status_date.toordinal() if status_date else 0
    not_before, actual_start, actual_finish = (
        plan.not_before, plan.actual_start, plan.actual_finish
    )  # fmt: skip
    began = np.where(actual_start > 0, actual_start, actual_finish)
    finished = np.where(actual_finish > 0, actual_finish, status_ordinal)
    done = (actual_finish > 0) | (plan.percent >= 100)
    latest = max(int(not_before.max(initial=0)), int(began.max(initial=0)), status_ordinal)
    if latest > project_start.toordinal():
        index.index_of(date.fromordinal(latest))  # the index reaches every day named here
    days = np.fromiter(map(date.toordinal, index.days), np.int64, len(index.days))
    first = np.where(not_before > project_start.toordinal(), np.searchsorted(days, not_before), 0)
    begun = np.where(began > 0, np.searchsorted(days, began), -1)
    after_finish = np.searchsorted(days, finished, side="right")
    return kernels.progress(
        plan.durations,
        first.astype(np.int64),
        begun.astype(np.int64),
        after_finish.astype(np.int64),
        done.astype(np.int64),
        plan.percent,
        plan.remaining,
        index.index_of(status_date) if status_date else -1,
    )


class _Rows(Mapping[int, TaskSchedule]):
    """Each task's schedule, made as it is asked for: the scheduler's answer is its table,
    and 100,000 rows of dates are built only by a caller that reads them all."""

    def __init__(self, table: ScheduleTable) -> None:
        self.table = table

    @functools.cached_property
    def position(self) -> dict[int, int]:
        return {tid: j for j, tid in enumerate(self.table.ids.tolist())}

    @functools.cached_property
    def columns(self) -> list[list[int]]:
        t = self.table
        return [
            a.tolist()
            for a in (
                t.early_start, t.early_finish, t.late_start, t.late_finish, t.total_float,
                t.free_float, t.remaining_days, t.is_done, t.is_critical,
            )
        ]  # fmt: skip

    def __len__(self) -> int:
        return len(self.table.ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self.position)

    def __getitem__(self, task_id: int) -> TaskSchedule:
        return self.row(self.position[task_id])

    def row(self, j: int) -> TaskSchedule:
        es, ef, ls, lf, total, free, left, done, critical = (c[j] for c in self.columns)
        return TaskSchedule(
            _from_ordinal(es),
            _from_ordinal(ef),
            _from_ordinal(ls),
            _from_ordinal(lf),
            total,
            free,
            left,
            bool(done),
            bool(critical),
            self.table.driving_predecessors(j),
        )


@functools.lru_cache(maxsize=8192)
def _from_ordinal(ordinal: int) -> date:
    return date.fromordinal(ordinal)


def _day(index: WorkingDayIndex, at: int) -> date:
    """The working day at an index; late dates behind a deadline may fall before the start."""
    if at >= 0:
        return index.days[at] if at < len(index.days) else index.day_at(at)
    return index.calendar.add_working_days(index.day_at(0), at)


def warm_up() -> None:
    """Load (or, the first time after an install, compile) the scheduler's loops, so the
    first edit after a process starts does not wait for them."""
    first = date(2026, 1, 5)
    schedule(
        [PlanTask(1, 2, first), PlanTask(2, 0, actual_start=first, percent_complete=50)],
        [Link(1, 2, LinkType.SS, 1)],
        first,
        WorkingCalendar(),
        Options(status_date=first, deadline=first),
    ).tasks[2]
