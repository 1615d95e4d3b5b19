from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from server.audit.models import AuditEntry
from server.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from server.planning import queries as planning_queries
from server.planning import scheduling as planning_scheduling
from server.planning import service as planning
from server.planning.models import Task, TaskStatus
from server.progress import service as progress
from server.progress.models import TaskUpdate
from server.projects import service as projects
from server.projects.models import ProjectMember, Role
from tests import factories as f
from tests.conftest import count_queries


async def plan_with_owner():
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd])
    owner = await f.user(dept=rnd)
    liaison = await f.user(dept=rnd)
    outsider = await f.user(dept=rnd)
    await f.member(pm, project, owner, Role.MEMBER, rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, outsider, Role.MEMBER, rnd)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="样机测试",
            planned_start=date(2026, 11, 2),
            duration_days=5,
            owner_id=owner.id,
            department_id=rnd.id,
        ),
    )
    return pm, owner, liaison, outsider, task


def report(task, version, percent, **kw):
    kw.setdefault("task_id", task.id)
    return progress.ProgressInput(version=version, percent_complete=percent, **kw)


async def test_owner_reports_progress_kept_as_history_and_audited(db):
    pm, owner, liaison, outsider, task = await plan_with_owner()
    updated = await progress.report_progress(
        f.actor(owner), report(task, task.version, 40, note="完成一半")
    )
    assert updated.status == TaskStatus.IN_PROGRESS and updated.actual_start is not None
    updated = await progress.report_progress(
        f.actor(liaison), report(task, updated.version, 100, deliverable="测试报告链接")
    )
    assert updated.status == TaskStatus.DONE and updated.actual_finish is not None
    assert updated.deliverable == "测试报告链接"
    history = (await progress.list_updates([task.id]))[task.id]
    assert [u.percent_complete for u in history] == [100, 40]
    assert history[1].note == "完成一半"
    assert await AuditEntry.filter(action="task.progress").count() == 2


async def test_refusals_change_nothing(db):
    pm, owner, liaison, outsider, task = await plan_with_owner()
    with pytest.raises(InvalidFields) as bad:
        await progress.report_progress(
            f.actor(owner),
            report(task, task.version, 140, actual_finish=date.today() + timedelta(days=3)),
        )
    assert {e.field for e in bad.value.errors} == {"percentComplete", "actualFinish"}
    with pytest.raises(Forbidden):
        await progress.report_progress(f.actor(outsider), report(task, task.version, 10))
    with pytest.raises(Conflict):
        await progress.report_progress(f.actor(owner), report(task, task.version - 1, 10))
    fresh = await Task.get(id=task.id)
    assert fresh.percent_complete == 0 and fresh.version == task.version
    assert await TaskUpdate.all().count() == 0


async def test_my_tasks_lists_owned_and_department_tasks(db):
    pm, owner, liaison, outsider, task = await plan_with_owner()
    assert [m.task.id for m in await progress.my_tasks(f.actor(owner))] == [task.id]
    [mine] = await progress.my_tasks(f.actor(liaison))
    assert mine.task.id == task.id and not mine.mine
    assert await progress.my_tasks(f.actor(outsider)) == []


async def test_only_members_and_admins_find_the_task(db):
    pm, owner, liaison, outsider, task = await plan_with_owner()
    stranger = await f.user()
    admin = await f.user(is_admin=True)
    with pytest.raises(NotFound) as unknown:
        await progress.report_progress(f.actor(stranger), report(task, task.version, 10))
    assert unknown.value.field == "taskId"
    with pytest.raises(NotFound):
        await progress.report_progress(f.actor(owner), report(task, task.version, 10, task_id=0))
    membership = await ProjectMember.get(project_id=task.project_id, user_id=owner.id)
    await projects.remove_project_member(f.actor(pm), member_id=membership.id)
    with pytest.raises(NotFound):
        await progress.report_progress(f.actor(owner), report(task, task.version, 10))
    assert await TaskUpdate.all().count() == 0
    updated = await progress.report_progress(f.actor(admin), report(task, task.version, 10))
    assert updated.version == task.version + 1


