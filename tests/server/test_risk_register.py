"""The risk register: raising, levels through the matrix, who may change what, reviews in a
weekly meeting, a risk that occurs becoming a problem, and the link to the critical path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server import clock
from server.audit.models import AuditEntry
from server.errors import Conflict, Forbidden, Invalid, InvalidFields
from server.meetings import minutes as meeting_minutes
from server.meetings import queries as meeting_queries
from server.meetings import running as meeting_running
from server.meetings import service as meetings
from server.org.models import Department, User
from server.planning import service as planning
from server.planning.models import Task, TaskSchedule
from server.progress import snapshots
from server.progress.models import ProgressSnapshot
from server.projects.models import Project, Role
from server.risks import queries as risk_queries
from server.risks import register
from server.risks.models import (
    AssessmentKind,
    Problem,
    Risk,
    RiskAssessment,
    RiskLevel,
    RiskStatus,
    Severity,
)
from server.risks.register import RiskInput
from tests import factories as f

MONDAY = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, Mon 7 Dec 2026


@pytest.fixture(autouse=True)
def on_monday():
    with clock.travel_to(MONDAY):
        yield


# --- the matrix, pure ---------------------------------------------------------------------------


@given(
    probability=st.integers(1, 5),
    impact=st.integers(1, 5),
    medium=st.integers(1, 24),
    gap=st.integers(1, 24),
)
def test_the_level_is_the_band_the_score_falls_in(probability, impact, medium, gap):
    high = min(medium + gap, 25)
    project = Project(risk_high_score=high, risk_medium_score=medium)
    expected = (
        RiskLevel.HIGH
        if probability * impact >= high
        else RiskLevel.MEDIUM
        if probability * impact >= medium
        else RiskLevel.LOW
    )
    assert register.level_of(project, probability, impact) == expected


def test_the_default_matrix_is_high_from_15_and_medium_from_6():
    project = Project(risk_high_score=15, risk_medium_score=6)
    cells = {(p, i): register.level_of(project, p, i) for p in range(1, 6) for i in range(1, 6)}
    assert sum(level == RiskLevel.HIGH for level in cells.values()) == 6  # 3×5 … 5×5
    assert cells[(3, 5)] == RiskLevel.HIGH and cells[(2, 7 // 2)] == RiskLevel.MEDIUM
    assert cells[(1, 5)] == RiskLevel.LOW and cells[(2, 2)] == RiskLevel.LOW


# --- a team -------------------------------------------------------------------------------------


@dataclass
class Team:
    project: Project
    rnd: Department
    ops: Department
    pm: User
    liaison: User
    other_liaison: User
    member: User
    head: User
    boss: User
    viewer: User
    task: Task


async def team() -> Team:
    rnd = await f.department("研发部")
    ops = await f.department("生产部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd, ops], code="RISK")
    liaison = await f.user(name="李娜", dept=rnd)
    other_liaison = await f.user(name="周强", dept=ops)
    member = await f.user(name="孙浩", dept=rnd)
    head = await f.user(name="张伟", dept=rnd)
    boss = await f.user(name="赵总")
    viewer = await f.user(dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, other_liaison, Role.LIAISON, ops)
    await f.member(pm, project, member, Role.MEMBER, rnd)
    await f.member(pm, project, head, Role.DEPARTMENT_HEAD, rnd)
    await f.member(pm, project, boss, Role.MANAGEMENT, rnd)
    await f.member(pm, project, viewer, Role.VIEWER, rnd)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="模具开发",
            planned_start=date(2026, 12, 7),
            duration_days=10,
            owner_id=member.id,
            department_id=rnd.id,
        ),
    )
    return Team(project, rnd, ops, pm, liaison, other_liaison, member, head, boss, viewer, task)


async def raised(t: Team, who: User | None = None, **fields) -> Risk:
    data = RiskInput(title="模具供应商延期", probability=3, impact=4)
    for name, value in fields.items():
        setattr(data, name, value)
    return await register.raise_risk(f.actor(who or t.pm), project_id=t.project.id, data=data)


# --- raising ------------------------------------------------------------------------------------


async def test_a_risk_takes_its_level_from_the_matrix_and_its_raiser_as_owner(db):
    t = await team()
    risk = await raised(t, t.member, task_ids=[t.task.id], review_date=date(2026, 12, 14))
    assert (risk.level, risk.level_by_hand) == (RiskLevel.MEDIUM, False)  # 3 × 4 = 12
    assert risk.owner_id == t.member.id and risk.department_id == t.rnd.id
    assert risk.status == RiskStatus.OPEN and risk.version == 1
    history = await RiskAssessment.filter(risk_id=risk.id)
    assert [(h.kind, h.level) for h in history] == [(AssessmentKind.RAISED, RiskLevel.MEDIUM)]
    assert await AuditEntry.filter(action="risk.raise", object_id=risk.id).exists()
    tasks = (await risk_queries.threatened_tasks([risk.id]))[risk.id]
    assert [x.task.id for x in tasks] == [t.task.id] and tasks[0].is_critical


async def test_a_level_set_by_hand_needs_a_reason(db):
    t = await team()
    with pytest.raises(Invalid) as refused:
        await raised(t, level="HIGH")
    assert refused.value.field == "levelReason"
    assert await Risk.all().count() == 0
    risk = await raised(t, level="HIGH", level_reason="客户已两次投诉")
    assert (risk.level, risk.level_by_hand, risk.level_reason) == (
        RiskLevel.HIGH,
        True,
        "客户已两次投诉",
    )
    back = await register.update_risk(
        f.actor(t.pm), risk_id=risk.id, version=1, data=RiskInput(use_matrix=True)
    )
    assert (back.level, back.level_by_hand, back.level_reason) == (RiskLevel.MEDIUM, False, "")


async def test_bad_input_is_refused_on_each_field_and_nothing_is_written(db):
    t = await team()
    outsider = await f.user()
    elsewhere = await f.project(t.pm, code="ELSE")
    other_task = await planning.create_task(
        f.actor(t.pm),
        project_id=elsewhere.id,
        data=planning.TaskInput(name="别的", planned_start=date(2026, 12, 7), duration_days=1),
    )
    with pytest.raises(InvalidFields) as refused:
        await raised(
            t,
            title="",
            probability=6,
            impact=0,
            owner_id=outsider.id,
            review_date=date(2026, 12, 4),
            task_ids=[other_task.id],
            category="WEATHER",
        )
    fields = {e.field for e in refused.value.errors}
    assert fields == {
        "title",
        "probability",
        "impact",
        "ownerId",
        "reviewDate",
        "taskIds",
        "category",
    }
    assert await Risk.all().count() == 0
    assert not await AuditEntry.filter(action="risk.raise").exists()


async def test_viewers_and_management_may_not_raise_a_risk(db):
    t = await team()
    for who in (t.viewer, t.boss):
        with pytest.raises(Forbidden):
            await raised(t, who)
    for who in (t.member, t.liaison, t.head):
        assert (await raised(t, who)).raised_by_id == who.id


# --- changing -----------------------------------------------------------------------------------


async def test_the_pm_the_owner_and_the_departments_liaison_edit_it_and_nobody_else(db):
    t = await team()
    risk = await raised(t, t.head)  # owned by the head, in 研发部
    version = risk.version
    for who in (t.member, t.other_liaison, t.boss, t.viewer):
        with pytest.raises(Forbidden):
            await register.update_risk(
                f.actor(who), risk_id=risk.id, version=version, data=RiskInput(measures="x")
            )
    for who in (t.pm, t.liaison, t.head):
        risk = await register.update_risk(
            f.actor(who), risk_id=risk.id, version=version, data=RiskInput(measures=who.name)
        )
        version = risk.version
    assert risk.measures == t.head.name and risk.version == 4


async def test_a_stale_version_is_a_conflict_naming_the_current_one_and_changes_nothing(db):
    t = await team()
    risk = await raised(t)
    await register.update_risk(
        f.actor(t.pm), risk_id=risk.id, version=1, data=RiskInput(measures="双供应商")
    )
    with pytest.raises(Conflict) as refused:
        await register.update_risk(
            f.actor(t.pm), risk_id=risk.id, version=1, data=RiskInput(probability=0)
        )
    assert refused.value.params["version"] == 2
    assert (await Risk.get(id=risk.id)).measures == "双供应商"


async def test_level_changes_are_kept_in_the_history(db):
    t = await team()
    risk = await raised(t)  # 3 × 4, medium
    risk = await register.update_risk(
        f.actor(t.pm), risk_id=risk.id, version=1, data=RiskInput(probability=4)
    )
    assert risk.level == RiskLevel.HIGH  # 16
    risk = await register.update_risk(
        f.actor(t.pm), risk_id=risk.id, version=2, data=RiskInput(measures="只改措施")
    )
    history = await RiskAssessment.filter(risk_id=risk.id).order_by("id")
    assert [(h.kind, h.previous_level, h.level) for h in history] == [
        (AssessmentKind.RAISED, None, RiskLevel.MEDIUM),
        (AssessmentKind.UPDATED, RiskLevel.MEDIUM, RiskLevel.HIGH),
    ]


async def test_a_new_matrix_relevels_the_risks_that_follow_it(db):
    t = await team()
    follows = await raised(t)  # 12: medium
    by_hand = await raised(t, level="LOW", level_reason="已有备选方案")
    project = await register.set_risk_matrix(
        f.actor(t.pm),
        project_id=t.project.id,
        version=t.project.version,
        high_from=12,
        medium_from=4,
    )
    assert (project.risk_high_score, project.risk_medium_score) == (12, 4)
    assert (await Risk.get(id=follows.id)).level == RiskLevel.HIGH
    assert (await Risk.get(id=by_hand.id)).level == RiskLevel.LOW
    with pytest.raises(Invalid) as refused:
        await register.set_risk_matrix(
            f.actor(t.pm),
            project_id=t.project.id,
            version=project.version,
            high_from=8,
            medium_from=9,
        )
    assert refused.value.field == "riskMediumScore"
    with pytest.raises(Forbidden):
        await register.set_risk_matrix(
            f.actor(t.liaison),
            project_id=t.project.id,
            version=project.version,
            high_from=20,
            medium_from=9,
        )


# --- occurring and closing ----------------------------------------------------------------------


async def test_a_risk_that_occurs_becomes_a_problem_linked_both_ways(db):
    t = await team()
    risk = await raised(t, t.member, probability=4, impact=4, task_ids=[t.task.id])
    occurred = await register.risk_occurred(
        f.actor(t.liaison), risk_id=risk.id, version=risk.version, note="供应商停产"
    )
    assert occurred.status == RiskStatus.OCCURRED
    problem = await Problem.get(id=occurred.problem_id)
    assert (problem.owner_id, problem.department_id, problem.task_id) == (
        t.member.id,
        t.rnd.id,
        t.task.id,
    )
    assert problem.severity == Severity.HIGH and problem.due_date == date(2026, 12, 7)
    assert "供应商停产" in problem.description
    assert [r.id for r in await Risk.filter(problem_id=problem.id)] == [risk.id]
    with pytest.raises(Invalid) as again:
        await register.risk_occurred(f.actor(t.pm), risk_id=risk.id, version=occurred.version)
    assert again.value.field == "status"
    assert await Problem.all().count() == 1


async def test_a_closed_risk_cannot_occur_and_closing_twice_is_refused(db):
    t = await team()
    risk = await raised(t)
    closed = await register.close_risk(f.actor(t.pm), risk_id=risk.id, version=1, note="已排除")
    assert closed.status == RiskStatus.CLOSED and closed.closed_at is not None
    with pytest.raises(Invalid) as refused:
        await register.risk_occurred(f.actor(t.pm), risk_id=risk.id, version=closed.version)
    assert refused.value.field == "status"
    with pytest.raises(Invalid):
        await register.close_risk(f.actor(t.pm), risk_id=risk.id, version=closed.version)
    assert await Problem.all().count() == 0
    reopened = await register.update_risk(
        f.actor(t.pm), risk_id=risk.id, version=closed.version, data=RiskInput(status="OPEN")
    )
    assert reopened.status == RiskStatus.OPEN and reopened.closed_at is None


# --- review -------------------------------------------------------------------------------------


async def weekly_meeting(t: Team) -> int:
    meeting = await meetings.create_meeting(
        f.actor(t.pm),
        project_id=t.project.id,
        data=meetings.MeetingInput(
            kind="WEEKLY",
            title="第1周例会",
            scheduled_start=MONDAY + timedelta(hours=1),
            duration_minutes=60,
        ),
    )
    return meeting.id


async def test_the_weekly_meeting_lists_high_risks_and_those_due_and_its_minutes_the_reviews(db):
    t = await team()
    high = await raised(t, title="关键芯片断供", probability=5, impact=4)
    due = await raised(
        t, title="测试设备不足", probability=2, impact=2, review_date=date(2026, 12, 7)
    )
    later = await raised(
        t, title="人手紧张", probability=2, impact=3, review_date=date(2026, 12, 21)
    )
    meeting_id = await weekly_meeting(t)
    view = await meeting_queries.meeting_view(
        await meeting_queries.get_meeting(f.actor(t.pm), meeting_id=meeting_id)
    )
    assert {r.id for r in view.risks_to_review} == {high.id, due.id}
    assert later.id not in {r.id for r in view.risks_to_review}

    with pytest.raises(Invalid) as not_running:
        await register.review_risk(
            f.actor(t.pm),
            risk_id=high.id,
            version=1,
            data=register.ReviewInput(probability=3, meeting_id=meeting_id),
        )
    assert not_running.value.field == "meetingId"
    await meeting_running.start_meeting(f.actor(t.pm), meeting_id=meeting_id)
    reviewed = await register.review_risk(
        f.actor(t.pm),
        risk_id=high.id,
        version=1,
        data=register.ReviewInput(
            probability=3, impact=4, measures="启用第二供应商", meeting_id=meeting_id
        ),
    )
    assert reviewed.level == RiskLevel.MEDIUM and reviewed.review_date == date(2026, 12, 14)
    await meeting_running.end_meeting(f.actor(t.pm), meeting_id=meeting_id)
    meeting = await meeting_queries.get_meeting(f.actor(t.pm), meeting_id=meeting_id)
    draft = await meeting_minutes.draft_minutes(meeting, "zh-CN")
    assert "关键芯片断供" in draft and "启用第二供应商" in draft
    assert "高 → 中" in draft


async def test_a_risk_due_for_review_is_in_its_owners_task_list(db):
    t = await team()
    await raised(t, t.member, title="到期复核", review_date=date(2026, 12, 7))
    await raised(t, t.member, title="下周复核", review_date=date(2026, 12, 14))
    await raised(t, t.liaison, title="别人的", review_date=date(2026, 12, 7))
    due = await risk_queries.reviews_due(f.actor(t.member))
    assert [r.title for r in due] == ["到期复核"]


async def test_a_review_date_in_the_past_and_a_review_by_an_outsider_are_refused(db):
    t = await team()
    risk = await raised(t, t.liaison)
    with pytest.raises(Invalid) as refused:
        await register.review_risk(
            f.actor(t.liaison),
            risk_id=risk.id,
            version=1,
            data=register.ReviewInput(next_review=date(2026, 12, 1)),
        )
    assert refused.value.field == "reviewDate"
    with pytest.raises(Forbidden):
        await register.review_risk(
            f.actor(t.member), risk_id=risk.id, version=1, data=register.ReviewInput()
        )
    assert (await Risk.get(id=risk.id)).version == 1


# --- the critical path --------------------------------------------------------------------------


async def test_a_threatened_task_that_becomes_critical_lifts_a_low_risk_to_medium(db):
    t = await team()
    short = await planning.create_task(
        f.actor(t.pm),
        project_id=t.project.id,
        data=planning.TaskInput(
            name="包装设计",
            planned_start=date(2026, 12, 7),
            duration_days=3,
            department_id=t.rnd.id,
        ),
    )
    risk = await raised(t, probability=1, impact=3, task_ids=[short.id])
    assert risk.level == RiskLevel.LOW
    schedule = await TaskSchedule.get(task_id=short.id)
    assert not schedule.is_critical and schedule.total_float == 7
    fresh = await Task.get(id=short.id)
    await planning.update_task(
        f.actor(t.pm),
        task_id=short.id,
        version=fresh.version,
        data=planning.TaskInput(duration_days=12),
    )
    assert (await TaskSchedule.get(task_id=short.id)).is_critical
    lifted = await Risk.get(id=risk.id)
    assert lifted.level == RiskLevel.MEDIUM and lifted.version == 2
    last = await RiskAssessment.filter(risk_id=risk.id).order_by("-id").first()
    assert last is not None
    assert (last.kind, last.previous_level, last.note) == (
        AssessmentKind.CRITICAL_PATH,
        RiskLevel.LOW,
        "包装设计",
    )


# --- snapshots and the heat map ------------------------------------------------------------------


async def test_snapshots_count_the_open_high_risks_for_the_weekly_trend(db):
    t = await team()
    await raised(t, probability=5, impact=5)
    await raised(t, probability=4, impact=4)
    closed = await raised(t, probability=5, impact=3)
    await register.close_risk(f.actor(t.pm), risk_id=closed.id, version=1)
    await raised(t, probability=1, impact=1)
    await snapshots.take_snapshots(project_code="RISK")
    shot = await ProgressSnapshot.get(project_id=t.project.id)
    assert shot.open_high_risks == 2
    assert await risk_queries.high_risk_trend(t.project.id) == [(date(2026, 12, 7), 2)]


async def test_the_heat_map_counts_open_risks_per_cell(db):
    t = await team()
    for p, i in ((3, 4), (3, 4), (5, 5), (1, 2)):
        await raised(t, probability=p, impact=i)
    gone = await raised(t, probability=5, impact=5)
    await register.close_risk(f.actor(t.pm), risk_id=gone.id, version=1)
    counts = risk_queries.heat_map(await risk_queries.live_risks(t.project.id))
    assert counts == {(3, 4): 2, (5, 5): 1, (1, 2): 1}
