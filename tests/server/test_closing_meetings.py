"""Step 8 in meetings: an acceptance meeting lists what awaits acceptance and the receiving
departments decide there (the minutes carry the decisions); a retrospective meeting goes
through every department's retrospective live (the minutes carry the ones gone through)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server.audit.models import AuditEntry
from server.closing import acceptance as closing
from server.closing import retrospectives as retros
from server.closing.models import Acceptance, AcceptanceStatus, Retrospective
from server.errors import Conflict, Forbidden, Invalid
from server.meetings import minutes as meeting_minutes
from server.meetings import queries as meeting_queries
from server.meetings import running as meeting_running
from server.meetings import service as meetings
from server.projects.models import Project, ProjectStatus
from tests import factories as f
from tests.server.test_acceptance import finish, team

SOON = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def meeting_of(pm, project, kind: str, title: str) -> int:
    meeting = await meetings.create_meeting(
        f.actor(pm),
        project_id=project.id,
        data=meetings.MeetingInput(
            kind=kind, title=title, scheduled_start=SOON, duration_minutes=60
        ),
    )
    return meeting.id


async def view_of(pm, meeting_id: int) -> meeting_queries.MeetingView:
    return await meeting_queries.meeting_view(
        await meeting_queries.get_meeting(f.actor(pm), meeting_id=meeting_id)
    )


async def test_an_acceptance_meeting_lists_what_awaits_and_records_the_decisions(db):
    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await finish(rnd_liaison, task)
    handed = await closing.submit_for_acceptance(f.actor(rnd_liaison), closing.Handover(task.id))
    meeting_id = await meeting_of(pm, project, "ACCEPTANCE", "验收会")
    weekly_id = await meeting_of(pm, project, "WEEKLY", "周例会")

    assert [a.id for a in (await view_of(pm, meeting_id)).awaiting_acceptance] == [handed.id]
    assert (await view_of(pm, weekly_id)).awaiting_acceptance == []

    with pytest.raises(Invalid) as not_running:
        await closing.decide_acceptance(
            f.actor(market_head),
            acceptance_id=handed.id,
            version=1,
            verdict=closing.Verdict("ACCEPT", meeting_id=meeting_id),
        )
    assert not_running.value.field == "meetingId"
    assert (await Acceptance.get(id=handed.id)).status == AcceptanceStatus.SUBMITTED

    await meeting_running.start_meeting(f.actor(pm), meeting_id=meeting_id)
    other = await f.project(pm, code="OTHR")
    elsewhere = await meeting_of(pm, other, "ACCEPTANCE", "别的验收会")
    with pytest.raises(Invalid) as wrong_project:
        await closing.decide_acceptance(
            f.actor(market_head),
            acceptance_id=handed.id,
            version=1,
            verdict=closing.Verdict("ACCEPT", meeting_id=elsewhere),
        )
    assert wrong_project.value.field == "meetingId"
    with pytest.raises(Forbidden):  # chairing the meeting does not make the PM the receiver
        await closing.decide_acceptance(
            f.actor(rnd_liaison),
            acceptance_id=handed.id,
            version=1,
            verdict=closing.Verdict("ACCEPT", meeting_id=meeting_id),
        )

    await closing.decide_acceptance(
        f.actor(market_head),
        acceptance_id=handed.id,
        version=1,
        verdict=closing.Verdict("ACCEPT", comment="样机合格", meeting_id=meeting_id),
    )
    view = await view_of(pm, meeting_id)
    assert view.awaiting_acceptance == []
    assert [(a.id, a.status) for a in view.decided_acceptances] == [
        (handed.id, AcceptanceStatus.ACCEPTED)
    ]
    assert (await view_of(pm, weekly_id)).decided_acceptances == []

    await meeting_running.end_meeting(f.actor(pm), meeting_id=meeting_id)
    _, _, draft = await meeting_minutes.minutes_text(f.actor(pm), meeting_id=meeting_id)
    assert "## 验收结论" in draft
    assert "1 样机 → 市场部: 已接受 (李娜); 样机合格" in draft


async def filed(who, project, department, **words) -> Retrospective:
    return await retros.file_retrospective(
        f.actor(who),
        project_id=project.id,
        data=retros.RetrospectiveInput(department_id=department.id, **words),
    )


async def test_a_retrospective_meeting_goes_through_each_departments_retrospective(db):
    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await Project.filter(id=project.id).update(status=ProjectStatus.CLOSING)
    rnd_retro = await filed(
        rnd_liaison, project, rnd, went_well="联调顺利", lessons="模具提前三周下单", tags="模具"
    )
    meeting_id = await meeting_of(pm, project, "RETROSPECTIVE", "项目复盘会")
    weekly_id = await meeting_of(pm, project, "WEEKLY", "周例会")

    view = await view_of(pm, meeting_id)
    assert [r.id for r in view.retrospectives] == [rnd_retro.id]
    assert [d.name for d in view.departments_without_retrospective] == ["市场部"]

    review = dict(retrospective_id=rnd_retro.id, meeting_id=meeting_id, version=1)
    with pytest.raises(Invalid) as not_running:
        await retros.review_retrospective(f.actor(pm), **review)
    assert not_running.value.field == "meetingId"
    await meeting_running.start_meeting(f.actor(pm), meeting_id=meeting_id)
    await meeting_running.start_meeting(f.actor(pm), meeting_id=weekly_id)
    with pytest.raises(Invalid) as wrong_kind:
        await retros.review_retrospective(
            f.actor(pm), retrospective_id=rnd_retro.id, meeting_id=weekly_id, version=1
        )
    assert wrong_kind.value.field == "meetingId"
    with pytest.raises(Forbidden):  # a liaison files; the chair records the meeting
        await retros.review_retrospective(f.actor(rnd_liaison), **review)
    with pytest.raises(Conflict):  # the chair saw an older text than the one filed now
        await retros.review_retrospective(f.actor(pm), **{**review, "version": 0})
    assert (await Retrospective.get(id=rnd_retro.id)).reviewed_meeting_id is None

    reviewed = await retros.review_retrospective(f.actor(pm), **review)
    assert reviewed.reviewed_meeting_id == meeting_id and reviewed.version == 2
    with pytest.raises(Invalid):
        await retros.review_retrospective(f.actor(pm), **{**review, "version": 2})
    assert await AuditEntry.filter(action="retrospective.review").count() == 1

    # The market liaison files during the meeting: it shows up, not yet gone through.
    market_retro = await filed(market_liaison, project, market, to_improve="需求变更太晚")
    view = await view_of(pm, meeting_id)
    assert {r.id for r in view.retrospectives} == {rnd_retro.id, market_retro.id}
    assert [r.id for r in view.reviewed_retrospectives] == [rnd_retro.id]
    assert view.departments_without_retrospective == []

    await meeting_running.end_meeting(f.actor(pm), meeting_id=meeting_id)
    _, _, draft = await meeting_minutes.minutes_text(f.actor(pm), meeting_id=meeting_id)
    assert "## 复盘回顾" in draft
    assert "### 研发部" in draft and "- 经验: 模具提前三周下单" in draft
    assert "- 标签: #模具\n\n## 行动项" in draft
    assert "需求变更太晚" not in draft  # filed, but not gone through in the meeting

    # An edit after the review is new words: it is no longer marked as gone through.
    edited = await filed(
        rnd_liaison, project, rnd, lessons="模具提前四周下单", version=reviewed.version
    )
    assert edited.reviewed_meeting_id is None and edited.reviewed_at is None
