"""The scheduler's loops (see cpm.py), compiled: integer arrays in, integer arrays out.

Times are working-day indices; a task occupies [start, end). Numba compiles each function on
first use and caches the machine code beside this file, so a process pays the compilation
once (about two seconds) and a fresh install once. Everything here is the rule of cpm.py
written over arrays: task positions 0…n-1, link numbers 0…m-1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit

Ints = npt.NDArray[np.int64]
F = TypeVar("F", bound=Callable[..., Any])

FS, SS, FF, SF = 0, 1, 2, 3
NOT_STARTED, STARTED, DONE = 0, 1, 2


def compiled(function: F) -> F:
    """Compiled on first call, cached on disk, without the interpreter lock while it runs."""
    return cast(F, njit(cache=True, nogil=True)(function))


@compiled
def grouped(count: int, keys: Ints) -> tuple[Ints, Ints]:
    """Link numbers grouped by task (compressed rows): task v's links are
    links[start[v]:start[v + 1]], in link order."""
    start = np.zeros(count + 1, np.int64)
    for v in keys:
        start[v + 1] += 1
    for v in range(count):
        start[v + 1] += start[v]
    fill = start[:-1].copy()
    links = np.empty(len(keys), np.int64)
    for k in range(len(keys)):
        v = keys[k]
        links[fill[v]] = k
        fill[v] += 1
    return start, links


@compiled
def topological(count: int, succs: Ints, out_start: Ints, out_links: Ints) -> Ints:
    """Kahn's algorithm over positions; shorter than `count` when links make a cycle."""
    incoming = np.zeros(count, np.int64)
    for s in succs:
        incoming[s] += 1
    order = np.empty(count, np.int64)
    size = 0
    for i in range(count):
        if incoming[i] == 0:
            order[size] = i
            size += 1
    head = 0
    while head < size:
        i = order[head]
        head += 1
        for x in range(out_start[i], out_start[i + 1]):
            s = succs[out_links[x]]
            incoming[s] -= 1
            if incoming[s] == 0:
                order[size] = s
                size += 1
    return order[:size]


@compiled
def progress(
    duration: Ints,
    first: Ints,
    begun: Ints,
    finished: Ints,
    done: Ints,
    percent: Ints,
    remaining: Ints,
    status: int,
) -> tuple[Ints, Ints, Ints, Ints, Ints, Ints]:
    """Where each task stands before the links apply: state, floor, start, remaining start,
    end and remaining days. `begun` is -1 for a task not started; `status` -1 without a
    status date; `remaining` -1 where the owner gave no figure."""
    n = len(duration)
    state = np.zeros(n, np.int64)
    floor = np.zeros(n, np.int64)
    start = np.zeros(n, np.int64)
    rstart = np.zeros(n, np.int64)
    end = np.zeros(n, np.int64)
    rem = np.zeros(n, np.int64)
    for j in range(n):
        if begun[j] < 0:
            s = first[j] if status < first[j] else status
            floor[j] = s
            start[j] = s
            end[j] = s + duration[j]
            continue
        start[j] = begun[j]
        if status < 0:
            # Without a status date a started task keeps its actual start and full duration.
            state[j] = STARTED
            floor[j] = begun[j]
            rstart[j] = begun[j]
            rem[j] = duration[j]
        elif done[j]:
            state[j] = DONE
            floor[j] = max(finished[j], begun[j])
            rstart[j] = floor[j]
        else:
            state[j] = STARTED
            rem[j] = remaining_days(duration[j], percent[j], remaining[j])
            floor[j] = max(status, begun[j])
            rstart[j] = floor[j]
        end[j] = rstart[j] + rem[j]
    return state, floor, start, rstart, end, rem


@compiled
def remaining_days(duration: int, percent: int, given: int) -> int:
    """As given, else duration × (1 − %), rounded up; at least a day while not complete."""
    if given >= 0:
        return given
    pct = min(max(percent, 0), 100)
    left = (duration * (100 - pct) + 99) // 100
    least = 1 if duration > 0 and pct < 100 else 0
    return max(left, least)


@compiled
def forward(
    order: Ints,
    into_start: Ints,
    into_links: Ints,
    preds: Ints,
    kinds: Ints,
    lags: Ints,
    state: Ints,
    start: Ints,
    rstart: Ints,
    end: Ints,
    rem: Ints,
    started_fixed: bool,
) -> None:
    """Each task's start (or a started task's remaining start) and end, in link order."""
    for j in order:
        sj = state[j]
        if sj == DONE or (sj == STARTED and started_fixed):
            continue
        d = rem[j] if sj == STARTED else end[j] - start[j]
        s = rstart[j] if sj == STARTED else start[j]
        for x in range(into_start[j], into_start[j + 1]):
            k = into_links[x]
            i = preds[k]
            code = kinds[k]
            if code == FS:
                b = end[i] + lags[k]
            elif code == SS:
                if sj == STARTED:
                    continue
                b = start[i] + lags[k]
            elif code == FF:
                b = end[i] + lags[k] - d
            else:
                b = start[i] + lags[k] - d
            if b > s:
                s = b
        if sj == STARTED:
            rstart[j] = s
        else:
            start[j] = s
        end[j] = s + d


