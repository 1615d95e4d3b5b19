"""Bringing a 5,000-task plan from MS Project, side by side in one run with creating the
same plan task by task (issue 25: the import ≤ 5 s including the schedule).

1. export — the source plan as MSPDI (`plan_view` + `mspdi.plan_xml`), for the file's size;
2. preview — `imports.preview_plan_import`: parse (defusedxml), check, count;
3. import — `imports.import_plan`: parse again, check, write tasks/links/calendar/baseline in
   one transaction, schedule, and compare our dates and floats with the file's;
4. one by one — the same plan through `planning.create_task` and `planning.add_dependency`,
   the service calls behind GraphQL's createTask and addDependency (each reschedules the
   plan, as every edit does), in file order.

The import runs ROUNDS times into fresh projects (median); the one-by-one creation runs once.

    .venv/bin/python bench/plan_import.py [tasks, default 5000] [one-by-one tasks, default all]
    BENCH_DATABASE_URL=postgres://… .venv/bin/python bench/plan_import.py   (an empty database)
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START = date(2026, 9, 1)
ROUNDS = 3
PHASE = 50  # a summary and 49 tasks under it


async def new_project(code: str):  # type: ignore[no-untyped-def]
    from server.auth import Actor
    from server.org.models import User
    from server.projects import service as projects

    manager = await User.get(email="bench@example.com")
    return await projects.create_project(
        Actor.for_user(manager),
        projects.ProjectInput(
            code=code,
            name=code,
            initiating_department_id=manager.department_id,
            department_ids=[],
            start_date=START,
        ),
    )


def plan_shape(task_count: int) -> tuple[list[dict], list[tuple[int, int, str, int]]]:
    """Phases of 49 tasks in a chain (now and then SS or FF with a lag), a milestone ending
    each; a phase follows the last one's milestone or starts on a date of its own."""
    rng = random.Random(25)
    tasks: list[dict] = []
    links: list[tuple[int, int, str, int]] = []
    previous_milestone: int | None = None
    for n in range(task_count):
        phase, place = divmod(n, PHASE)
        if place == 0:
            tasks.append(
                {"code": str(phase + 1), "parent": None, "duration": 1, "milestone": False}
            )
            continue
        last = place == PHASE - 1 or n == task_count - 1
        start = START + timedelta(days=rng.randint(0, 60)) if place == 1 else START
        tasks.append(
            {
                "code": f"{phase + 1}.{place}",
                "parent": phase * PHASE,
                "duration": 0 if last else rng.randint(1, 8),
                "milestone": last,
                "start": start,
            }
        )
        if place > 1:
            kind = rng.choice(["FS", "FS", "FS", "SS", "FF"])
            links.append((n - 1, n, kind, rng.randint(0, 2) if kind != "FS" else 0))
        elif previous_milestone is not None and rng.random() < 0.7:
            links.append((previous_milestone, n, "FS", rng.randint(0, 3)))
        if last:
            previous_milestone = n
    return tasks, links


async def seed_source(task_count: int) -> bytes:
    from server.planning import mspdi
    from server.planning.models import Dependency, Task
    from server.planning.queries import plan_view
    from server.planning.scheduling import reschedule
    from server.projects.models import Project

    project = await new_project("SOURCE")
    shape, links = plan_shape(task_count)
    await Task.bulk_create(
        [
            Task(
                project=project,
                name=f"任务 {t['code']}",
                wbs_code=t["code"],
                planned_start=t.get("start", START),
                duration_days=t["duration"],
                is_milestone=t["milestone"],
            )
            for t in shape
        ],
        batch_size=2000,
    )
    ids = dict(await Task.filter(project_id=project.id).values_list("wbs_code", "id"))
    for t in shape:
        if t["parent"] is not None:
            parent = shape[t["parent"]]["code"]
            await Task.filter(id=ids[t["code"]]).update(parent_id=ids[parent])
    await Dependency.bulk_create(
        [
            Dependency(
                project=project,
                predecessor_id=ids[shape[p]["code"]],
                successor_id=ids[shape[s]["code"]],
                type=kind,
                lag_days=lag,
                pair=f"{ids[shape[p]['code']]}:{ids[shape[s]['code']]}",
            )
            for p, s, kind, lag in links
        ],
        batch_size=2000,
    )
    await reschedule(await Project.get(id=project.id), renumber=True)
    view = await plan_view(await Project.get(id=project.id))
    return mspdi.plan_xml(project, view.rows, view.calendar)


