"""The scheduler, side by side in one run on the same random plans (about 1.46 links a task,
all four link types, lags and leads; a fifth of the tasks finished, a fifth started, on a
status date mid-plan, Chinese company calendar):

1. ours: `server/planning/cpm.schedule` with progress on the status date: dates, floats,
   critical flags, driving predecessors and path as arrays, each task's row of dates made
   when it is read; "+ all rows" also reads every row (what storing the schedule does);
2. networkx: CPM over an `nx.DiGraph` of the same plan, without progress — forward and
   backward passes in `nx.topological_sort` order over the graph's own adjacency, early and
   late starts and total float only (the baseline named in the issue);
3. naive: the same early and late dates by relaxing every link until nothing moves
   (Bellman-Ford style), at the sizes where it finishes.

Medians of several runs; the ratio is ours ÷ networkx.

Then one edit of a stored plan (SQLite in a temporary folder) at 500 / 2,000 / 10,000 tasks:
`updateTask` on a task mid-plan and adding a task before all others (every WBS code moves),
with the SQL statements each sends (the batched write of schedule rows counts as one; each
edit acts as a new request would, its role not yet looked up), the schedule rows the edit
wrote, and the rows a delete-and-reinsert of the schedule (the method before) would write.

    .venv/bin/python bench/cpm.py [sizes, default 500,2000,10000,100000] [edit sizes]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import chinese_calendar  # noqa: E402
import networkx as nx  # noqa: E402

from server.planning.calendar import CalendarDay, WorkingCalendar  # noqa: E402
from server.planning.cpm import Link, LinkType, Options, PlanTask, schedule  # noqa: E402

START = date(2026, 1, 5)
EDIT_ROUNDS = 15
STATUS = date(2026, 3, 16)


def company_calendar() -> WorkingCalendar:
    rows = [CalendarDay(day, False) for day in chinese_calendar.holidays]
    rows += [CalendarDay(day, True) for day in chinese_calendar.workdays if day.weekday() >= 5]
    return WorkingCalendar(rows)


def random_plan(size: int, seed: int = 7) -> tuple[list[PlanTask], list[Link]]:
    rng = random.Random(seed)
    tasks = []
    for i in range(size):
        duration = rng.randint(1, 10)
        roll = rng.random()
        if roll < 0.2:
            began = START + timedelta(days=rng.randint(0, 40))
            finish = began + timedelta(days=rng.randint(0, 20))
            tasks.append(
                PlanTask(i, duration, None, began, min(finish, STATUS), percent_complete=100)
            )
        elif roll < 0.4:
            began = START + timedelta(days=rng.randint(0, 60))
            tasks.append(PlanTask(i, duration, None, began, percent_complete=rng.randint(5, 95)))
        else:
            tasks.append(PlanTask(i, duration, START + timedelta(days=rng.randint(0, 90))))
    links: dict[tuple[int, int], tuple[LinkType, int]] = {}
    kinds = [LinkType.FS] * 7 + [LinkType.SS, LinkType.FF, LinkType.SF]
    for successor in range(1, size):
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            predecessor = rng.randint(max(0, successor - 50), successor - 1)
            links[(predecessor, successor)] = (rng.choice(kinds), rng.randint(-2, 3))
    ordered = list(links.items())
    # Links come in any order, as from a database; and, as from a database, each object is
    # made in the order it is read (objects made in one order and read in another would
    # measure the processor's cache, not the scheduler).
    rng.shuffle(ordered)
    return tasks, [Link(p, s, kind, lag) for (p, s), (kind, lag) in ordered]


def networkx_cpm(tasks: list[PlanTask], links: list[Link]) -> dict[int, int]:
    """Early/late starts and total float by the textbook passes on a networkx graph."""
    graph = nx.DiGraph()
    for task in tasks:
        graph.add_node(task.id, duration=task.duration)
    for link in links:
        graph.add_edge(link.predecessor, link.successor, kind=link.type.value, lag=link.lag)
    order = list(nx.topological_sort(graph))
    duration = nx.get_node_attributes(graph, "duration")
    early: dict[int, int] = {}
    for node in order:
        start = 0
        for pred, data in graph.pred[node].items():
            start = max(start, _bound(data, early[pred], duration[pred], duration[node]))
        early[node] = start
    finish = max(early[n] + duration[n] for n in order)
    late: dict[int, int] = {}
    for node in reversed(order):
        end = finish
        for succ, data in graph.succ[node].items():
            end = min(end, _late_end(data, late[succ], duration[succ], duration[node]))
        late[node] = end - duration[node]
    return {n: late[n] - early[n] for n in order}


def _bound(data: dict, pred_start: int, pred_duration: int, duration: int) -> int:
    kind, lag = data["kind"], data["lag"]
    if kind == "FS":
        return pred_start + pred_duration + lag
    if kind == "SS":
        return pred_start + lag
    if kind == "FF":
        return pred_start + pred_duration + lag - duration
    return pred_start + lag - duration


def _late_end(data: dict, succ_late_start: int, succ_duration: int, duration: int) -> int:
    kind, lag = data["kind"], data["lag"]
    if kind == "FS":
        return succ_late_start - lag
    if kind == "SS":
        return succ_late_start - lag + duration
    if kind == "FF":
        return succ_late_start + succ_duration - lag
    return succ_late_start + succ_duration - lag + duration


def naive(tasks: list[PlanTask], links: list[Link]) -> dict[int, int]:
    duration = {t.id: t.duration for t in tasks}
    early = dict.fromkeys(duration, 0)
    moved = True
    while moved:
        moved = False
        for link in links:
            data = {"kind": link.type.value, "lag": link.lag}
            start = _bound(
                data, early[link.predecessor], duration[link.predecessor], duration[link.successor]
            )
            if start > early[link.successor]:
                early[link.successor] = start
                moved = True
    return early


def with_rows(
    tasks: list[PlanTask], links: list[Link], calendar: WorkingCalendar, options: Options
) -> int:
    """The schedule and every task's row of dates made (rows are made as they are read)."""
    return len(dict(schedule(tasks, links, START, calendar, options).tasks))


