"""Step 3: requirements filed and reviewed, conflicts, resource requests committed or
declined, gaps resolved (management approving from a phone), the confirmation written from
the rows, and its refusal to go out for signing while something is open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from server import clock
from server.audit.models import AuditEntry
from server.errors import Conflict, Forbidden, Invalid, InvalidFields
from server.meetings import running as meeting_running
from server.meetings import service as meetings
from server.meetings.models import Decision
from server.notices.models import Notice
from server.org.models import Department, User
from server.projects.models import Project, Role
from server.requirements import resources, service
from server.requirements.models import (
    ConflictStatus,
    GapState,
    Requirement,
    RequirementConflict,
    RequirementStatus,
    ResourceRequest,
    ResourceStatus,
)
from server.risks import escalations
from server.risks.models import Escalation
from server.signoffs import service as signoffs
from server.signoffs.models import (
    DocumentKind,
    DocumentStatus,
    DocumentVersion,
    SignableDocument,
)
from tests import factories as f

MONDAY = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, Mon 7 Dec 2026


@pytest.fixture(autouse=True)
def on_monday():
    with clock.travel_to(MONDAY):
        yield


@dataclass
class Team:
    project: Project
    rnd: Department
    ops: Department
    pm: User
    rnd_liaison: User
    ops_liaison: User
    rnd_head: User
    ops_head: User
    boss: User
    member: User


async def team() -> Team:
    rnd = await f.department("研发部")
    ops = await f.department("生产部")
    pm = await f.user(name="王芳", dept=rnd)
    project = await f.project(pm, departments=[rnd, ops], code="REQ")
    rnd_liaison = await f.user(name="孙浩", dept=rnd)
    ops_liaison = await f.user(name="吴刚", dept=ops, mobile="13800000032")
    rnd_head = await f.user(name="张伟", dept=rnd)
    ops_head = await f.user(name="刘强", dept=ops)
    boss = await f.user(name="黄建国", dept=rnd, email="boss@example.com", mobile="13800000061")
    member = await f.user(name="成员", dept=rnd)
    await f.member(pm, project, rnd_liaison, Role.LIAISON, rnd)
    await f.member(pm, project, ops_liaison, Role.LIAISON, ops)
    await f.member(pm, project, rnd_head, Role.DEPARTMENT_HEAD, rnd)
    await f.member(pm, project, ops_head, Role.DEPARTMENT_HEAD, ops)
    await f.member(pm, project, boss, Role.MANAGEMENT, rnd)
    await f.member(pm, project, member, Role.MEMBER, rnd)
    return Team(project, rnd, ops, pm, rnd_liaison, ops_liaison, rnd_head, ops_head, boss, member)


async def filed(t: Team, who: User, department: Department, title: str, **fields) -> Requirement:
    data = service.RequirementInput(department_id=department.id, title=title, **fields)
    return await service.file_requirement(f.actor(who), project_id=t.project.id, data=data)


async def requested(t: Team, who: User, department: Department, **fields) -> ResourceRequest:
    data = resources.ResourceInput(
        department_id=department.id,
        kind=fields.pop("kind", "PEOPLE"),
        description=fields.pop("description", "结构工程师 2 名"),
        quantity=fields.pop("quantity", "2"),
        unit=fields.pop("unit", "人"),
        **fields,
    )
    return await resources.file_request(f.actor(who), project_id=t.project.id, data=data)


# --- requirements -------------------------------------------------------------------------------


async def test_a_liaison_files_for_their_department_and_edits_until_reviewed(db):
    t = await team()
    req = await filed(
        t,
        t.rnd_liaison,
        t.rnd,
        "保温测试设备",
        priority="MUST",
        asked_of_id=t.ops.id,
        acceptance_criterion="72 小时保温 ≥ 60℃",
        needed_by=date(2026, 12, 20),
    )
    assert (req.status, req.priority.value, req.asked_of_id) == (
        RequirementStatus.FILED,
        "MUST",
        t.ops.id,
    )
    req = await service.update_requirement(
        f.actor(t.rnd_liaison),
        requirement_id=req.id,
        version=1,
        data=service.RequirementInput(title="保温测试设备 2 台"),
    )
    assert req.version == 2
    await service.review_requirement(
        f.actor(t.pm), requirement_id=req.id, version=2, data=service.ReviewInput("ACCEPT")
    )
    with pytest.raises(Invalid):
        await service.update_requirement(
            f.actor(t.rnd_liaison),
            requirement_id=req.id,
            version=3,
            data=service.RequirementInput(title="改"),
        )
    assert await AuditEntry.filter(action__startswith="requirement.").count() == 3


async def test_who_files_a_liaison_for_another_department_or_a_member_is_refused(db):
    t = await team()
    with pytest.raises(Forbidden) as other:
        await filed(t, t.rnd_liaison, t.ops, "替生产部提")
    assert other.value.field == "departmentId"
    with pytest.raises(Forbidden):
        await filed(t, t.member, t.rnd, "成员不能提")
    assert await filed(t, t.pm, t.ops, "项目经理可以代提")
    assert await Requirement.all().count() == 1


async def test_bad_requirement_input_is_refused_on_each_field(db):
    t = await team()
    outsider = await f.department("外部门")
    with pytest.raises(InvalidFields) as refused:
        await filed(
            t,
            t.pm,
            t.rnd,
            "",
            priority="WISH",
            asked_of_id=outsider.id,
            needed_by=date(2026, 12, 1),
        )
    assert {e.field for e in refused.value.errors} == {"title", "priority", "askedOfId", "neededBy"}
    assert await Requirement.all().count() == 0


async def test_review_rejects_with_a_reason_merges_within_the_project_and_only_once(db):
    t = await team()
    a = await filed(t, t.rnd_liaison, t.rnd, "样机 10 台")
    b = await filed(t, t.rnd_liaison, t.rnd, "样机 12 台")
    elsewhere = await f.project(t.pm, departments=[t.rnd], code="OTHER")
    foreign = await service.file_requirement(
        f.actor(t.pm),
        project_id=elsewhere.id,
        data=service.RequirementInput(department_id=t.rnd.id, title="别的项目"),
    )
    pm = f.actor(t.pm)
    with pytest.raises(Invalid) as no_reason:
        await service.review_requirement(
            pm, requirement_id=a.id, version=1, data=service.ReviewInput("REJECT")
        )
    assert no_reason.value.field == "reason"
    for target, field in ((a.id, "mergeIntoId"), (foreign.id, "mergeIntoId")):
        with pytest.raises(Invalid) as bad_merge:
            await service.review_requirement(
                pm,
                requirement_id=a.id,
                version=1,
                data=service.ReviewInput("MERGE", merge_into_id=target),
            )
        assert bad_merge.value.field == field
    with pytest.raises(Forbidden):
        await service.review_requirement(
            f.actor(t.rnd_liaison),
            requirement_id=a.id,
            version=1,
            data=service.ReviewInput("ACCEPT"),
        )
    merged = await service.review_requirement(
        pm, requirement_id=a.id, version=1, data=service.ReviewInput("MERGE", merge_into_id=b.id)
    )
    assert (merged.status, merged.merged_into_id) == (RequirementStatus.MERGED, b.id)
    with pytest.raises(Conflict) as stale:
        await service.review_requirement(
            pm, requirement_id=a.id, version=1, data=service.ReviewInput("ACCEPT")
        )
    assert stale.value.params["version"] == 2
    with pytest.raises(Invalid):
        await service.review_requirement(
            pm, requirement_id=a.id, version=2, data=service.ReviewInput("ACCEPT")
        )


async def test_a_conflict_stays_open_until_one_side_goes_or_a_decision_settles_it(db):
    t = await team()
    a = await filed(t, t.rnd_liaison, t.rnd, "外观哑光")
    b = await filed(t, t.ops_liaison, t.ops, "外观亮面")
    c = await filed(t, t.ops_liaison, t.ops, "包装用纸")
    pm = f.actor(t.pm)
    first = await service.flag_conflict(pm, first_id=a.id, second_id=b.id, note="只能选一种")
    with pytest.raises(Invalid):
        await service.flag_conflict(pm, first_id=b.id, second_id=a.id, note="重复")
    await service.review_requirement(
        pm, requirement_id=b.id, version=1, data=service.ReviewInput("REJECT", reason="成本高")
    )
    assert (await RequirementConflict.get(id=first.id)).status == ConflictStatus.RESOLVED
    second = await service.flag_conflict(pm, first_id=a.id, second_id=c.id, note="工期冲突")
    with pytest.raises(Invalid) as empty:
        await service.resolve_conflict(pm, conflict_id=second.id, version=1, decision="")
    assert empty.value.field == "decision"
    settled = await service.resolve_conflict(
        pm, conflict_id=second.id, version=1, decision="包装先行，外观后定"
    )
    assert settled.status == ConflictStatus.RESOLVED and settled.resolved_by_id == t.pm.id


async def test_a_review_in_a_live_requirement_review_meeting_is_a_decision_in_its_minutes(db):
    t = await team()
    req = await filed(t, t.rnd_liaison, t.rnd, "保温测试设备")
    meeting = await meetings.create_meeting(
        f.actor(t.pm),
        project_id=t.project.id,
        data=meetings.MeetingInput(
            kind="REQUIREMENT_REVIEW",
            title="需求评审会",
            scheduled_start=MONDAY + timedelta(hours=1),
            duration_minutes=60,
        ),
    )
    await meeting_running.start_meeting(f.actor(t.pm), meeting_id=meeting.id)
    await service.review_requirement(
        f.actor(t.pm),
        requirement_id=req.id,
        version=1,
        data=service.ReviewInput("ACCEPT", meeting_id=meeting.id),
    )
    decisions = await Decision.filter(meeting_id=meeting.id).values_list("text", flat=True)
    assert decisions == ["需求已接受：保温测试设备"]


# --- resources and gaps -------------------------------------------------------------------------


async def test_quantities_and_money_are_exact_and_bad_figures_refused(db):
    t = await team()
    ok = await requested(
        t,
        t.rnd_liaison,
        t.rnd,
        kind="BUDGET",
        description="模具费",
        quantity="1",
        unit="套",
        amount="128000.50",
    )
    assert ok.amount == Decimal("128000.50") and ok.currency == "CNY"
    stored = await ResourceRequest.get(id=ok.id)
    assert stored.amount == Decimal("128000.50")
    for quantity, amount, fields in (
        ("0", "1", {"quantity"}),
        ("-1", "1", {"quantity"}),
        ("1", "1.005", {"amount"}),
        ("1", "-5", {"amount"}),
        ("abc", "1e3x", {"quantity", "amount"}),
    ):
        with pytest.raises(Invalid) as refused:
            await requested(
                t,
                t.rnd_liaison,
                t.rnd,
                quantity=quantity,
                amount=amount,
                needed_by="2026-12-01" if len(fields) > 1 else None,
            )
        errors = getattr(refused.value, "errors", [refused.value])
        assert fields <= {e.field for e in errors}
    assert await ResourceRequest.all().count() == 1


async def test_the_supplying_head_commits_or_declines_and_a_decline_is_a_gap(db):
    t = await team()
    req = await requested(t, t.rnd_liaison, t.rnd, supplier_id=t.ops.id)
    for who in (t.rnd_head, t.pm, t.ops_liaison):
        with pytest.raises(Forbidden):
            await resources.commit_resource(f.actor(who), request_id=req.id, version=1, commit=True)
    with pytest.raises(Invalid) as no_reason:
        await resources.commit_resource(
            f.actor(t.ops_head), request_id=req.id, version=1, commit=False
        )
    assert no_reason.value.field == "comment"
    declined = await resources.commit_resource(
        f.actor(t.ops_head), request_id=req.id, version=1, commit=False, comment="产线满负荷"
    )
    assert (declined.status, declined.gap_state) == (ResourceStatus.DECLINED, GapState.OPEN)
    own = await requested(t, t.rnd_liaison, t.rnd, kind="BUDGET", description="差旅")
    committed = await resources.commit_resource(
        f.actor(t.pm), request_id=own.id, version=1, commit=True
    )
    assert committed.status == ResourceStatus.COMMITTED  # the project's own budget: the PM


async def test_a_gap_sent_to_management_is_mailed_and_approved_from_management_only(db):
    t = await team()
    req = await requested(t, t.rnd_liaison, t.rnd, supplier_id=t.ops.id, amount="50000")
    req = await resources.commit_resource(
        f.actor(t.ops_head), request_id=req.id, version=1, commit=False, comment="无人可调"
    )
    with pytest.raises(Invalid) as no_department:
        await resources.resolve_gap(
            f.actor(t.pm),
            request_id=req.id,
            version=2,
            data=resources.GapInput("TRANSFER", note="借调 1 人"),
        )
    assert no_department.value.field == "fromDepartmentId"
    asked = await resources.resolve_gap(
        f.actor(t.pm), request_id=req.id, version=2, data=resources.GapInput("MANAGEMENT")
    )
    assert asked.gap_state == GapState.AWAITING_MANAGEMENT
    mail = await Notice.get(dedup_key__startswith=f"gap:{req.id}:")
    assert mail.address == "boss@example.com" and "结构工程师" in mail.subject
    assert f"/projects/REQ/resources/{req.id}/decide" in mail.body
    with pytest.raises(Forbidden):
        await resources.decide_gap(
            f.actor(t.pm), request_id=req.id, version=3, approve=True, comment=""
        )
    refused = await resources.decide_gap(
        f.actor(t.boss), request_id=req.id, version=3, approve=False, comment="先内部协调"
    )
    assert refused.gap_state == GapState.OPEN
    moved = await resources.resolve_gap(
        f.actor(t.pm),
        request_id=req.id,
        version=4,
        data=resources.GapInput(
            "TRANSFER", note="研发部借调 1 人两周", from_department_id=t.rnd.id
        ),
    )
    assert moved.gap_state == GapState.RESOLVED


async def test_an_unresolved_gap_past_its_needed_by_date_climbs_the_ladder(db):
    t = await team()
    req = await requested(
        t, t.rnd_liaison, t.rnd, supplier_id=t.ops.id, needed_by=date(2026, 12, 8)
    )
    await resources.commit_resource(
        f.actor(t.ops_head), request_id=req.id, version=1, commit=False, comment="没有"
    )
    thursday = datetime(2026, 12, 11, 1, 0, tzinfo=UTC)  # 3 working days past the 8th
    report = await escalations.run_escalations(now=thursday)
    assert report.levels == {1: 1}
    assert await Escalation.filter(subject=f"gap:{req.id}").count() == 1
    to = await Notice.filter(dedup_key__startswith=f"escalation:gap:{req.id}:").values_list(
        "address", flat=True
    )
    assert to == [t.rnd_liaison.email]


# --- the confirmation from the rows -------------------------------------------------------------


async def current_version(t: Team) -> DocumentVersion:
    document = await SignableDocument.get(
        project_id=t.project.id, kind="COLLABORATION_CONFIRMATION"
    )
    return await DocumentVersion.get(document_id=document.id, number=document.current_number)


async def test_the_confirmation_is_written_from_the_rows_and_refuses_signing_while_open(db):
    t = await team()
    pm = f.actor(t.pm)
    req = await filed(t, t.rnd_liaison, t.rnd, "保温测试设备", priority="MUST")
    other = await filed(t, t.ops_liaison, t.ops, "试产排期")
    document = await signoffs.ensure_document(
        t.project, DocumentKind.COLLABORATION_CONFIRMATION, "zh-CN"
    )
    with pytest.raises(Invalid) as refused:
        await signoffs.request_signatures(pm, document_id=document.id)
    assert "研发部: 1 条需求待评审" in refused.value.translated("zh-CN")
    assert "生产部: 1 条需求待评审" in refused.value.translated("zh-CN")

    await service.review_requirement(
        pm, requirement_id=req.id, version=1, data=service.ReviewInput("ACCEPT")
    )
    await service.review_requirement(
        pm, requirement_id=other.id, version=1, data=service.ReviewInput("REJECT", reason="不需要")
    )
    res = await requested(t, t.rnd_liaison, t.rnd, supplier_id=t.ops.id, amount="1200.5")
    await resources.commit_resource(f.actor(t.ops_head), request_id=res.id, version=1, commit=True)
    current = await current_version(t)
    rnd = next(d for d in current.body["departments"] if d["departmentId"] == t.rnd.id)
    # Table rows, cells separated as people type tables into the charter.
    assert rnd["acceptedRequirements"] == "必须 | 保温测试设备 |  |  |"
    assert rnd["committedResources"] == "人员 | 结构工程师 2 名 | 2 人 | CNY 1,200.50 | 生产部"

    sent = await signoffs.request_signatures(pm, document_id=document.id)
    assert sent.status == DocumentStatus.IN_SIGNING
    number = current.number
    # A change after sending makes a new version the heads must sign again.
    late = await requested(
        t,
        t.ops_liaison,
        t.ops,
        supplier_id=None,
        kind="BUDGET",
        description="试产物料",
        amount="800",
    )
    await resources.commit_resource(pm, request_id=late.id, version=1, commit=True)
    document = await SignableDocument.get(id=document.id)
    assert document.status == DocumentStatus.DRAFT
    assert (await current_version(t)).number == number + 1
