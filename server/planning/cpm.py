"""The critical path method over working days. Pure: no I/O, O(V + E).

Times are indices of working days (see calendar.WorkingDayIndex) with half-open intervals:
a task occupies [start, start + duration). A dependency of type FS/SS/FF/SF with lag L
(negative = lead) constrains the successor j against the predecessor i:

    FS: start_j >= end_i + L        SS: start_j >= start_i + L
    FF: end_j   >= end_i + L        SF: end_j   >= start_i + L

Dates follow MS Project: finish dates are the inclusive last working day, an FS successor
with lag 0 starts the next working day, a milestone after a task shows that task's finish.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from server.planning.calendar import WorkingCalendar, WorkingDayIndex


class LinkType(StrEnum):
    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


@dataclass(frozen=True)
class PlanTask:
    id: int
    duration: int
    not_before: date | None = None
    actual_start: date | None = None


@dataclass(frozen=True)
class Link:
    predecessor: int
    successor: int
    type: LinkType = LinkType.FS
    lag: int = 0


@dataclass(frozen=True)
class TaskSchedule:
    early_start: date
    early_finish: date
    late_start: date
    late_finish: date
    total_float: int
    free_float: int

    @property
    def is_critical(self) -> bool:
        return self.total_float <= 0


@dataclass(frozen=True)
class Schedule:
    start: date
    finish: date
    tasks: dict[int, TaskSchedule]

    @property
    def critical_path(self) -> list[int]:
        """Every task of zero (or negative) total float, in early-start order."""
        critical = [tid for tid, t in self.tasks.items() if t.is_critical]
        return sorted(critical, key=lambda tid: (self.tasks[tid].early_start, tid))


class CycleError(ValueError):
    def __init__(self, cycle: list[int]) -> None:
        super().__init__(f"dependency cycle: {' -> '.join(map(str, cycle))}")
        self.cycle = cycle


def _start_bound(link: Link, pred_start: int, pred_end: int, duration: int) -> int:
    """The earliest start the link allows its successor."""
    if link.type == LinkType.FS:
        return pred_end + link.lag
    if link.type == LinkType.SS:
        return pred_start + link.lag
    if link.type == LinkType.FF:
        return pred_end + link.lag - duration
    return pred_start + link.lag - duration


def _end_bound(link: Link, succ_start: int, succ_end: int, duration: int) -> int:
    """The latest end the link allows its predecessor."""
    if link.type == LinkType.FS:
        return succ_start - link.lag
    if link.type == LinkType.SS:
        return succ_start - link.lag + duration
    if link.type == LinkType.FF:
        return succ_end - link.lag
    return succ_end - link.lag + duration


def _slack(link: Link, pred: tuple[int, int], succ: tuple[int, int]) -> int:
    """How far the predecessor may slip before this link delays the successor's early dates."""
    pred_start, pred_end = pred
    succ_start, succ_end = succ
    if link.type == LinkType.FS:
        return succ_start - (pred_end + link.lag)
    if link.type == LinkType.SS:
        return succ_start - (pred_start + link.lag)
    if link.type == LinkType.FF:
        return succ_end - (pred_end + link.lag)
    return succ_end - (pred_start + link.lag)


def topological_order(task_ids: Iterable[int], links: Sequence[Link]) -> list[int]:
    """Kahn's algorithm; raises CycleError naming one cycle's tasks."""
    ids = list(task_ids)
    incoming = {tid: 0 for tid in ids}
    outgoing: dict[int, list[int]] = {tid: [] for tid in ids}
    for link in links:
        outgoing[link.predecessor].append(link.successor)
        incoming[link.successor] += 1
    ready = deque(tid for tid in ids if incoming[tid] == 0)
    order: list[int] = []
    while ready:
        tid = ready.popleft()
        order.append(tid)
        for nxt in outgoing[tid]:
            incoming[nxt] -= 1
            if incoming[nxt] == 0:
                ready.append(nxt)
    if len(order) < len(ids):
        stuck = {t for t in ids if incoming[t] > 0}
        incoming_links: dict[int, list[int]] = {t: [] for t in stuck}
        for link in links:
            if link.successor in stuck and link.predecessor in stuck:
                incoming_links[link.successor].append(link.predecessor)
        raise CycleError(find_cycle(stuck, incoming_links))
    return order


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


def schedule(
    tasks: Sequence[PlanTask],
    links: Sequence[Link],
    project_start: date,
    calendar: WorkingCalendar,
) -> Schedule:
    by_id = {task.id: task for task in tasks}
    order = topological_order(by_id, links)
    index = WorkingDayIndex(calendar, project_start, project_start)
    predecessors: dict[int, list[Link]] = {tid: [] for tid in by_id}
    successors: dict[int, list[Link]] = {tid: [] for tid in by_id}
    for link in links:
        predecessors[link.successor].append(link)
        successors[link.predecessor].append(link)

    floor: dict[int, int] = {}
    early: dict[int, tuple[int, int]] = {}
    for tid in order:
        task = by_id[tid]
        floor[tid] = index.index_of(max(task.not_before or project_start, project_start))
        if task.actual_start is not None:
            start = index.index_of(task.actual_start)
        else:
            start = floor[tid]
            for link in predecessors[tid]:
                pred_start, pred_end = early[link.predecessor]
                start = max(start, _start_bound(link, pred_start, pred_end, task.duration))
        early[tid] = (start, start + task.duration)

    project_end = max((end for _, end in early.values()), default=0)
    late: dict[int, tuple[int, int]] = {}
    for tid in reversed(order):
        task = by_id[tid]
        end = project_end
        for link in successors[tid]:
            succ_start, succ_end = late[link.successor]
            end = min(end, _end_bound(link, succ_start, succ_end, task.duration))
        late[tid] = (end - task.duration, end)

    result: dict[int, TaskSchedule] = {}
    for tid, task in by_id.items():
        early_start, early_end = early[tid]
        late_start, late_end = late[tid]
        total = late_start - early_start
        free = min(
            [_slack(link, early[tid], early[link.successor]) for link in successors[tid]]
            or [project_end - early_end]
        )
        result[tid] = TaskSchedule(
            early_start=_start_day(index, early_start, task, floor[tid]),
            early_finish=_finish_day(index, early_start, early_end, task, floor[tid]),
            late_start=_start_day(index, late_start, task, floor[tid]),
            late_finish=_finish_day(index, late_start, late_end, task, floor[tid]),
            total_float=total,
            free_float=max(min(free, total), 0) if total >= 0 else total,
        )
    finish_days = [t.early_finish for t in result.values()]
    return Schedule(
        start=index.day_at(0), finish=max(finish_days, default=index.day_at(0)), tasks=result
    )


def _start_day(index: WorkingDayIndex, start: int, task: PlanTask, floor: int) -> date:
    if task.duration == 0:
        return _milestone_day(index, start, floor)
    return index.day_at(max(start, 0))


def _finish_day(index: WorkingDayIndex, start: int, end: int, task: PlanTask, floor: int) -> date:
    if task.duration == 0:
        return _milestone_day(index, start, floor)
    return index.day_at(max(end - 1, 0))


def _milestone_day(index: WorkingDayIndex, at: int, floor: int) -> date:
    """A milestone pushed past its own date by the work before it marks that work's last day."""
    return index.day_at(max(at - 1, 0) if at > floor else max(at, 0))
