"""The plan through its service: WBS, links, schedule stored beside the tasks, baselines."""

from __future__ import annotations

from datetime import date

import pytest

from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.planning import baselines as planning_baselines
from server.planning import company_calendar as planning_company_calendar
from server.planning import queries as planning_queries
from server.planning import service as planning
from server.planning.models import Baseline, BaselineTask, Dependency, Task, TaskSchedule
from server.projects.models import Role
from tests import factories as f


async def plan_fixture():
    await planning_company_calendar.seed_company_calendar()
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd])
    return pm, rnd, project


def task_input(name: str, start: date, days: int, **extra) -> planning.TaskInput:
    return planning.TaskInput(name=name, planned_start=start, duration_days=days, **extra)


async def test_wbs_tree_rolls_up_and_a_link_moves_the_successor(db):
    pm, rnd, project = await plan_fixture()
    me = f.actor(pm)
    phase = await planning.create_task(
        me,
        project_id=project.id,
        data=planning.TaskInput(name="需求调研", planned_start=date(2026, 11, 2)),
    )
    survey = await planning.create_task(
        me,
        project_id=project.id,
        data=task_input("用户访谈", date(2026, 11, 2), 5, parent_id=phase.id),
    )
    report = await planning.create_task(
        me,
        project_id=project.id,
        data=task_input("需求报告", date(2026, 11, 2), 3, parent_id=phase.id),
    )
    await planning.add_dependency(me, predecessor_id=survey.id, successor_id=report.id)
    schedule = await planning_queries.schedules_for([phase.id, survey.id, report.id])
    assert schedule[report.id].early_start == date(2026, 11, 9)
    assert schedule[report.id].early_finish == date(2026, 11, 11)
    assert (schedule[phase.id].early_start, schedule[phase.id].early_finish) == (
        date(2026, 11, 2),
        date(2026, 11, 11),
    )
    codes = dict(await Task.filter(project_id=project.id).values_list("name", "wbs_code"))
    assert codes == {"需求调研": "1", "用户访谈": "1.1", "需求报告": "1.2"}
    assert schedule[survey.id].is_critical and schedule[report.id].is_critical


async def test_a_cycle_is_refused_naming_its_tasks_and_nothing_changes(db):
    pm, rnd, project = await plan_fixture()
    me = f.actor(pm)
    a, b, c = [
        await planning.create_task(
            me, project_id=project.id, data=task_input(n, date(2026, 11, 2), 2)
        )
        for n in ("设计", "打样", "评审")
    ]
    await planning.add_dependency(me, predecessor_id=a.id, successor_id=b.id)
    await planning.add_dependency(me, predecessor_id=b.id, successor_id=c.id)
    with pytest.raises(Invalid) as refused:
        await planning.add_dependency(me, predecessor_id=c.id, successor_id=a.id)
    message = refused.value.translated("zh-CN")
    assert "循环" in message and "设计" in message and "评审" in message
    assert await Dependency.filter(project_id=project.id).count() == 2
    with pytest.raises(Invalid):
        await planning.add_dependency(me, predecessor_id=a.id, successor_id=a.id)
    with pytest.raises(Invalid):
        await planning.add_dependency(me, predecessor_id=a.id, successor_id=b.id)


async def test_cross_project_links_and_bad_dates_are_refused(db):
    pm, rnd, project = await plan_fixture()
    other = await f.project(pm)
    me = f.actor(pm)
    here = await planning.create_task(
        me, project_id=project.id, data=task_input("甲", date(2026, 11, 2), 1)
    )
    there = await planning.create_task(
        me, project_id=other.id, data=task_input("乙", date(2026, 11, 2), 1)
    )
    with pytest.raises(Invalid) as cross:
        await planning.add_dependency(me, predecessor_id=there.id, successor_id=here.id)
    assert cross.value.field == "predecessorId"
    with pytest.raises(Invalid) as backwards:
        await planning.create_task(
            me,
            project_id=project.id,
            data=planning.TaskInput(
                name="倒排", planned_start=date(2026, 11, 10), planned_finish=date(2026, 11, 2)
            ),
        )
    assert backwards.value.field == "plannedFinish"


async def test_a_finish_date_sets_the_duration_across_holidays(db):
    pm, rnd, project = await plan_fixture()
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="国庆前后", planned_start=date(2026, 9, 29), planned_finish=date(2026, 10, 9)
        ),
    )
    assert task.duration_days == 4  # 29 and 30 September, 8 and 9 October
    schedule = (await planning_queries.schedules_for([task.id]))[task.id]
    # Nothing starts before the project start (2 November): 4 days from there.
    assert (schedule.early_start, schedule.early_finish) == (date(2026, 11, 2), date(2026, 11, 5))


