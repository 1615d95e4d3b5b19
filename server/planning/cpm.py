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

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import NamedTuple

from server.planning.calendar import WorkingCalendar, WorkingDayIndex


class LinkType(StrEnum):
    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


_FS, _SS, _FF, _SF = 0, 1, 2, 3
_CODES = {LinkType.FS: _FS, LinkType.SS: _SS, LinkType.FF: _FF, LinkType.SF: _SF}
_NOT_STARTED, _STARTED, _DONE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class PlanTask:
    id: int
    duration: int
    not_before: date | None = None
    actual_start: date | None = None
    actual_finish: date | None = None
    percent_complete: int = 0
    # Working days still to go, when the owner said so (otherwise from the percentage).
    remaining: int | None = None


@dataclass(frozen=True, slots=True)
class Link:
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
class Schedule:
    start: date
    finish: date
    tasks: dict[int, TaskSchedule]
    # The chain that drives the finish, first task first, and the links between them.
    driving_path: list[int] = field(default_factory=list)
    driving_links: list[DrivingLink] = field(default_factory=list)

    @property
    def critical_path(self) -> list[int]:
        """The driving path: connected, in order, ending at the project finish."""
        return self.driving_path


class CycleError(ValueError):
    def __init__(self, cycle: list[int]) -> None:
        super().__init__(f"dependency cycle: {' -> '.join(map(str, cycle))}")
        self.cycle = cycle


def remaining_days(task: PlanTask) -> int:
    """What a started task still needs: as given, else duration × (1 − %), rounded up."""
    if task.remaining is not None:
        return max(task.remaining, 0)
    left = task.duration * (100 - min(max(task.percent_complete, 0), 100))
    return max(math.ceil(left / 100), 1 if task.duration and task.percent_complete < 100 else 0)


def topological_order(task_ids: Iterable[int], links: Sequence[Link]) -> list[int]:
    """Kahn's algorithm; raises CycleError naming one cycle's tasks."""
    ids = list(task_ids)
    position = {tid: i for i, tid in enumerate(ids)}
    order = _order(
        len(ids), [position[x.predecessor] for x in links], [position[x.successor] for x in links]
    )
    if len(order) < len(ids):
        raise _cycle_error(ids, links, order)
    return [ids[i] for i in order]


def _order(count: int, preds: list[int], succs: list[int]) -> list[int]:
    """Kahn's algorithm over positions; shorter than `count` when links make a cycle."""
    out_start, out_links = _grouped(count, preds)
    incoming = [0] * count
    for s in succs:
        incoming[s] += 1
    order = [i for i in range(count) if incoming[i] == 0]
    # The list grows while it is read: a queue without a deque.
    for i in order:
        for x in range(out_start[i], out_start[i + 1]):
            s = succs[out_links[x]]
            incoming[s] -= 1
            if incoming[s] == 0:
                order.append(s)
    return order


def _grouped(count: int, keys: list[int]) -> tuple[list[int], list[int]]:
    """Link numbers grouped by task (compressed rows): task v's links are
    links[start[v]:start[v + 1]]. Flat lists, not a list per task: 100,000 small lists
    kept alive cost more in garbage collection than the passes themselves."""
    start = [0] * (count + 1)
    for v in keys:
        start[v + 1] += 1
    for v in range(count):
        start[v + 1] += start[v]
    fill = start[:-1]
    links = [0] * len(keys)
    for k, v in enumerate(keys):
        links[fill[v]] = k
        fill[v] += 1
    return start, links


def _cycle_error(ids: list[int], links: Sequence[Link], ordered: list[int]) -> CycleError:
    done = set(ordered)
    stuck = {ids[i] for i in range(len(ids)) if i not in done}
    incoming_links: dict[int, list[int]] = {t: [] for t in stuck}
    for link in links:
        if link.successor in stuck and link.predecessor in stuck:
            incoming_links[link.successor].append(link.predecessor)
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
    """The plan as integer arrays: tasks by position, links by number, both in link order."""

    ids: list[int]
    preds: list[int]
    succs: list[int]
    kinds: list[int]
    lags: list[int]
    into_start: list[int]
    into_links: list[int]
    out_start: list[int]
    out_links: list[int]
    order: list[int]

    @classmethod
    def of(cls, tasks: Sequence[PlanTask], links: Sequence[Link]) -> _Network:
        ids = [t.id for t in tasks]
        position = {tid: i for i, tid in enumerate(ids)}
        preds = [position[x.predecessor] for x in links]
        succs = [position[x.successor] for x in links]
        order = _order(len(ids), preds, succs)
        if len(order) < len(ids):
            raise _cycle_error(ids, links, order)
        into_start, into_links = _grouped(len(ids), succs)
        out_start, out_links = _grouped(len(ids), preds)
        kinds = [_CODES[x.type] for x in links]
        lags = [x.lag for x in links]
        return cls(
            ids, preds, succs, kinds, lags, into_start, into_links, out_start, out_links, order
        )


