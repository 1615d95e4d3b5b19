"""The closing report (issue 22, item 3): generated from the charter's last signed version and
the project's record, completed by the PM, signed by the heads like the charter, and needed
before the project closes. The expected figures below are worked out by hand from the seeded
dates and the company calendar (National Day 10-01…10-08 off, Saturday 10-10 a working day)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.closing import report as closing_report
from server.errors import Invalid, InvalidFields
from server.meetings.models import Meeting, MeetingKind, MeetingStatus
from server.planning import baselines, company_calendar
from server.planning import service as planning
from server.planning.models import Task, TaskStatus
from server.progress.models import ProgressSnapshot
from server.projects import lifecycle
from server.projects.models import Project, ProjectStatus, Role
from server.risks.models import Escalation, Problem, Severity
from server.signoffs import queries as signoff_queries
from server.signoffs import service as signoffs
from server.signoffs.models import DocumentKind, DocumentStatus, DocumentVersion
from tests import factories as f
from tests.server.test_signoffs import setup_project, sign

CHARTER = {
    "background": "新品上市",
    "goals": [
        {"goal": "上市首月销量", "target": "≥ 20,000 件"},
        {"goal": "退货率", "target": "< 2%"},
    ],
    "successCriteria": "客户满意度 ≥ 90%\n按期上市",
}


async def _company_calendar() -> None:
    admin = await f.user(name="日历管理员", is_admin=True)
    for day in range(1, 9):
        await company_calendar.set_calendar_day(
            f.actor(admin), day=date(2026, 10, day), is_working=False, name="国庆节"
        )
    await company_calendar.set_calendar_day(
        f.actor(admin), day=date(2026, 10, 10), is_working=True, name="国庆调休"
    )


async def _signed_charter(s) -> None:
    """Version 1 signed by everyone; version 2 (a third goal) still a draft."""
    document = await signoff_queries.open_document(
        f.actor(s.pm), project_id=s.project.id, kind=DocumentKind.CHARTER
    )
    await signoffs.revise_document(f.actor(s.pm), document_id=document.id, body=CHARTER)
    await signoffs.request_signatures(f.actor(s.pm), document_id=document.id)
    for head in s.heads.values():
        await sign(head, document)
    later = CHARTER | {"goals": [*CHARTER["goals"], {"goal": "未签的目标", "target": "x"}]}
    await signoffs.revise_document(f.actor(s.pm), document_id=document.id, body=later)


async def _plan_and_actuals(s) -> None:
    pm = f.actor(s.pm)
    start = date(2026, 9, 21)
    await Project.filter(id=s.project.id).update(start_date=start, status_date=start)
    for name, dept in s.departments.items():
        liaison = await f.user(name=f"{name}接口人", dept=dept)
        await f.member(s.pm, s.project, liaison, Role.LIAISON, dept)
        owner = liaison
    build = await planning.create_task(
        pm,
        project_id=s.project.id,
        data=planning.TaskInput(
            name="样机", planned_start=date(2026, 9, 21), duration_days=5, owner_id=owner.id
        ),
    )
    launch = await planning.create_task(
        pm,
        project_id=s.project.id,
        data=planning.TaskInput(
            name="上市发布", planned_start=date(2026, 9, 30), duration_days=0, is_milestone=True
        ),
    )
    await baselines.approve_plan(pm, project_id=s.project.id)
    for task, finish in ((build, date(2026, 9, 28)), (launch, date(2026, 10, 10))):
        await Task.filter(id=task.id).update(
            status=TaskStatus.DONE, percent_complete=100, actual_finish=finish
        )


async def _record(s) -> None:
    opened = datetime(2026, 9, 22, 9, tzinfo=UTC)
    for severity, days in ((Severity.HIGH, 2), (Severity.HIGH, 4), (Severity.MEDIUM, None)):
        problem = await Problem.create(project_id=s.project.id, title="问题", severity=severity)
        resolved = opened + timedelta(days=days) if days else None
        await Problem.filter(id=problem.id).update(created_at=opened, resolved_at=resolved)
    for n, level in enumerate((1, 1, 2)):
        await Escalation.create(
            project_id=s.project.id,
            slot=f"t:{n}",
            subject="task",
            episode=1,
            level=level,
            days_late=3,
            summary="逾期",
        )
    ended = datetime(2026, 9, 23, 10, tzinfo=UTC)
    for published_after in (timedelta(hours=5), timedelta(hours=30), None):
        await Meeting.create(
            project_id=s.project.id,
            kind=MeetingKind.WEEKLY,
            title="周例会",
            scheduled_start=ended - timedelta(hours=1),
            duration_minutes=60,
            status=MeetingStatus.ENDED if published_after else MeetingStatus.SCHEDULED,
            ended_at=ended if published_after else None,
            minutes_due_at=ended + timedelta(hours=24) if published_after else None,
            minutes_published_at=ended + published_after if published_after else None,
        )
    for day, spi in (
        (date(2026, 9, 22), 0.9),
        (date(2026, 9, 25), 0.95),
        (date(2026, 9, 29), 1.02),
    ):
        await ProgressSnapshot.create(
            project_id=s.project.id,
            day=day,
            slot=f"{s.project.id}:{day}",
            planned_percent=50,
            actual_percent=48,
            spi=spi,
            late_tasks=0,
            computed_at=datetime(2026, 9, 29, tzinfo=UTC),
        )


async def closing_project():
    s = await setup_project()
    await _company_calendar()
    await _signed_charter(s)
    await _plan_and_actuals(s)
    await _record(s)
    return s


async def _body(document) -> dict:
    document = await type(document).get(id=document.id)
    version = await DocumentVersion.get(document_id=document.id, number=document.current_number)
    return version.body


async def test_the_report_measures_the_project_against_its_signed_charter_and_baseline(db):
    s = await closing_project()
    with pytest.raises(Invalid) as too_early:
        await closing_report.draft_closing_report(f.actor(s.pm), project_id=s.project.id)
    assert too_early.value.field == "status"
    assert await closing_report.current_report(s.project.id) is None
    await Project.filter(id=s.project.id).update(status=ProjectStatus.CLOSING)
    document = await closing_report.draft_closing_report(f.actor(s.pm), project_id=s.project.id)
    body = await _body(document)
    # The goals of the signed version 1, not the unsigned third goal of version 2.
    assert [g["goal"] for g in body["goalResults"]] == ["上市首月销量", "退货率"]
    assert [c["criterion"] for c in body["criterionResults"]] == ["客户满意度 ≥ 90%", "按期上市"]
    # Baseline finish 09-30 (the milestone); actual 10-10: 10-01…10-08 are holidays, 10-09 a
    # Friday and 10-10 a make-up Saturday, so two working days late. The prototype, due Friday
    # 09-25 and done Monday 09-28, is one working day late (the weekend does not count).
    assert body["scheduleFigures"] == ["2026-09-30 | 2026-10-10 | +2"]
    assert body["milestoneFigures"] == ["上市发布 | 2026-09-30 | 2026-10-10 | +2"]
    # The last SPI of each ISO week.
    assert body["spiSeries"] == ["2026-W39 | 0.95", "2026-W40 | 1.02"]
    # Two high problems resolved in 2 and 4 days (median 3.0), one medium still open.
    assert body["problemFigures"] == ["高 | 2 | 2 | 3.0", "中 | 1 | 0 |"]
    assert body["escalationFigures"] == ["1 | 2", "2 | 1"]
    # Two meetings held (the scheduled one is not), both published, one within 24 hours.
    assert body["meetingFigures"] == ["2 | 2 | 1 | 50"]


async def test_the_pm_writes_results_and_the_heads_sign_before_the_project_closes(db):
    s = await closing_project()
    await Project.filter(id=s.project.id).update(status=ProjectStatus.CLOSING)
    pm = f.actor(s.pm)
    document = await closing_report.draft_closing_report(pm, project_id=s.project.id)
    good = {"result": "21,300 件", "evidence": "https://bi.example.com/launch", "verdict": "MET"}
    with pytest.raises(InvalidFields) as bad:
        await signoffs.revise_document(
            pm,
            document_id=document.id,
            body={
                "goalResults": [good, {"result": "2.4%", "evidence": "ftp://x", "verdict": "MAYBE"}]
            },
        )
    assert {e.field for e in bad.value.errors} == {"goal-1-evidence", "goal-1-verdict"}
    assert (await _body(document))["goalResults"][0]["result"] == ""  # nothing was saved
    with pytest.raises(Invalid) as short:
        await signoffs.revise_document(pm, document_id=document.id, body={"goalResults": [good]})
    assert short.value.field == "goal"
    missed = {"result": "2.4%", "evidence": "", "verdict": "NOT_MET"}
    await signoffs.revise_document(
        pm,
        document_id=document.id,
        body={"goalResults": [good, missed], "summary": "按期上市，退货率偏高。"},
    )
    # Refreshing the figures keeps what the PM wrote; the goals' words cannot be changed.
    await closing_report.draft_closing_report(pm, project_id=s.project.id)
    body = await _body(document)
    assert body["goalResults"][0] == {"goal": "上市首月销量", "target": "≥ 20,000 件"} | good
    assert body["summary"] == "按期上市，退货率偏高。"
    project = await Project.get(id=s.project.id)
    assert "总结报告" in "；".join(
        lifecycle.i18n.translate("zh-CN", m)
        for m in await lifecycle.missing_for(project, ProjectStatus.CLOSED)
    )
    await signoffs.request_signatures(pm, document_id=document.id)
    for head in s.heads.values():
        await sign(head, document)
    report = await closing_report.current_report(s.project.id)
    assert report is not None and report.status == DocumentStatus.SIGNED
    assert not [
        m
        for m in await lifecycle.missing_for(project, ProjectStatus.CLOSED)
        if "closing report" in m
    ]
    # A member who is not the PM cannot generate or edit it.
    with pytest.raises(Exception) as refused:
        await closing_report.draft_closing_report(f.actor(s.heads["生产"]), project_id=s.project.id)
    assert type(refused.value).__name__ == "Forbidden"