async def test_an_everyday_report_costs_two_reads_and_three_writes(db):
    """Once the task has started, a report is the project and task lookups and the three
    rows (the version-checked task, the history, the audit), written together; reports
    racing on one version still keep exactly one."""
    pm, owner, liaison, outsider, task = await plan_with_owner()
    started = await progress.report_progress(f.actor(owner), report(task, task.version, 10))
    with count_queries() as counter:
        await progress.report_progress(f.actor(owner), report(task, started.version, 20))
    verbs = [q.lstrip().split()[0].upper() for q in counter.queries]
    assert verbs == ["SELECT", "SELECT", "UPDATE", "INSERT", "INSERT"], counter.queries
    results = await asyncio.gather(
        *(
            progress.report_progress(f.actor(who), report(task, started.version + 1, percent))
            for who, percent in ((owner, 30), (liaison, 40), (pm, 50))
        ),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Conflict", "Task"]
    fresh = await Task.get(id=task.id)
    assert fresh.version == started.version + 2
    history = [u.percent_complete for u in await TaskUpdate.filter(task_id=task.id)]
    assert history == [fresh.percent_complete, 20, 10]
    assert await AuditEntry.filter(action="task.progress").count() == 3


async def test_two_reports_on_one_version_keep_one(db):
    """Both phones read version v; the first to claim it wins, the other is told, not lost."""
    pm, owner, liaison, outsider, task = await plan_with_owner()
    results = await asyncio.gather(
        progress.report_progress(f.actor(owner), report(task, task.version, 30)),
        progress.report_progress(f.actor(liaison), report(task, task.version, 60)),
        return_exceptions=True,
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    winners = [r for r in results if isinstance(r, Task)]
    assert len(conflicts) == 1 and len(winners) == 1
    assert conflicts[0].field == "version"
    assert conflicts[0].params["version"] == task.version + 1
    fresh = await Task.get(id=task.id)
    assert fresh.version == task.version + 1
    assert fresh.percent_complete == winners[0].percent_complete
    assert [u.percent_complete for u in await TaskUpdate.all()] == [fresh.percent_complete]


async def test_the_owner_may_say_how_many_working_days_are_still_needed(db):
    """40 % of five days leaves three by the percentage; the owner says seven, and the
    schedule takes seven from the status date. Only work in progress takes the figure."""
    from server.projects.models import Project

    pm, owner, liaison, outsider, task = await plan_with_owner()
    calendar = await planning_scheduling.working_calendar(task.project_id)
    status = calendar.on_or_after(date.today() + timedelta(days=30))
    await Project.filter(id=task.project_id).update(status_date=status)
    for percent, days in ((0, 3), (100, 3), (40, 0), (40, "三")):
        with pytest.raises(Invalid) as bad:
            await progress.report_progress(
                f.actor(owner), report(task, task.version, percent, remaining_days=days)
            )
        assert bad.value.field == "remainingDays"
    assert (await Task.get(id=task.id)).version == task.version
    assert await TaskUpdate.filter(task_id=task.id).count() == 0

    by_percent = await progress.report_progress(f.actor(owner), report(task, task.version, 40))
    row = (await planning_queries.schedules_for([task.id]))[task.id]
    assert (row.remaining_days, row.early_finish) == (3, calendar.add_working_days(status, 2))
    judged = await progress.report_progress(
        f.actor(owner), report(task, by_percent.version, 40, remaining_days="7")
    )
    assert judged.remaining_duration_days == 7
    row = (await planning_queries.schedules_for([task.id]))[task.id]
    assert (row.remaining_days, row.early_finish) == (7, calendar.add_working_days(status, 6))
    # The next report states it anew: without a figure the percentage counts again.
    await progress.report_progress(f.actor(owner), report(task, judged.version, 80))
    row = (await planning_queries.schedules_for([task.id]))[task.id]
    assert row.remaining_days == 1