@dataclass
class _Times:
    """Per task, in working-day indices: state, floor (start no earlier than), start, start
    of the remaining work, end, remaining days and late end."""

    state: list[int]
    floor: list[int]
    start: list[int]
    rstart: list[int]
    end: list[int]
    rem: list[int]
    late_end: list[int] = field(default_factory=list)
    anchor: int = 0


def schedule(
    tasks: Sequence[PlanTask],
    links: Sequence[Link],
    project_start: date,
    calendar: WorkingCalendar,
    options: Options | None = None,
) -> Schedule:
    options = options or Options()
    net = _Network.of(tasks, links)
    index = WorkingDayIndex(calendar, project_start, project_start)
    times = _progress(tasks, index, project_start, options)
    # Without a status date a started task stays where it started (the plan before progress
    # scheduling); its predecessors still measure against it.
    retained = options.retained_logic or options.status_date is None
    started_fixed = not options.retained_logic or options.status_date is None
    _forward(net, times, started_fixed)
    times.anchor = max(times.end, default=0)
    if options.deadline is not None:
        times.anchor = index.index_on_or_before(options.deadline) + 1
    _backward(net, times, retained)
    return _results(tasks, net, times, index, options, links)


def _forward(net: _Network, t: _Times, started_fixed: bool) -> None:
    """Each task's start (or a started task's remaining start) and end, in link order."""
    preds, kinds, lags = net.preds, net.kinds, net.lags
    into_start, into_links = net.into_start, net.into_links
    state, start, rstart, end, rem = t.state, t.start, t.rstart, t.end, t.rem
    for j in net.order:
        sj = state[j]
        if sj == _DONE or (sj == _STARTED and started_fixed):
            continue
        d = rem[j] if sj == _STARTED else end[j] - start[j]
        s = rstart[j] if sj == _STARTED else start[j]
        for x in range(into_start[j], into_start[j + 1]):
            k = into_links[x]
            i = preds[k]
            code = kinds[k]
            if code == _FS:
                b = end[i] + lags[k]
            elif code == _SS:
                if sj == _STARTED:
                    continue
                b = start[i] + lags[k]
            elif code == _FF:
                b = end[i] + lags[k] - d
            else:
                b = start[i] + lags[k] - d
            if b > s:
                s = b
        if sj == _STARTED:
            rstart[j] = s
        else:
            start[j] = s
        end[j] = s + d


def _backward(net: _Network, t: _Times, retained: bool) -> None:
    """Late ends; only links into unfinished successors constrain."""
    succs, kinds, lags = net.succs, net.kinds, net.lags
    out_start, out_links = net.out_start, net.out_links
    state, start, rstart, end = t.state, t.start, t.rstart, t.end
    anchor = t.anchor
    late_end = t.late_end = [anchor] * len(state)
    for i in reversed(net.order):
        si = state[i]
        if si == _DONE:
            late_end[i] = end[i]
            continue
        le = anchor
        di = end[i] - (rstart[i] if si == _STARTED else start[i])
        for x in range(out_start[i], out_start[i + 1]):
            k = out_links[x]
            m = succs[k]
            sm = state[m]
            if sm == _DONE or (sm == _STARTED and not retained):
                continue
            code = kinds[k]
            dm = end[m] - (rstart[m] if sm == _STARTED else start[m])
            if code == _FS:
                b = late_end[m] - dm - lags[k]
            elif code == _SS:
                if sm == _STARTED or si == _STARTED:
                    continue
                b = late_end[m] - dm - lags[k] + di
            elif code == _FF:
                b = late_end[m] - lags[k]
            else:
                if si == _STARTED:
                    continue
                b = late_end[m] - lags[k] + di
            if b < le:
                le = b
        late_end[i] = le


