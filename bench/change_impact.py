"""A change request's impact preview on a 2,000-task plan with 10 edits, side by side in one
run with a plain reschedule of the same plan (issue 21: ≤ 2× a reschedule, ≤ 300 ms).

1. preview — `server.changes.impact.preview`: reads the plan, schedules it as it stands and
   with the edits, and compares (finish, milestones, critical set, per department);
2. checked + preview — what drafting a request costs: the edits checked against the plan
   (`PlanFacts` + `checked_edits`), then the preview;
3. reschedule — `server.planning.scheduling.reschedule`, what every plan edit runs.

Rounds alternate; medians of 9 are compared.

    .venv/bin/python bench/change_impact.py [tasks, default 2000] [edits, default 10]
    BENCH_DATABASE_URL=postgres://… .venv/bin/python bench/change_impact.py   (an empty database)
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
ROUNDS = 9


async def seed(task_count: int) -> int:
    """One project: 20 departments' chains of tasks, each linked to the one before it and,
    now and then, across chains (FS, SS, FF with lags), a milestone every 50 tasks."""
    from server.org.models import Department
    from server.planning.company_calendar import seed_company_calendar
    from server.planning.models import Dependency, DependencyType, Task
    from server.projects.models import Project, ProjectDepartment

    await seed_company_calendar()
    rng = random.Random(21)
    departments = [await Department.create(name=f"部门 {n}") for n in range(20)]
    project = await Project.create(
        code="BENCH", name="变更基准", initiating_department=departments[0], start_date=START
    )
    await ProjectDepartment.bulk_create(
        [
            ProjectDepartment(project=project, department=d, pair=f"{project.id}:{d.id}")
            for d in departments
        ]
    )
    await Task.bulk_create(
        [
            Task(
                project=project,
                name=f"任务 {n}",
                wbs_code=str(n + 1),
                planned_start=START + timedelta(days=rng.randint(0, 30)),
                duration_days=0 if n % 50 == 49 else rng.randint(1, 10),
                is_milestone=n % 50 == 49,
                department=departments[n % 20],
            )
            for n in range(task_count)
        ],
        batch_size=2000,
    )
    ids = await Task.filter(project=project).order_by("id").values_list("id", flat=True)
    links = []
    for n in range(20, len(ids)):
        links.append((ids[n - 20], ids[n], DependencyType.FS, 0))
        if n % 7 == 0:
            kind = rng.choice([DependencyType.SS, DependencyType.FF])
            links.append((ids[n - 13], ids[n], kind, rng.randint(0, 3)))
    await Dependency.bulk_create(
        [
            Dependency(
                project=project,
                predecessor_id=p,
                successor_id=s,
                type=kind,
                lag_days=lag,
                pair=f"{p}:{s}",
            )
            for p, s, kind, lag in links
        ],
        batch_size=2000,
    )
    return project.id


def edits_for(
    task_ids: list[int], critical: list[int], departments: list[int], count: int
) -> list[dict]:
    """Longer critical tasks (the finish moves), new tasks linked in, extra FF links."""
    rng = random.Random(7)
    edits: list[dict] = []
    for n in range(count):
        kind = n % 5
        if kind in (0, 1, 2):
            edits.append(
                {"op": "edit_task", "task_id": rng.choice(critical),
                 "duration_days": rng.randint(11, 15)}
            )  # fmt: skip
        elif kind == 3:
            key = f"N{n}"
            edits.append(
                {"op": "add_task", "key": key, "name": f"新任务 {n}", "department_id":
                 departments[n % len(departments)], "planned_start": START.isoformat(),
                 "duration_days": 5}
            )  # fmt: skip
            edits.append({"op": "add_link", "predecessor": str(task_ids[n]), "successor": key})
        else:
            edits.append(
                {"op": "add_link", "predecessor": str(task_ids[n]),
                 "successor": str(task_ids[-1]), "type": "FF", "lag": 2}
            )  # fmt: skip
    return edits[:count]


async def main(task_count: int, edit_count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(
            {
                "XIETONG_DATA_DIR": folder,
                "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL")
                or f"sqlite://{folder}/bench.sqlite3",
                "XIETONG_SECRET_KEY": "bench",
            }
        )
        from server.changes.edits import PlanFacts, checked_edits
        from server.changes.impact import preview
        from server.db import close_db, init_db, migrate
        from server.planning.models import Task, TaskSchedule
        from server.planning.scheduling import reschedule
        from server.projects.models import Project, ProjectDepartment
        from server.settings import load_settings, reset_settings

        reset_settings()
        settings = load_settings()
        await migrate(settings)
        await init_db(settings)
        project_id = await seed(task_count)
        project = await Project.get(id=project_id)
        await reschedule(project)
        task_ids = (
            await Task.filter(project_id=project_id).order_by("id").values_list("id", flat=True)
        )
        departments = await ProjectDepartment.filter(project_id=project_id).values_list(
            "department_id", flat=True
        )
        critical = (
            await TaskSchedule.filter(
                project_id=project_id, is_critical=True, task__is_milestone=False
            )
            .order_by("task_id")
            .values_list("task_id", flat=True)
        )
        raw = edits_for(list(task_ids), list(critical), list(departments), edit_count)
        edits = checked_edits(await PlanFacts.of(project_id), raw)
        impact = await preview(project, edits)

        async def checked_and_preview() -> None:
            await preview(project, checked_edits(await PlanFacts.of(project_id), raw))

        jobs = {
            "preview": lambda: preview(project, edits),
            "checked + preview": checked_and_preview,
            "reschedule": lambda: reschedule(project),
        }
        times: dict[str, list[float]] = {name: [] for name in jobs}
        for _ in range(ROUNDS):
            for name, job in jobs.items():
                started = time.perf_counter()
                await job()
                times[name].append(time.perf_counter() - started)
        medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
        print(
            f"{task_count} tasks, {edit_count} edits "
            f"({settings.database_url.split(':')[0]}; finish "
            f"{impact['finishBefore']} → {impact['finishAfter']}, "
            f"{impact['deltaWorkingDays']:+d} working days)"
        )
        for name, ms in medians.items():
            print(f"  {name:<20} {ms:8.1f} ms (median of {ROUNDS})")
        print(f"  preview ÷ reschedule: {medians['preview'] / medians['reschedule']:.2f}×")
        print(
            f"  checked + preview ÷ reschedule: "
            f"{medians['checked + preview'] / medians['reschedule']:.2f}×"
        )
        await close_db()


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(arguments + [2000, 10][len(arguments) :])))
