"""One edit of a big plan costs a fixed number of SQL statements, whatever the plan's size:
the schedule is written back only where it changed, and WBS codes are renumbered in one
statement."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.planning import company_calendar as planning_company_calendar
from server.planning import scheduling as planning_scheduling
from server.planning import service as planning
from server.planning.models import Dependency, Task, TaskSchedule
from tests import factories as f
from tests.conftest import count_queries


async def big_plan(size: int):
    """`size` tasks in chains of ten. Written in bulk: through the service each task would
    reschedule the whole plan again, and only the statements of the edits below are counted."""
    await planning_company_calendar.seed_company_calendar()
    pm = await f.user()
    project = await f.project(pm)
    start = date(2026, 11, 2)
    await Task.bulk_create(
        [
            Task(
                project_id=project.id,
                name=f"任务 {n}",
                wbs_code=str(n + 1),
                planned_start=start + timedelta(days=n % 60),
                duration_days=1 + n % 5,
            )
            for n in range(size)
        ]
    )
    ids = await Task.filter(project_id=project.id).order_by("id").values_list("id", flat=True)
    await Dependency.bulk_create(
        [
            Dependency(
                project_id=project.id,
                predecessor_id=ids[n - 1],
                successor_id=ids[n],
                pair=f"{ids[n - 1]}:{ids[n]}",
            )
            for n in range(1, size)
            if n % 10
        ]
    )
    await planning_scheduling.reschedule(project, renumber=True)
    return pm, project, ids


def schedule_rows_written(queries: list[str]) -> int:
    """Rows in the one batched write of schedule rows (an executemany logs its value rows)."""
    [write] = [q for q in queries if q.startswith('INSERT INTO "task_schedule"')]
    return write.split(": ", 1)[1].count("], [") + 1


async def stored_schedule(project_id: int) -> dict[int, tuple]:
    rows = await TaskSchedule.filter(project_id=project_id).values_list(
        "task_id", "early_start", "early_finish", "late_start", "late_finish", "total_float"
    )
    return {row[0]: row[1:] for row in rows}


@pytest.mark.parametrize("size", [500, 2000])
async def test_statements_per_edit_do_not_grow_with_the_plan(db, size):
    pm, project, ids = await big_plan(size)
    middle = await Task.get(id=ids[size // 2 + 5])  # the middle of a chain of ten
    before = await stored_schedule(project.id)
    with count_queries() as edit:
        await planning.update_task(
            f.actor(pm),
            task_id=middle.id,
            version=middle.version,
            data=planning.TaskInput(duration_days=middle.duration_days + 2),
        )
    after = await stored_schedule(project.id)
    moved = [tid for tid in after if after[tid] != before[tid]]
    # Nine statements and the one batched write of the rows that changed: the task, the
    # four after it in its chain, and the chain's floats (the project finish did not move).
    assert edit.count == 10, edit.queries
    assert 5 <= len(moved) <= 10
    assert schedule_rows_written(edit.queries) == len(moved)

    codes = dict(await Task.filter(project_id=project.id).values_list("id", "wbs_code"))
    with count_queries() as added:
        first = await planning.create_task(
            f.actor(pm),
            project_id=project.id,
            data=planning.TaskInput(name="最先的任务", planned_start=date(2026, 10, 1)),
        )
    # A new task, even the earliest, is appended: no code already there moves (issue 23,
    # item 11), and its own code is written in the same one UPDATE as ever.
    assert first.wbs_code == str(size + 1)
    renumbered = dict(await Task.filter(project_id=project.id).values_list("id", "wbs_code"))
    assert renumbered == codes | {first.id: str(size + 1)}
    renumbering = [q for q in added.queries if q.startswith("UPDATE task SET wbs_code")]
    assert len(renumbering) == 1
    assert added.count == 11, added.queries