def _progress(
    tasks: Sequence[PlanTask], index: WorkingDayIndex, project_start: date, options: Options
) -> _Times:
    """Where each task stands before the links are applied."""
    n = len(tasks)
    t = _Times([_NOT_STARTED] * n, [0] * n, [0] * n, [0] * n, [0] * n, [0] * n)
    status = index.index_of(options.status_date) if options.status_date else None
    index_of = index.index_of
    for j, task in enumerate(tasks):
        first = (
            index_of(task.not_before) if task.not_before and task.not_before > project_start else 0
        )
        if task.actual_start is None and task.actual_finish is None:
            t.floor[j] = t.start[j] = first if status is None or status < first else status
            t.end[j] = t.start[j] + task.duration
            continue
        begun = index_of(task.actual_start or task.actual_finish)  # type: ignore[arg-type]
        t.start[j] = begun
        if status is None:
            # Without a status date a started task keeps its actual start and full duration.
            t.state[j] = _STARTED
            t.floor[j] = t.rstart[j] = begun
            t.rem[j] = task.duration
        elif task.actual_finish is not None or task.percent_complete >= 100:
            t.state[j] = _DONE
            finished = task.actual_finish or options.status_date
            assert finished is not None
            t.floor[j] = t.rstart[j] = max(index.index_on_or_before(finished) + 1, begun)
        else:
            t.state[j] = _STARTED
            t.rem[j] = remaining_days(task)
            t.floor[j] = t.rstart[j] = max(status, begun)
        t.end[j] = t.rstart[j] + t.rem[j]
    return t


def _relationship_floats(net: _Network, t: _Times) -> list[int]:
    """How far each link's predecessor may slip before the link moves its successor."""
    state, start, rstart, end = t.state, t.start, t.rstart, t.end
    floats = [0] * len(net.preds)
    links = zip(net.preds, net.succs, net.kinds, net.lags, strict=True)
    for k, (i, m, code, lag) in enumerate(links):
        if code == _FS:
            floats[k] = (rstart[m] if state[m] == _STARTED else start[m]) - (end[i] + lag)
        elif code == _SS:
            floats[k] = start[m] - (start[i] + lag)
        elif code == _FF:
            floats[k] = end[m] - (end[i] + lag)
        else:
            floats[k] = end[m] - (start[i] + lag)
    return floats


def _results(
    tasks: Sequence[PlanTask],
    net: _Network,
    t: _Times,
    index: WorkingDayIndex,
    options: Options,
    links: Sequence[Link],
) -> Schedule:
    slack = _relationship_floats(net, t)
    state, start, rstart, end, rem, late_end = t.state, t.start, t.rstart, t.end, t.rem, t.late_end
    ids, preds, succs, kinds = net.ids, net.preds, net.succs, net.kinds
    n = len(ids)
    # Per task, in one pass over the links: the smallest float of its links to unfinished
    # successors (its free float), and the predecessors that drive it.
    free = [t.anchor - end[j] for j in range(n)]
    has_successor = [False] * n
    driving: dict[int, list[int]] = {}  # positions of each task's driving predecessors
    for k in range(len(preds)):
        i, m = preds[k], succs[k]
        sm = state[m]
        if sm == _DONE:
            continue
        if has_successor[i]:
            if slack[k] < free[i]:
                free[i] = slack[k]
        else:
            has_successor[i], free[i] = True, slack[k]
        if slack[k] <= 0 and (kinds[k] != _SS or sm != _STARTED):
            driving.setdefault(m, []).append(i)
    shown = _milestone_days(tasks, net, t, driving)
    last_index = max([0, *end, *late_end]) + 1
    index.day_at(last_index)  # one extension, then plain list lookups
    days = index.days
    threshold = options.critical_threshold
    status_date = options.status_date
    result: dict[int, TaskSchedule] = {}
    for j, task in enumerate(tasks):
        sj = state[j]
        if sj == _DONE:
            first = task.actual_start or task.actual_finish or status_date
            last = task.actual_finish or status_date
            assert first is not None and last is not None
            result[task.id] = TaskSchedule(first, last, first, last, 0, 0, 0, True, False)
            continue
        total = late_end[j] - end[j]
        spare = free[j]
        spare = (spare if spare < total else total) if total >= 0 else total
        if spare < 0 <= total:
            spare = 0
        if task.duration == 0 and sj == _NOT_STARTED:
            early_day = _day(index, shown[j])
            # Shown as its early day is: after the work or milestone that pushed it, else on
            # the last day before its late index (or its own date when it has no float).
            late_at = late_end[j]
            if start[j] > t.floor[j]:
                late_at -= start[j] - shown[j]
            elif late_at > t.floor[j]:
                late_at -= 1
            late_day = _day(index, late_at)
            early_start, early_finish, late_start, late_finish = (
                early_day, early_day, late_day, late_day
            )  # fmt: skip
        else:
            first_index = rstart[j] if sj == _STARTED else start[j]
            late_first = late_end[j] - (end[j] - first_index)
            early_start = (
                task.actual_start
                if sj == _STARTED and task.actual_start
                else days[start[j] if start[j] > 0 else 0]
            )
            early_finish = days[end[j] - 1 if end[j] > 0 else 0]
            late_start = days[late_first] if late_first >= 0 else _day(index, late_first)
            late_finish = days[late_end[j] - 1] if late_end[j] > 0 else _day(index, late_end[j] - 1)
        result[task.id] = TaskSchedule(
            early_start,
            early_finish,
            late_start,
            late_finish,
            total,
            spare,
            rem[j] if sj == _STARTED else task.duration,
            False,
            total <= threshold,
            tuple(ids[i] for i in driving[j]) if j in driving else (),
        )
    shown_finish = [result[task.id].early_finish for task in tasks]
    path, path_links = _driving_path(net, t, slack, shown_finish)
    finish = max(shown_finish, default=index.day_at(0))
    return Schedule(
        start=index.day_at(0),
        finish=finish,
        tasks=result,
        driving_path=path,
        driving_links=[
            DrivingLink(ids[preds[k]], ids[succs[k]], links[k].type, net.lags[k])
            for k in path_links
        ],
    )