async def test_stale_version_conflict_and_only_planners_edit(db):
    pm, rnd, project = await plan_fixture()
    task = await planning.create_task(
        f.actor(pm), project_id=project.id, data=task_input("甲", date(2026, 11, 2), 2)
    )
    await planning.update_task(
        f.actor(pm), task_id=task.id, version=1, data=planning.TaskInput(duration_days=4)
    )
    with pytest.raises(Conflict):
        await planning.update_task(
            f.actor(pm), task_id=task.id, version=1, data=planning.TaskInput(duration_days=9)
        )
    assert (await Task.get(id=task.id)).duration_days == 4
    member = await f.user(dept=rnd)
    await f.member(pm, project, member, Role.MEMBER)
    with pytest.raises(Forbidden):
        await planning.create_task(
            f.actor(member), project_id=project.id, data=task_input("乙", date(2026, 11, 2), 1)
        )
    outsider = await f.user()
    with pytest.raises(NotFound):
        await planning.update_task(
            f.actor(outsider), task_id=task.id, version=2, data=planning.TaskInput(name="x")
        )


async def test_a_schedule_change_does_not_touch_the_successors_version(db):
    pm, rnd, project = await plan_fixture()
    me = f.actor(pm)
    a = await planning.create_task(
        me, project_id=project.id, data=task_input("甲", date(2026, 11, 2), 2)
    )
    b = await planning.create_task(
        me, project_id=project.id, data=task_input("乙", date(2026, 11, 2), 2)
    )
    await planning.add_dependency(me, predecessor_id=a.id, successor_id=b.id)
    await planning.update_task(
        me, task_id=a.id, version=1, data=planning.TaskInput(duration_days=5)
    )
    assert (await Task.get(id=b.id)).version == 1
    assert (await TaskSchedule.get(task_id=b.id)).early_start == date(2026, 11, 9)


async def test_approving_the_plan_needs_liaisons_and_owners_then_freezes_a_baseline(db):
    pm, rnd, project = await plan_fixture()
    me = f.actor(pm)
    task = await planning.create_task(
        me, project_id=project.id, data=task_input("样机", date(2026, 11, 2), 3)
    )
    with pytest.raises(Invalid) as no_liaison:
        await planning_baselines.approve_plan(me, project_id=project.id)
    assert "研发部" in no_liaison.value.translated("zh-CN")
    liaison = await f.user(dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON)
    # The PM's own (initiating) department needs one too.
    await f.member(pm, project, pm, Role.LIAISON)
    with pytest.raises(Invalid) as no_owner:
        await planning_baselines.approve_plan(me, project_id=project.id)
    assert "样机" in no_owner.value.translated("zh-CN")
    await planning.update_task(
        me, task_id=task.id, version=1, data=planning.TaskInput(owner_id=liaison.id)
    )
    first = await planning_baselines.approve_plan(me, project_id=project.id, name="评审通过版")
    second = await planning_baselines.approve_plan(me, project_id=project.id)
    assert [b.name for b in await Baseline.filter(project_id=project.id)] == [
        "评审通过版",
        "Baseline 2",
    ]
    frozen = await BaselineTask.get(baseline_id=first.id, task_id=task.id)
    assert (frozen.start, frozen.finish) == (date(2026, 11, 2), date(2026, 11, 4))
    assert second.id != first.id


async def test_the_plan_draws_each_task_against_the_newest_baseline_that_holds_it(db):
    from tortoise.transactions import in_transaction

    from tests.conftest import count_queries

    pm, rnd, project = await plan_fixture()
    actor = f.actor(pm)
    survey = await planning.create_task(
        actor, project_id=project.id, data=task_input("调研", date(2026, 12, 7), 5)
    )
    report = await planning.create_task(
        actor, project_id=project.id, data=task_input("报告", date(2026, 12, 7), 3)
    )
    async with in_transaction():
        await planning_baselines.freeze_baseline(actor, project, [survey, report], "基线 1")
    survey = await Task.get(id=survey.id)
    await planning.update_task(
        actor,
        task_id=survey.id,
        version=survey.version,
        data=task_input("调研", date(2026, 12, 14), 5),
    )
    async with in_transaction():  # a re-baseline of the survey alone
        await planning_baselines.freeze_baseline(actor, project, [survey], "基线 2")

    with count_queries() as reads:
        view = await planning_queries.plan_view(project)
    drawn = {row.task.name: (row.baseline.start, row.baseline.finish) for row in view.rows}
    assert drawn == {
        "调研": (date(2026, 12, 14), date(2026, 12, 18)),  # from 基线 2
        "报告": (date(2026, 12, 7), date(2026, 12, 9)),  # only 基线 1 holds it
    }
    # One row per task comes back, not one per task and baseline.
    baseline_reads = [q for q in reads.queries if "baseline_task" in q]
    assert len(baseline_reads) == 1 and "newest = 1" in baseline_reads[0]
    assert await BaselineTask.filter(baseline__project_id=project.id).count() == 3
