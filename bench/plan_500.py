"""A 500-task plan, side by side in one run:

1. our CPM (`server/planning/cpm.py`, Kahn order, O(V+E)) against the naive way of
   getting the same early dates — relaxing every link again and again until nothing moves
   (Bellman-Ford style, O(V·E)) — on the same 500 tasks and ~700 links;
2. the plan page (Gantt SVG + task list) rendered for 50 and for 500 tasks: SQL queries
   (must be equal), time per request and page size.

    .venv/bin/python bench/plan_500.py [repeats, default 20]
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.statements import counting, stop_counting  # noqa: E402
from server.planning.calendar import CalendarDay, WorkingCalendar, WorkingDayIndex  # noqa: E402
from server.planning.cpm import Link, LinkType, PlanTask, schedule  # noqa: E402

START = date(2026, 11, 2)


def random_plan(size: int, seed: int = 7) -> tuple[list[PlanTask], list[Link]]:
    """Tasks in waves, each linked to one or two earlier ones (FS mostly, some SS, lags)."""
    rng = random.Random(seed)
    tasks = [PlanTask(i, rng.randint(1, 10)) for i in range(1, size + 1)]
    links: set[tuple[int, int]] = set()
    result = []
    for task in tasks[5:]:
        for _ in range(rng.choice((1, 1, 2))):
            predecessor = rng.randint(max(1, task.id - 40), task.id - 1)
            if (predecessor, task.id) in links:
                continue
            links.add((predecessor, task.id))
            kind = LinkType.SS if rng.random() < 0.15 else LinkType.FS
            result.append(Link(predecessor, task.id, kind, rng.choice((0, 0, 0, 1, 2, -1))))
    return tasks, result


def naive_early_starts(
    tasks: list[PlanTask], links: list[Link], index: WorkingDayIndex
) -> dict[int, int]:
    """Relax every link until a whole pass changes nothing."""
    duration = {t.id: t.duration for t in tasks}
    start = {t.id: 0 for t in tasks}
    changed = True
    while changed:
        changed = False
        for link in links:
            if link.type is LinkType.FS:
                earliest = start[link.predecessor] + duration[link.predecessor] + link.lag
            else:
                earliest = start[link.predecessor] + link.lag
            if earliest > start[link.successor]:
                start[link.successor] = earliest
                changed = True
    return start


def chinese_calendar() -> WorkingCalendar:
    import chinese_calendar as cc

    rows = []
    for day, name in cc.holidays.items():
        if date(2025, 1, 1) <= day <= date(2026, 12, 31):
            rows.append(CalendarDay(day, False, str(name)))
    for day, name in cc.workdays.items():
        if date(2025, 1, 1) <= day <= date(2026, 12, 31) and day.weekday() >= 5:
            rows.append(CalendarDay(day, True, str(name)))
    return WorkingCalendar(rows)


def timed(function, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def bench_cpm(repeats: int, size: int) -> None:
    calendar = chinese_calendar()
    tasks, links = random_plan(size)
    ours = schedule(tasks, links, START, calendar)
    index = WorkingDayIndex(calendar, START, START)
    # Links come back from the database in no particular order; in plan order a single
    # relaxation pass would already settle, so the naive way gets them shuffled.
    shuffled = list(links)
    random.Random(11).shuffle(shuffled)
    naive = naive_early_starts(tasks, shuffled, index)
    mismatches = sum(1 for t in tasks if ours.tasks[t.id].early_start != index.day_at(naive[t.id]))
    ours_s = timed(lambda: schedule(tasks, links, START, calendar), repeats)
    naive_s = timed(lambda: naive_early_starts(tasks, shuffled, index), repeats)
    in_order_s = timed(lambda: naive_early_starts(tasks, links, index), repeats)
    print(f"CPM on {len(tasks)} tasks, {len(links)} links (median of {repeats}):")
    print(f"  ours (forward + backward pass, floats, critical path): {ours_s * 1000:8.2f} ms")
    print(f"  naive relaxation (early starts only):                  {naive_s * 1000:8.2f} ms")
    print(f"  naive, links already in plan order (best case):       {in_order_s * 1000:8.2f} ms")
    print(
        f"  ratio naive (shuffled) / ours: {naive_s / ours_s:.1f}x; "
        f"early-start mismatches: {mismatches}"
    )


async def seed_project(code: str, size: int) -> None:
    """Tasks are inserted in bulk (500 service calls would reschedule 500 times), then the
    plan is scheduled once through the service, as after any edit."""
    from server.auth import Actor
    from server.org.models import User
    from server.planning import scheduling as planning_scheduling
    from server.planning.models import Dependency, Task
    from server.projects import service as projects
    from server.projects.models import Project

    manager = await User.get(email="bench@example.com")
    project = await projects.create_project(
        Actor.for_user(manager),
        projects.ProjectInput(
            code=code,
            name=f"bench {size}",
            initiating_department_id=manager.department_id,
            department_ids=[],
            start_date=START,
        ),
    )
    tasks, links = random_plan(size)
    await Task.bulk_create(
        [
            Task(
                project=project,
                name=f"任务 {t.id}",
                wbs_code=str(t.id),
                planned_start=START,
                duration_days=t.duration,
            )
            for t in tasks
        ]
    )
    ids = dict(await Task.filter(project_id=project.id).values_list("wbs_code", "id"))
    await Dependency.bulk_create(
        [
            Dependency(
                project=project,
                predecessor_id=ids[str(link.predecessor)],
                successor_id=ids[str(link.successor)],
                type=link.type.value,
                lag_days=link.lag,
                pair=f"{ids[str(link.predecessor)]}:{ids[str(link.successor)]}",
            )
            for link in links
        ]
    )
    await planning_scheduling.reschedule(await Project.get(id=project.id))


async def bench_page(repeats: int) -> None:
    import httpx

    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(
            {
                "XIETONG_DATA_DIR": folder,
                "DATABASE_URL": f"sqlite://{folder}/bench.sqlite3",
                "XIETONG_SECRET_KEY": "bench",
                "XIETONG_DEV": "1",
            }
        )
        from server.app import create_app
        from server.db import init_db, migrate
        from server.org import service as org
        from server.settings import load_settings, reset_settings

        reset_settings()
        settings = load_settings()
        await migrate(settings)
        await init_db(settings)
        from server.auth import Actor

        department = await org.create_department(Actor.system(), name="市场部")
        await org.create_user(
            Actor.system(),
            name="王芳",
            email="bench@example.com",
            department_id=department.id,
            password="bench-password-1",
        )
        for code, size in (("P50", 50), ("P500", 500)):
            await seed_project(code, size)
        app = create_app(settings, init_database=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            await http.get("/login")
            await http.post(
                "/login",
                data={
                    "email": "bench@example.com",
                    "password": "bench-password-1",
                    "csrf_token": http.cookies.get("xt_csrf"),
                },
            )
            print(f"Plan page /projects/CODE/plan (median of {repeats}):")
            results = {}
            for code in ("P50", "P500"):
                counter = counting()
                response = await http.get(f"/projects/{code}/plan")
                stop_counting(counter)
                assert response.status_code == 200, response.status_code
                samples = []
                for _ in range(repeats):
                    began = time.perf_counter()
                    await http.get(f"/projects/{code}/plan")
                    samples.append(time.perf_counter() - began)
                results[code] = statistics.median(samples)
                print(
                    f"  {code[1:]:>3} tasks: {counter.count} SQL queries, "
                    f"{results[code] * 1000:7.1f} ms, {len(response.content) / 1024:7.1f} KiB"
                )
            print(f"  ratio 500 / 50 tasks in time: {results['P500'] / results['P50']:.1f}x")
        from tortoise import Tortoise

        await Tortoise.close_connections()


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for size in (500, 2000):
        bench_cpm(repeats, size)
    asyncio.run(bench_page(max(3, repeats // 4)))


if __name__ == "__main__":
    main()
