"""The daily snapshot job on 1,000 projects × 50 tasks, side by side in one run:

1. ours — `server.progress.snapshots.take_snapshots`: the per-project sums made by one SQL
   statement over the company calendar's running working-day counts (a fixed handful of
   statements whatever the number of projects and tasks) and a single upsert; run five
   times (a rerun the same day replaces the rows), the median is compared;
2. the naive way — a loop over projects, each loading its tasks, schedules, baseline and
   calendar and computing day counts with the calendar's day-by-day loop, then writing its
   row with update_or_create.

Both compute the same figures (checked). Printed: time, SQL statements, ratio.

    .venv/bin/python bench/snapshots.py [projects, default 1000] [tasks per project, 50]
    BENCH_DATABASE_URL=postgres://… .venv/bin/python bench/snapshots.py   (an empty database)
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.statements import counting, stop_counting  # noqa: E402

START = date(2026, 9, 1)
TODAY = date(2026, 11, 18)


async def seed(projects: int, tasks_per_project: int) -> None:
    """Rows straight in bulk: projects, tasks with schedules, a baseline each."""
    from server.org.models import Department
    from server.planning.company_calendar import seed_company_calendar
    from server.planning.models import Baseline, BaselineTask, Task, TaskSchedule, TaskStatus
    from server.projects.models import Project, ProjectStatus

    await seed_company_calendar()
    rng = random.Random(3)
    department = await Department.create(name="研发部")
    await Project.bulk_create(
        [
            Project(
                code=f"B{n:04d}",
                name=f"项目 {n}",
                status=ProjectStatus.ACTIVE,
                initiating_department=department,
                start_date=START,
            )
            for n in range(projects)
        ],
        batch_size=500,
    )
    project_ids = await Project.all().order_by("id").values_list("id", flat=True)
    rows = []
    for pid in project_ids:
        for n in range(tasks_per_project):
            start = START + timedelta(days=rng.randint(0, 90))
            length = rng.randint(1, 20)
            percent = rng.choice((0, 0, 20, 50, 80, 100))
            rows.append(
                Task(
                    project_id=pid,
                    name=f"任务 {n}",
                    wbs_code=str(n + 1),
                    planned_start=start,
                    planned_finish=start + timedelta(days=length),
                    duration_days=length,
                    percent_complete=percent,
                    status=TaskStatus.DONE if percent == 100 else TaskStatus.IN_PROGRESS,
                    actual_start=start if percent else None,
                    department=department,
                )
            )
    await Task.bulk_create(rows, batch_size=2000)
    tasks = await Task.all().values("id", "project_id", "planned_start", "planned_finish")
    await TaskSchedule.bulk_create(
        [
            TaskSchedule(
                task_id=t["id"],
                project_id=t["project_id"],
                early_start=t["planned_start"],
                early_finish=t["planned_finish"],
                late_start=t["planned_start"],
                late_finish=t["planned_finish"],
                total_float=0,
                free_float=0,
                is_critical=True,
            )
            for t in tasks
        ],
        batch_size=2000,
    )
    await Baseline.bulk_create(
        [Baseline(project_id=pid, name="基线") for pid in project_ids], batch_size=1000
    )
    baselines = dict(await Baseline.all().values_list("project_id", "id"))
    await BaselineTask.bulk_create(
        [
            BaselineTask(
                baseline_id=baselines[t["project_id"]],
                task_id=t["id"],
                start=t["planned_start"],
                finish=t["planned_finish"],
            )
            for t in tasks
        ],
        batch_size=2000,
    )


async def naive_snapshots(day: date) -> None:
    """One project at a time, day counts by walking the calendar."""
    from server.planning import queries as planning_queries
    from server.planning import scheduling as planning_scheduling
    from server.planning.models import Task, TaskStatus
    from server.progress.measures import rounded_ratio
    from server.progress.models import ProgressSnapshot
    from server.projects.models import Project, ProjectStatus

    for project in await Project.filter(status=ProjectStatus.ACTIVE):
        calendar = await planning_scheduling.working_calendar(project.id)
        tasks = await Task.filter(project_id=project.id)
        ids = [t.id for t in tasks]
        baselines = await planning_queries.baseline_dates(ids)
        planned = actual = total = 0
        late = 0
        for task in tasks:
            base = baselines[task.id]
            weight = max(calendar.duration_between(base.start, base.finish), 1)
            if day >= base.finish:
                elapsed = weight
            elif day < base.start:
                elapsed = 0
            else:
                elapsed = min(calendar.duration_between(base.start, day), weight)
            done = task.status == TaskStatus.DONE
            total += weight
            planned += elapsed
            actual += weight * (100 if done else task.percent_complete)
            if not done and calendar.working_days_between(base.finish, day) > 0:
                late += 1
        await ProgressSnapshot.update_or_create(
            slot=f"{project.id}:{day.isoformat()}",
            defaults={
                "project_id": project.id,
                "day": day,
                "planned_percent": rounded_ratio(100 * planned, total, places=1),
                "actual_percent": rounded_ratio(actual, total, places=1),
                "spi": rounded_ratio(actual, 100 * planned, places=2) if planned else None,
                "late_tasks": late,
                "late_by_department": {},
                "computed_at": datetime.now(UTC),
            },
        )


async def main(projects: int, tasks_per_project: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(
            {
                "XIETONG_DATA_DIR": folder,
                "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL")
                or f"sqlite://{folder}/bench.sqlite3",
                "XIETONG_SECRET_KEY": "bench",
            }
        )
        from server.db import close_db, init_db, migrate
        from server.progress.models import ProgressSnapshot
        from server.progress.snapshots import take_snapshots
        from server.settings import load_settings, reset_settings

        reset_settings()
        settings = load_settings()
        await migrate(settings)
        await init_db(settings)
        started = time.perf_counter()
        await seed(projects, tasks_per_project)
        print(
            f"seeded {projects} projects × {tasks_per_project} tasks "
            f"in {time.perf_counter() - started:.1f} s ({settings.database_url.split(':')[0]})"
        )
        now = datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)
        day = now.date()

        results = {}
        for name, job, runs in (
            ("ours (set-based)", lambda: take_snapshots(now=now), 5),
            ("naive per-project loop", lambda: naive_snapshots(day), 1),
        ):
            await ProgressSnapshot.all().delete()
            times = []
            for _ in range(runs):
                counter = counting()
                started = time.perf_counter()
                await job()
                times.append(time.perf_counter() - started)
                stop_counting(counter)
            elapsed = statistics.median(times)
            figures = {
                row["slot"]: (row["planned_percent"], row["actual_percent"], row["late_tasks"])
                for row in await ProgressSnapshot.all().values(
                    "slot", "planned_percent", "actual_percent", "late_tasks"
                )
            }
            results[name] = (elapsed, counter.count, figures)
            spread = (
                f"  (median of {runs}: {min(times) * 1000:.1f}–{max(times) * 1000:.1f} ms)"
                if runs > 1
                else ""
            )
            print(f"{name:24} {elapsed * 1000:9.1f} ms  {counter.count:6d} SQL statements{spread}")
        ours, naive = results["ours (set-based)"], results["naive per-project loop"]
        same = sum(1 for slot, values in ours[2].items() if naive[2].get(slot) == values)
        print(
            f"speed-up: {naive[0] / ours[0]:.1f}×, statements: {ours[1]} vs {naive[1]}; "
            f"identical figures for {same} of {len(ours[2])} projects"
        )
        await close_db()


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    asyncio.run(main(size, per))