def timed(work: Callable[[], object], repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> None:
    sizes = [
        int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "500,2000,10000,100000").split(",")
    ]
    calendar = company_calendar()
    options = Options(status_date=STATUS)
    print(
        f"{'tasks':>7} {'links':>7} {'ours ms':>9} {'networkx ms':>12} {'ratio':>6} "
        f"{'naive ms':>9} {'+ all rows ms':>13}"
    )
    schedule(*random_plan(10), START, calendar, options)  # compiled code loaded, not timed
    for size in sizes:
        tasks, links = random_plan(size)
        repeats = 7 if size <= 10_000 else 3
        ours = timed(partial(schedule, tasks, links, START, calendar, options), repeats)
        graph = timed(partial(networkx_cpm, tasks, links), repeats)
        slow = f"{timed(partial(naive, tasks, links), 3):9.1f}" if size <= 2000 else f"{'-':>9}"
        every_row = timed(partial(with_rows, tasks, links, calendar, options), repeats)
        print(
            f"{size:>7} {len(links):>7} {ours:9.1f} {graph:12.1f} {ours / graph:6.2f} {slow} "
            f"{every_row:13.1f}"
        )


async def edit_figures(sizes: list[int]) -> None:
    import os
    import tempfile

    from tortoise import Tortoise

    from bench.statements import counting, stop_counting
    from server.auth import Actor
    from server.db import init_db, migrate
    from server.org import service as org
    from server.planning import company_calendar as planning_company_calendar
    from server.planning import scheduling as planning_scheduling
    from server.planning import service as planning
    from server.planning.models import Dependency, Task
    from server.projects import service as projects
    from server.runtime import settle_long_lived_objects
    from server.settings import get_settings, reset_settings

    print(f"\n{'tasks':>7} {'edit ms':>8} {'statements':>10} {'rows written':>12} "
          f"{'rows before':>11} {'add ms':>7} {'statements':>10}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        os.environ["XIETONG_DATA_DIR"] = folder
        os.environ["DATABASE_URL"] = f"sqlite://{folder}/bench.sqlite3"
        reset_settings()
        settings = get_settings()
        await migrate(settings)
        await init_db(settings)
        await planning_company_calendar.seed_company_calendar()
        department = await org.create_department(Actor.system(), name="研发部")
        pm = await org.create_user(
            Actor.system(), name="王芳", email="pm@example.com", department_id=department.id,
            password="correct-horse-42",
        )  # fmt: skip
        actor = Actor.for_user(pm)
        for size in sizes:
            project = await projects.create_project(
                actor,
                projects.ProjectInput(
                    code=f"E{size}", name="编辑", initiating_department_id=department.id,
                    start_date=START, status_date=START,
                ),
            )  # fmt: skip
            await Task.bulk_create(
                [
                    Task(project_id=project.id, name=f"任务 {n}", wbs_code="",
                         planned_start=START + timedelta(days=n % 60), duration_days=1 + n % 5)
                    for n in range(size)
                ]
            )  # fmt: skip
            ids = (
                await Task.filter(project_id=project.id).order_by("id").values_list("id", flat=True)
            )
            await Dependency.bulk_create(
                [
                    Dependency(project_id=project.id, predecessor_id=ids[n - 1],
                               successor_id=ids[n], pair=f"{ids[n - 1]}:{ids[n]}")
                    for n in range(1, size)
                    if n % 10
                ]
            )  # fmt: skip
            await planning_scheduling.reschedule(project, renumber=True)
            settle_long_lived_objects()  # as the web and worker processes do once started
            edits, written, statements = [], 0, 0
            for round_ in range(EDIT_ROUNDS):
                task = await Task.get(id=ids[min(size // 2 + 5, size - 1)])
                counter = counting()
                started = time.perf_counter()
                longer = task.duration_days + (1 if round_ % 2 == 0 else -1)
                await planning.update_task(
                    Actor.for_user(pm), task_id=task.id, version=task.version,
                    data=planning.TaskInput(duration_days=longer),
                )  # fmt: skip
                edits.append((time.perf_counter() - started) * 1000)
                stop_counting(counter)
                statements, written = counter.count, counter.schedule_rows
            counter = counting()
            started = time.perf_counter()
            await planning.create_task(
                Actor.for_user(pm), project_id=project.id,
                data=planning.TaskInput(name="最先的任务", planned_start=START - timedelta(days=7)),
            )  # fmt: skip
            added = (time.perf_counter() - started) * 1000
            stop_counting(counter)
            print(f"{size:>7} {statistics.median(edits):8.1f} {statements:>10} {written:>12} "
                  f"{size:>11} {added:7.1f} {counter.count:>10}")  # fmt: skip
        await Tortoise.close_connections()


if __name__ == "__main__":
    main()
    import asyncio

    edit_sizes = sys.argv[2] if len(sys.argv) > 2 else "500,2000,10000"
    asyncio.run(edit_figures([int(n) for n in edit_sizes.split(",")]))