def _link_can_drive(code: int, successor_state: int) -> bool:
    return not (code == _SS and successor_state == _STARTED)


def _driving_path(
    net: _Network, t: _Times, slack: list[int], shown_finish: list[date]
) -> tuple[list[int], list[int]]:
    """From the unfinished task that ends last (by the day it shows, then the last in link
    order among equals), back
    along links of no relationship float; ties go to the predecessor that ends last, then to
    the lowest id."""
    ids, preds, kinds = net.ids, net.preds, net.kinds
    into_start, into_links = net.into_start, net.into_links
    state, end = t.state, t.end
    rank = [0] * len(ids)
    for position, j in enumerate(net.order):
        rank[j] = position
    open_tasks = [j for j in range(len(ids)) if state[j] != _DONE]
    if not open_tasks:
        return [], []
    current = max(open_tasks, key=lambda j: (end[j], shown_finish[j], rank[j]))
    path, path_links = [current], []
    while True:
        candidates = [
            k
            for k in into_links[into_start[current] : into_start[current + 1]]
            if slack[k] <= 0
            and state[preds[k]] != _DONE
            and _link_can_drive(kinds[k], state[current])
        ]
        if not candidates:
            break
        k = max(candidates, key=lambda k: (end[preds[k]], -ids[preds[k]]))
        path_links.append(k)
        current = preds[k]
        path.append(current)
    path.reverse()
    path_links.reverse()
    return [ids[j] for j in path], path_links


def _milestone_days(
    tasks: Sequence[PlanTask], net: _Network, t: _Times, driving: dict[int, list[int]]
) -> list[int]:
    """The working day each unstarted milestone shows, as MS Project does: on its own date,
    or — when work pushed it — on the last day of that work; a milestone pushed by another
    milestone keeps that one's way of showing (lags count in full)."""
    shown = list(t.start)
    for j in net.order:
        if tasks[j].duration or t.state[j] != _NOT_STARTED or t.start[j] <= t.floor[j]:
            continue
        offsets = [
            t.start[i] - shown[i] if tasks[i].duration == 0 and t.state[i] == _NOT_STARTED else 1
            for i in driving.get(j, ())
        ]
        shown[j] = t.start[j] - max(offsets, default=1)
    return shown


def _day(index: WorkingDayIndex, at: int) -> date:
    """The working day at an index; late dates behind a deadline may fall before the start."""
    if at >= 0:
        return index.day_at(at)
    return index.calendar.add_working_days(index.day_at(0), at)