async def one_by_one(task_count: int) -> tuple[float, int]:
    """The plan's first `task_count` tasks and their links, one service call each."""
    from server.auth import Actor
    from server.org.models import User
    from server.planning import service as planning

    actor = Actor.for_user(await User.get(email="bench@example.com"))
    project = await new_project("ONE-BY-ONE")
    shape, links = plan_shape(task_count)
    ids: dict[int, int] = {}
    calls = 0
    started = time.perf_counter()
    for n, t in enumerate(shape):
        task = await planning.create_task(
            actor,
            project_id=project.id,
            data=planning.TaskInput(
                name=f"任务 {t['code']}",
                planned_start=t.get("start", START),
                duration_days=t["duration"],
                is_milestone=t["milestone"],
                parent_id=ids[t["parent"]] if t["parent"] is not None else None,
            ),
        )
        ids[n] = task.id
        calls += 1
    for p, s, kind, lag in links:
        await planning.add_dependency(
            actor, predecessor_id=ids[p], successor_id=ids[s], type=kind, lag_days=lag
        )
        calls += 1
    return time.perf_counter() - started, calls


async def main(task_count: int, one_by_one_count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(
            {
                "XIETONG_DATA_DIR": folder,
                "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL")
                or f"sqlite://{folder}/bench.sqlite3",
                "XIETONG_SECRET_KEY": "bench",
            }
        )
        from server.auth import Actor
        from server.db import close_db, init_db, migrate
        from server.org import service as org
        from server.org.models import User
        from server.planning import imports
        from server.planning.company_calendar import seed_company_calendar
        from server.settings import load_settings, reset_settings

        reset_settings()
        settings = load_settings()
        await migrate(settings)
        await init_db(settings)
        await seed_company_calendar()
        department = await org.create_department(Actor.system(), name="市场部")
        await org.create_user(
            Actor.system(),
            name="王芳",
            email="bench@example.com",
            department_id=department.id,
            password="bench-password-1",
        )
        actor = Actor.for_user(await User.get(email="bench@example.com"))
        data = await seed_source(task_count)
        previews, runs = [], []
        differences = -1
        for round_number in range(ROUNDS):
            target = await new_project(f"IMPORT-{round_number}")
            started = time.perf_counter()
            preview = await imports.preview_plan_import(actor, project_id=target.id, data=data)
            previews.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = await imports.import_plan(
                actor, project_id=target.id, data=data, content_hash=preview.content_hash
            )
            runs.append(time.perf_counter() - started)
            differences = len(result.differences)
        c = preview.counts
        engine = settings.database_url.split(":")[0]
        print(
            f"MS Project XML import ({engine}): {c.tasks:,} tasks ({c.summaries} summaries, "
            f"{c.milestones} milestones), {c.links:,} links, file {len(data) / 2**20:.1f} MB"
        )
        preview_s, import_s = statistics.median(previews), statistics.median(runs)
        print(f"  preview            {preview_s:7.2f} s (median of {ROUNDS})")
        print(f"  import + schedule  {import_s:7.2f} s (median of {ROUNDS}; goal ≤ 5 s)")
        print(f"  preview + import   {preview_s + import_s:7.2f} s")
        print(f"  differences from the file's dates and floats: {differences}")
        count = min(one_by_one_count, task_count)
        took, calls = await one_by_one(count)
        print(
            f"  one by one: {count:,} create_task + their add_dependency = {calls:,} calls "
            f"in {took:.1f} s ({took / calls * 1000:.1f} ms a call)"
        )
        if count == task_count:
            print(f"  one by one ÷ import: {took / import_s:.0f}×")
        else:
            print(
                f"  (only {count:,} of {task_count:,} tasks one by one: each call reschedules "
                "the plan, so the whole plan would take longer than this in proportion)"
            )
        await close_db()


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    size = arguments[0] if arguments else 5000
    asyncio.run(main(size, arguments[1] if len(arguments) > 1 else size))