@compiled
def backward(
    order: Ints,
    out_start: Ints,
    out_links: Ints,
    succs: Ints,
    kinds: Ints,
    lags: Ints,
    state: Ints,
    start: Ints,
    rstart: Ints,
    end: Ints,
    anchor: int,
    retained: bool,
) -> Ints:
    """Late ends; only links into unfinished successors constrain."""
    late_end = np.full(len(state), anchor, np.int64)
    for position in range(len(order) - 1, -1, -1):
        i = order[position]
        si = state[i]
        if si == DONE:
            late_end[i] = end[i]
            continue
        le = anchor
        di = end[i] - (rstart[i] if si == STARTED else start[i])
        for x in range(out_start[i], out_start[i + 1]):
            k = out_links[x]
            m = succs[k]
            sm = state[m]
            if sm == DONE or (sm == STARTED and not retained):
                continue
            code = kinds[k]
            dm = end[m] - (rstart[m] if sm == STARTED else start[m])
            if code == FS:
                b = late_end[m] - dm - lags[k]
            elif code == SS:
                if sm == STARTED or si == STARTED:
                    continue
                b = late_end[m] - dm - lags[k] + di
            elif code == FF:
                b = late_end[m] - lags[k]
            else:
                if si == STARTED:
                    continue
                b = late_end[m] - lags[k] + di
            if b < le:
                le = b
        late_end[i] = le
    return late_end


@compiled
def link_floats(
    preds: Ints,
    succs: Ints,
    kinds: Ints,
    lags: Ints,
    state: Ints,
    start: Ints,
    rstart: Ints,
    end: Ints,
    anchor: int,
) -> tuple[Ints, Ints, Ints]:
    """Per link, how far its predecessor may slip before it moves the successor, and whether
    it drives the successor; per task, its free float (the least over links to unfinished
    successors, else the room to the anchor)."""
    m_links = len(preds)
    slack = np.zeros(m_links, np.int64)
    drives = np.zeros(m_links, np.int64)
    free = anchor - end
    has_successor = np.zeros(len(state), np.int64)
    for k in range(m_links):
        i, m, code, lag = preds[k], succs[k], kinds[k], lags[k]
        if code == FS:
            slack[k] = (rstart[m] if state[m] == STARTED else start[m]) - (end[i] + lag)
        elif code == SS:
            slack[k] = start[m] - (start[i] + lag)
        elif code == FF:
            slack[k] = end[m] - (end[i] + lag)
        else:
            slack[k] = end[m] - (start[i] + lag)
        if state[m] == DONE:
            continue
        if has_successor[i] == 0 or slack[k] < free[i]:
            free[i] = slack[k]
        has_successor[i] = 1
        if slack[k] <= 0 and (code != SS or state[m] != STARTED):
            drives[k] = 1
    return slack, drives, free


@compiled
def milestone_days(
    order: Ints,
    into_start: Ints,
    into_links: Ints,
    preds: Ints,
    drives: Ints,
    duration: Ints,
    state: Ints,
    floor: Ints,
    start: Ints,
) -> Ints:
    """The working day each unstarted milestone shows, as MS Project does: on its own date,
    or — when work pushed it — on the last day of that work; a milestone pushed by another
    milestone keeps that one's way of showing (lags count in full)."""
    shown = start.copy()
    for j in order:
        if duration[j] != 0 or state[j] != NOT_STARTED or start[j] <= floor[j]:
            continue
        offset = -1
        for x in range(into_start[j], into_start[j + 1]):
            k = into_links[x]
            if drives[k] == 0:
                continue
            i = preds[k]
            candidate = 1
            if duration[i] == 0 and state[i] == NOT_STARTED:
                candidate = start[i] - shown[i]
            if candidate > offset:
                offset = candidate
        shown[j] = start[j] - (offset if offset >= 0 else 1)
    return shown


@compiled
def driving_path(
    ids: Ints,
    order: Ints,
    into_start: Ints,
    into_links: Ints,
    preds: Ints,
    kinds: Ints,
    slack: Ints,
    state: Ints,
    end: Ints,
    finish_shown: Ints,
) -> tuple[Ints, Ints]:
    """From the unfinished task that ends last (by end, then the day it shows, then the last
    in link order), back along links of no relationship float; ties go to the predecessor
    that ends last, then to the lowest id. Positions and link numbers, first task first."""
    n = len(ids)
    rank = np.zeros(n, np.int64)
    for position in range(len(order)):
        rank[order[position]] = position
    current = -1
    for j in range(n):
        if state[j] == DONE:
            continue
        if current < 0 or (end[j], finish_shown[j], rank[j]) > (
            end[current],
            finish_shown[current],
            rank[current],
        ):
            current = j
    path = np.empty(n, np.int64)
    links = np.empty(n, np.int64)
    if current < 0:
        return path[:0], links[:0]
    path[0] = current
    size = 1
    while True:
        best = -1
        for x in range(into_start[current], into_start[current + 1]):
            k = into_links[x]
            i = preds[k]
            if slack[k] > 0 or state[i] == DONE:
                continue
            if kinds[k] == SS and state[current] == STARTED:
                continue
            if best < 0 or (end[i], -ids[i]) > (end[preds[best]], -ids[preds[best]]):
                best = k
        if best < 0:
            break
        links[size - 1] = best
        current = preds[best]
        path[size] = current
        size += 1
    return path[:size][::-1].copy(), links[: size - 1][::-1].copy()
