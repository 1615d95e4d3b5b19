"""Take the plan with you and bring it back: a random plan exported as MS Project XML and
imported into a new, empty project is the same plan — outline, durations, milestones,
starts, links of all four types with lags and leads, calendar exceptions, progress, the
baseline, the status date — and schedules to the same dates and floats."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from server import clock
from server.errors import Conflict, Forbidden, Invalid
from server.org.models import Department
from server.planning import baselines, imports, mspdi, project_calendar
from server.planning import service as planning
from server.planning.models import (
    Baseline,
    BaselineTask,
    Dependency,
    ProjectCalendarDay,
    Task,
    TaskSchedule,
)
from server.planning.queries import plan_view
from server.progress import service as progress
from server.projects.models import Project, Role
from tests import factories as f
from tests.server.test_closing_report import _company_calendar

START = date(2026, 9, 21)


async def empty_project(pm) -> Project:
    project = await f.project(pm)
    await Project.filter(id=project.id).update(start_date=START, status_date=START)
    return await Project.get(id=project.id)


async def random_plan(rng: random.Random, pm, *, sheet: bool = False) -> Project:
    """A random plan; with `sheet`, only what the WBS workbook holds (no calendar days,
    progress or baseline, and linked tasks start with the project)."""
    project = await empty_project(pm)
    actor = f.actor(pm)
    phases = [
        await planning.create_task(
            actor,
            project_id=project.id,
            data=planning.TaskInput(name=f"阶段{n}", planned_start=START, duration_days=1),
        )
        for n in range(rng.randint(0, 2))
    ]
    leaves: list[Task] = []
    count = rng.randint(4, 10)
    for n in range(count):
        milestone = rng.random() < 0.2
        # In a sheet only the first tasks (linked to nothing) keep a later start.
        late = (
            rng.choice([0, 0, 0, 3, 8] if sheet else [0, 0, 0, 3, 8, 15])
            if n < 2 or not sheet
            else 0
        )
        leaves.append(
            await planning.create_task(
                actor,
                project_id=project.id,
                data=planning.TaskInput(
                    name=f"任务{n}",
                    planned_start=START + timedelta(days=late),
                    duration_days=0 if milestone else rng.randint(1, 6),
                    is_milestone=milestone,
                    parent_id=rng.choice([None, *[p.id for p in phases]]),
                    deliverable=rng.choice(["", "评审记录"]),
                    owner_id=rng.choice([None, pm.id]),
                ),
            )
        )
    for j in range(2 if sheet else 1, len(leaves)):
        for i in rng.sample(range(j), k=min(j, rng.randint(1 if sheet else 0, 2))):
            await planning.add_dependency(
                actor,
                predecessor_id=leaves[i].id,
                successor_id=leaves[j].id,
                type=rng.choice(["FS", "FS", "SS", "FF", "SF"]),
                lag_days=rng.randint(-1, 3),
            )
    if sheet:
        return project
    # Days the company's calendar leaves as the week has them (not National Day's).
    for day in rng.sample([*range(0, 9), *range(20, 40)], k=rng.randint(0, 3)):
        when = START + timedelta(days=day)
        await project_calendar.set_project_calendar_day(
            actor, project_id=project.id, day=when, is_working=when.weekday() >= 5, name="调整"
        )
    if rng.random() < 0.5:
        tasks = await Task.filter(project_id=project.id)
        async with in_transaction():
            await baselines.freeze_baseline(actor, project, tasks, "基线")
    first = [t for t in leaves if t.planned_start == START and not t.is_milestone][:1]
    with clock.travel_to(datetime(2026, 9, 21, 4, tzinfo=UTC)):
        for task in first:
            task = await Task.get(id=task.id)
            await progress.report_progress(
                actor,
                progress.ProgressInput(
                    task_id=task.id, version=task.version, percent_complete=rng.choice([20, 100])
                ),
            )
    return await Project.get(id=project.id)


async def the_plan(project: Project) -> dict[str, object]:
    """Everything that makes the plan, keyed by WBS code rather than row ids."""
    tasks = await Task.filter(project_id=project.id)
    code = {t.id: t.wbs_code for t in tasks}
    schedules = {s.task_id: s for s in await TaskSchedule.filter(project_id=project.id)}
    baseline = await Baseline.filter(project_id=project.id).order_by("-id").first()
    baseline_rows = (
        {
            code[r.task_id]: (r.start, r.finish)
            for r in await BaselineTask.filter(baseline_id=baseline.id)
        }
        if baseline
        else {}
    )
    return {
        "tasks": {
            t.wbs_code: (
                t.name,
                code.get(t.parent_id),
                t.planned_start,
                # A started task's span is its actual start and the work left (below).
                t.duration_days if is_planned_leaf(t, tasks) else None,
                t.is_milestone,
                t.deliverable,
                t.owner_id,
                t.percent_complete,
                t.actual_start,
                t.actual_finish,
                t.status,
            )
            for t in tasks
        },
        "schedule": {
            code[i]: (
                s.early_start,
                s.early_finish,
                s.late_start,
                s.late_finish,
                s.total_float,
                s.free_float,
                s.is_critical,
            )
            for i, s in schedules.items()
        },
        "links": {
            (code[d.predecessor_id], code[d.successor_id], d.type, d.lag_days)
            for d in await Dependency.filter(project_id=project.id)
        },
        "calendar": {
            (d.day, d.is_working) for d in await ProjectCalendarDay.filter(project_id=project.id)
        },
        "baseline": baseline_rows,
        "status_date": project.status_date,
    }


def is_planned_leaf(task: Task, tasks: list[Task]) -> bool:
    return task.actual_start is None and task.id not in {t.parent_id for t in tasks}


async def exported(project: Project) -> bytes:
    view = await plan_view(project)
    return mspdi.plan_xml(project, view.rows, view.calendar)


async def test_export_then_import_gives_the_same_plan_on_random_plans(db):
    await _company_calendar()
    pm = await f.user(name="王芳")
    for seed in range(10):
        rng = random.Random(seed)
        source = await random_plan(rng, pm)
        data = await exported(source)
        target = await empty_project(pm)
        preview = await imports.preview_plan_import(f.actor(pm), project_id=target.id, data=data)
        assert preview.errors == [] and preview.problems == [], seed
        result = await imports.import_plan(
            f.actor(pm), project_id=target.id, data=data, content_hash=preview.content_hash
        )
        assert result.differences == [], seed  # our schedule is the one the file states
        target = await Project.get(id=target.id)
        theirs, ours = await the_plan(source), await the_plan(target)
        for part in theirs:
            if isinstance(theirs[part], dict):
                for key in set(theirs[part]) | set(ours[part]):
                    assert ours[part].get(key) == theirs[part].get(key), (seed, part, key)
            assert ours[part] == theirs[part], (seed, part)
        # and exporting the imported plan gives the same file, but for the names
        again = (await exported(target)).replace(target.code.encode(), source.code.encode())
        assert again == data, seed


async def test_an_import_is_refused_whole(db):
    await _company_calendar()
    pm = await f.user(name="王芳")
    source = await random_plan(random.Random(3), pm)
    data = await exported(source)
    target = await empty_project(pm)
    preview = await imports.preview_plan_import(f.actor(pm), project_id=target.id, data=data)
    with pytest.raises(Conflict) as stale:
        await imports.import_plan(
            f.actor(pm), project_id=target.id, data=data + b" ", content_hash=preview.content_hash
        )
    assert stale.value.field == "contentHash"
    # Into a plan that already has tasks: refused, and nothing of the file is written.
    with pytest.raises(Invalid) as occupied:
        await imports.import_plan(
            f.actor(pm), project_id=source.id, data=data, content_hash=preview.content_hash
        )
    assert occupied.value.field == "file"
    assert await Task.filter(project_id=source.id).count() == len((await the_plan(source))["tasks"])
    # A liaison may not import.
    liaison = await f.user(name="李娜")
    await f.member(pm, target, liaison, Role.LIAISON, await Department.get(id=pm.department_id))
    with pytest.raises(Forbidden):
        await imports.preview_plan_import(f.actor(liaison), project_id=target.id, data=data)
    assert not await Task.filter(project_id=target.id).exists()
