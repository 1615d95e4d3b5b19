"""Acceptance of deliverables: handed over when done, decided by the receiving department's
head or liaison only, a rejection reopening the task, and closing refused until all is
accepted."""

from __future__ import annotations

from datetime import date

import pytest

from server.audit.models import AuditEntry
from server.closing import acceptance as closing
from server.closing.models import Acceptance, AcceptanceStatus
from server.errors import Conflict, Forbidden, Invalid
from server.planning import service as planning
from server.planning.models import Task, TaskStatus
from server.progress import service as progress
from server.progress.models import TaskUpdate
from server.projects import lifecycle
from server.projects.models import Project, ProjectStatus, Role
from tests import factories as f


async def team():
    market = await f.department("市场部")
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳", dept=market)
    project = await f.project(pm, departments=[rnd], code="ACPT")
    rnd_liaison = await f.user(name="孙浩", dept=rnd)
    market_liaison = await f.user(name="周敏", dept=market)
    market_head = await f.user(name="李娜", dept=market)
    await f.member(pm, project, rnd_liaison, Role.LIAISON, rnd)
    await f.member(pm, project, market_liaison, Role.LIAISON, market)
    await f.member(pm, project, market_head, Role.DEPARTMENT_HEAD, market)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="样机",
            planned_start=date(2026, 11, 2),
            duration_days=3,
            owner_id=rnd_liaison.id,
            department_id=rnd.id,
            deliverable="样机 3 台与测试报告",
        ),
    )
    return project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd


async def finish(who, task):
    current = await Task.get(id=task.id)
    await progress.report_progress(
        f.actor(who),
        progress.ProgressInput(task_id=task.id, version=current.version, percent_complete=100),
    )


async def test_a_done_deliverable_is_handed_over_and_accepted_by_the_receiving_department(db):
    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    with pytest.raises(Invalid) as not_done:
        await closing.submit_for_acceptance(f.actor(rnd_liaison), closing.Handover(task.id))
    assert not_done.value.field == "taskId"
    await finish(rnd_liaison, task)
    handed = await closing.submit_for_acceptance(
        f.actor(rnd_liaison), closing.Handover(task.id, note="请验收")
    )
    assert handed.receiving_department_id == market.id  # the initiating department by default
    assert [t.id for t in await closing.ready_to_hand_over(project.id)] == []
    with pytest.raises(Invalid):
        await closing.submit_for_acceptance(f.actor(pm), closing.Handover(task.id))
    with pytest.raises(Forbidden):  # the supplying department does not accept its own work
        await closing.decide_acceptance(
            f.actor(rnd_liaison),
            acceptance_id=handed.id,
            version=1,
            verdict=closing.Verdict("ACCEPT"),
        )
    with pytest.raises(Invalid) as bad_link:
        await closing.decide_acceptance(
            f.actor(market_head),
            acceptance_id=handed.id,
            version=1,
            verdict=closing.Verdict("ACCEPT", evidence_link="javascript:alert(1)"),
        )
    assert bad_link.value.field == "evidenceLink"
    accepted = await closing.decide_acceptance(
        f.actor(market_head),
        acceptance_id=handed.id,
        version=1,
        verdict=closing.Verdict("ACCEPT", comment="符合要求", evidence_link="https://x/报告.pdf"),
    )
    assert accepted.status == AcceptanceStatus.ACCEPTED and accepted.decided_by_id == market_head.id
    with pytest.raises(Conflict):
        await closing.decide_acceptance(
            f.actor(market_liaison),
            acceptance_id=handed.id,
            version=1,
            verdict=closing.Verdict("REJECT", comment="x"),
        )
    assert await AuditEntry.filter(action="acceptance.accept", object_id=handed.id).exists()


async def test_a_rejection_needs_a_reason_and_reopens_the_task(db):
    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await finish(rnd_liaison, task)
    handed = await closing.submit_for_acceptance(f.actor(pm), closing.Handover(task.id))
    with pytest.raises(Invalid) as silent:
        await closing.decide_acceptance(
            f.actor(market_liaison),
            acceptance_id=handed.id,
            version=1,
            verdict=closing.Verdict("REJECT"),
        )
    assert silent.value.field == "comment"
    assert (await Acceptance.get(id=handed.id)).status == AcceptanceStatus.SUBMITTED
    await closing.decide_acceptance(
        f.actor(market_liaison),
        acceptance_id=handed.id,
        version=1,
        verdict=closing.Verdict("REJECT", comment="缺少跌落测试报告"),
    )
    reopened = await Task.get(id=task.id)
    assert (reopened.status, reopened.percent_complete, reopened.actual_finish) == (
        TaskStatus.IN_PROGRESS,
        90,
        None,
    )
    note = await TaskUpdate.filter(task_id=task.id).order_by("-id").first()
    assert note.note == "缺少跌落测试报告" and note.author_id == market_liaison.id
    # Finished again, handed over again.
    await finish(rnd_liaison, task)
    again = await closing.submit_for_acceptance(f.actor(rnd_liaison), closing.Handover(task.id))
    assert again.id != handed.id


async def test_the_project_closes_only_once_every_deliverable_is_accepted(db):
    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await Project.filter(id=project.id).update(status=ProjectStatus.CLOSING)
    await finish(rnd_liaison, task)
    current = await Project.get(id=project.id)
    with pytest.raises(Invalid) as refused:
        await lifecycle.set_status(
            f.actor(pm), project_id=project.id, version=current.version, status="CLOSED"
        )
    assert "验收" in refused.value.translated("zh-CN")
    handed = await closing.submit_for_acceptance(f.actor(pm), closing.Handover(task.id))
    await closing.decide_acceptance(
        f.actor(market_head), acceptance_id=handed.id, version=1, verdict=closing.Verdict("ACCEPT")
    )
    with pytest.raises(Invalid) as report_left:
        await lifecycle.set_status(
            f.actor(pm), project_id=project.id, version=current.version, status="CLOSED"
        )
    # Acceptance is done; what is left is the closing report (tests/server/test_lifecycle.py
    # signs it and closes the project).
    left = report_left.value.translated("zh-CN")
    assert "验收" not in left and "总结报告" in left
