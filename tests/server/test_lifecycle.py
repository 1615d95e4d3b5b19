"""The project's lifecycle: active by itself once the charter is signed and the plan approved,
closing and closed by the PM (refused with what is missing), on hold and back with a reason,
archived read-only and restored only by an administrator."""

from __future__ import annotations

from datetime import date

import pytest

from server.audit.models import AuditEntry
from server.closing import report as closing_report
from server.errors import Forbidden, Invalid
from server.planning import baselines
from server.planning import service as planning
from server.planning.models import Task, TaskStatus
from server.progress import service as progress
from server.projects import lifecycle
from server.projects.models import Project, ProjectStatus, Role
from server.signoffs import service as signoffs
from tests import factories as f
from tests.server.test_signoffs import charter_in_signing, setup_project, sign


async def ready_to_start():
    s = await setup_project()
    liaisons = {}
    for name, dept in s.departments.items():
        liaison = await f.user(name=f"{name}接口人", dept=dept)
        await f.member(s.pm, s.project, liaison, Role.LIAISON, dept)
        liaisons[name] = liaison
    task = await planning.create_task(
        f.actor(s.pm),
        project_id=s.project.id,
        data=planning.TaskInput(
            name="样机",
            planned_start=date(2026, 11, 2),
            duration_days=3,
            owner_id=liaisons["研发"].id,
        ),
    )
    return s, task, liaisons


async def status_of(project: Project) -> ProjectStatus:
    return (await Project.get(id=project.id)).status


async def move(who, project, status, reason=None):
    current = await Project.get(id=project.id)
    return await lifecycle.set_status(
        f.actor(who), project_id=project.id, version=current.version, status=status, reason=reason
    )


async def test_a_project_starts_by_itself_once_charter_and_plan_are_done(db):
    s, task, liaisons = await ready_to_start()
    with pytest.raises(Invalid) as early:
        await move(s.pm, s.project, "ACTIVE")
    message = early.value.translated("zh-CN")
    assert early.value.field == "status" and "章程" in message and "计划" in message
    await baselines.approve_plan(f.actor(s.pm), project_id=s.project.id)
    assert await status_of(s.project) == ProjectStatus.PLANNING  # the charter is not signed
    document = await charter_in_signing(s)
    for head in s.heads.values():
        await sign(head, document)
    assert await status_of(s.project) == ProjectStatus.ACTIVE
    entry = await AuditEntry.get(action="project.status", project_id=s.project.id)
    assert entry.actor_id is None and entry.after["status"] == "ACTIVE"


async def test_closing_is_refused_while_work_is_open_then_closed_and_archived(db):
    s, task, liaisons = await ready_to_start()
    await Project.filter(id=s.project.id).update(status=ProjectStatus.ACTIVE)
    with pytest.raises(Invalid) as wrong:
        await move(s.pm, s.project, "CLOSED")
    assert wrong.value.field == "status"
    await move(s.pm, s.project, "CLOSING")
    with pytest.raises(Invalid) as open_work:
        await move(s.pm, s.project, "CLOSED")
    assert "任务" in open_work.value.translated("zh-CN")
    current = await Task.get(id=task.id)
    await progress.report_progress(
        f.actor(liaisons["研发"]),
        progress.ProgressInput(task_id=task.id, version=current.version, percent_complete=100),
    )
    assert (await Task.get(id=task.id)).status == TaskStatus.DONE
    with pytest.raises(Invalid) as no_report:
        await move(s.pm, s.project, "CLOSED")
    assert "总结报告" in no_report.value.translated("zh-CN")
    report = await closing_report.draft_closing_report(f.actor(s.pm), project_id=s.project.id)
    await signoffs.request_signatures(f.actor(s.pm), document_id=report.id)
    for head in s.heads.values():
        await sign(head, report)
    await move(s.pm, s.project, "CLOSED")
    await move(s.pm, s.project, "ARCHIVED")
    assert await status_of(s.project) == ProjectStatus.ARCHIVED
    with pytest.raises(Forbidden):
        await move(s.pm, s.project, "CLOSED", reason="还要补资料")
    admin = await f.user(name="管理员", is_admin=True)
    with pytest.raises(Invalid) as no_reason:
        await move(admin, s.project, "CLOSED")
    assert no_reason.value.field == "reason"
    restored = await move(admin, s.project, "CLOSED", reason="审计需要补充附件")
    assert restored.status == ProjectStatus.CLOSED
    assert restored.status_reason == "审计需要补充附件"


async def test_on_hold_needs_a_reason_and_resumes_where_it_was(db):
    s, task, liaisons = await ready_to_start()
    with pytest.raises(Forbidden):
        await move(liaisons["研发"], s.project, "ON_HOLD", reason="x")
    with pytest.raises(Invalid) as silent:
        await move(s.pm, s.project, "ON_HOLD")
    assert silent.value.field == "reason"
    held = await move(s.pm, s.project, "ON_HOLD", reason="等待预算批复")
    assert (held.status, held.held_from) == (ProjectStatus.ON_HOLD, ProjectStatus.PLANNING)
    assert lifecycle.allowed_moves(held) == [ProjectStatus.PLANNING]
    with pytest.raises(Invalid):
        await move(s.pm, s.project, "ACTIVE", reason="预算已批")  # back where it was, only
    back = await move(s.pm, s.project, "PLANNING", reason="预算已批")
    assert (back.status, back.held_from, back.status_reason) == (
        ProjectStatus.PLANNING,
        None,
        "预算已批",
    )
    assert await AuditEntry.filter(action="project.status", project_id=s.project.id).count() == 2
