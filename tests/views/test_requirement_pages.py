"""Step 3 as pages: filing and reviewing requirements, flagging a conflict, requesting,
declining and resolving resources, management's phone page, the Excel lists, the review in
a requirement-review meeting, and the lists' query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from server import clock
from server.meetings import running as meeting_running
from server.meetings import service as meetings
from server.meetings.models import Decision
from server.projects.models import Role
from server.requirements import resources, service
from server.requirements.models import (
    GapState,
    Requirement,
    RequirementStatus,
    ResourceRequest,
    ResourceStatus,
)
from tests import factories as f
from tests.conftest import count_queries
from tests.views.helpers import log_in, post

MONDAY = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def on_monday():
    with clock.travel_to(MONDAY):
        yield


async def team():
    rnd = await f.department("研发部")
    ops = await f.department("生产部")
    pm = await f.user(name="王芳", dept=rnd)
    project = await f.project(pm, departments=[rnd, ops], code="RQ")
    liaison = await f.user(name="孙浩", dept=rnd)
    ops_head = await f.user(name="刘强", dept=ops)
    boss = await f.user(name="黄建国", dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, ops_head, Role.DEPARTMENT_HEAD, ops)
    await f.member(pm, project, boss, Role.MANAGEMENT, rnd)
    return project, rnd, ops, pm, liaison, ops_head, boss


async def test_a_liaison_files_a_requirement_and_bad_input_shows_on_its_fields(http):
    project, rnd, ops, pm, liaison, ops_head, boss = await team()
    await log_in(http, liaison.email)
    page = await http.get("/projects/RQ/requirements")
    assert page.status_code == 200 and 'id="file-requirement"' in page.text
    # A liaison is offered their own department only.
    assert f'<option value="{rnd.id}"' in page.text.split('id="new-dept"')[1].split("</select>")[0]
    assert (
        f'<option value="{ops.id}"' not in page.text.split('id="new-dept"')[1].split("</select>")[0]
    )
    refused = await post(
        http,
        "/projects/RQ/requirements",
        {"department_id": str(rnd.id), "title": "", "needed_by": "2026-12-01"},
    )
    assert refused.status_code == 400
    assert 'id="title-error"' in refused.text and 'id="neededBy-error"' in refused.text
    other = await post(
        http, "/projects/RQ/requirements", {"department_id": str(ops.id), "title": "替别人提"}
    )
    assert other.status_code == 403
    done = await post(
        http,
        "/projects/RQ/requirements",
        {
            "department_id": str(rnd.id),
            "title": "保温测试设备",
            "priority": "MUST",
            "asked_of_id": str(ops.id),
            "needed_by": "2026-12-20",
        },
    )
    assert done.status_code == 303
    requirement = await Requirement.get()
    assert (requirement.title, requirement.asked_of_id) == ("保温测试设备", ops.id)
    listed = await http.get("/projects/RQ/requirements")
    assert "保温测试设备" in listed.text and "必须" in listed.text and "待评审" in listed.text


async def test_the_pm_reviews_rejects_need_a_reason_and_a_conflict_is_flagged(http):
    project, rnd, ops, pm, liaison, ops_head, boss = await team()
    a = await service.file_requirement(
        f.actor(liaison),
        project_id=project.id,
        data=service.RequirementInput(department_id=rnd.id, title="外观哑光"),
    )
    b = await service.file_requirement(
        f.actor(pm),
        project_id=project.id,
        data=service.RequirementInput(department_id=ops.id, title="外观亮面"),
    )
    await log_in(http, pm.email)
    flagged = await post(
        http,
        "/projects/RQ/requirements/conflicts",
        {"first_id": str(a.id), "second_id": str(b.id), "note": "只能选一种"},
    )
    assert flagged.status_code == 303
    assert "只能选一种" in (await http.get("/projects/RQ/requirements")).text
    no_reason = await post(
        http, f"/projects/RQ/requirements/{b.id}/review", {"version": "1", "decision": "REJECT"}
    )
    assert no_reason.status_code == 400 and 'id="reason-error"' in no_reason.text
    rejected = await post(
        http,
        f"/projects/RQ/requirements/{b.id}/review",
        {"version": "1", "decision": "REJECT", "reason": "成本太高"},
    )
    assert rejected.status_code == 303
    page = await http.get("/projects/RQ/requirements")
    assert "没有未解决的冲突。" in page.text and "成本太高" in page.text
    stale = await post(
        http, f"/projects/RQ/requirements/{b.id}/review", {"version": "1", "decision": "ACCEPT"}
    )
    assert stale.status_code == 409 and "第 2 版" in stale.text


async def test_a_requirement_review_meeting_decides_in_place_and_records_the_decision(http):
    project, rnd, ops, pm, liaison, ops_head, boss = await team()
    req = await service.file_requirement(
        f.actor(liaison),
        project_id=project.id,
        data=service.RequirementInput(department_id=rnd.id, title="样机 10 台"),
    )
    meeting = await meetings.create_meeting(
        f.actor(pm),
        project_id=project.id,
        data=meetings.MeetingInput(
            kind="REQUIREMENT_REVIEW",
            title="需求评审会",
            scheduled_start=MONDAY + timedelta(hours=1),
            duration_minutes=60,
        ),
    )
    await meeting_running.start_meeting(f.actor(pm), meeting_id=meeting.id)
    await log_in(http, pm.email)
    page = await http.get(f"/projects/RQ/meetings/{meeting.id}")
    assert "待评审的需求" in page.text and "样机 10 台" in page.text
    done = await post(
        http,
        f"/projects/RQ/requirements/{req.id}/review",
        {"version": "1", "decision": "ACCEPT", "back_to_meeting": str(meeting.id)},
    )
    assert (
        done.status_code == 303
        and done.headers["location"] == f"/projects/RQ/meetings/{meeting.id}"
    )
    assert (await Requirement.get(id=req.id)).status == RequirementStatus.ACCEPTED
    assert await Decision.filter(meeting_id=meeting.id).values_list("text", flat=True) == [
        "需求已接受：样机 10 台"
    ]


async def test_a_declined_request_becomes_a_gap_that_management_approves_on_a_phone_page(http):
    project, rnd, ops, pm, liaison, ops_head, boss = await team()
    await log_in(http, liaison.email)
    bad = await post(
        http,
        "/projects/RQ/resources",
        {
            "department_id": str(rnd.id),
            "kind": "BUDGET",
            "description": "模具费",
            "quantity": "0",
            "amount": "12.345",
        },
    )
    assert bad.status_code == 400
    assert 'id="quantity-error"' in bad.text and 'id="amount-error"' in bad.text
    filed = await post(
        http,
        "/projects/RQ/resources",
        {
            "department_id": str(rnd.id),
            "kind": "PEOPLE",
            "description": "结构工程师",
            "quantity": "2",
            "unit": "人",
            "amount": "30000",
            "supplier_id": str(ops.id),
        },
    )
    assert filed.status_code == 303
    request = await ResourceRequest.get()
    await log_in(http, ops_head.email)
    page = await http.get("/projects/RQ/resources")
    assert "结构工程师" in page.text and "¥30,000.00" in page.text
    declined = await post(
        http,
        f"/projects/RQ/resources/{request.id}/decision",
        {"version": "1", "decision": "DECLINE", "comment": "产线满负荷"},
    )
    assert declined.status_code == 303
    await log_in(http, pm.email)
    sent = await post(
        http,
        f"/projects/RQ/resources/{request.id}/gap",
        {"version": "2", "resolution": "MANAGEMENT"},
    )
    assert sent.status_code == 303
    await log_in(http, boss.email)
    phone = await http.get(f"/projects/RQ/resources/{request.id}/decide")
    assert phone.status_code == 200 and 'id="decide-form"' in phone.text
    no_comment = await post(
        http, f"/projects/RQ/resources/{request.id}/decide", {"version": "3", "decision": "REFUSE"}
    )
    assert no_comment.status_code == 400 and 'id="comment-error"' in no_comment.text
    approved = await post(
        http,
        f"/projects/RQ/resources/{request.id}/decide",
        {"version": "3", "decision": "APPROVE", "comment": "同意外包"},
    )
    assert approved.status_code == 303
    request = await ResourceRequest.get(id=request.id)
    assert (request.status, request.gap_state) == (ResourceStatus.DECLINED, GapState.RESOLVED)


async def test_the_lists_download_as_excel(http):
    project, rnd, ops, pm, liaison, ops_head, boss = await team()
    await service.file_requirement(
        f.actor(liaison),
        project_id=project.id,
        data=service.RequirementInput(department_id=rnd.id, title="=SUM(1)", priority="MUST"),
    )
    await resources.file_request(
        f.actor(liaison),
        project_id=project.id,
        data=resources.ResourceInput(
            department_id=rnd.id,
            kind="BUDGET",
            description="模具费",
            quantity="1",
            unit="套",
            amount="128000.50",
        ),
    )
    await log_in(http, liaison.email)
    sheet = load_workbook(
        BytesIO((await http.get("/projects/RQ/requirements.xlsx")).content)
    ).active
    assert [c.value for c in sheet[2]][:4] == ["序号", "部门", "需求", "优先级"]
    assert [c.value for c in sheet[3]][1:4] == ["研发部", "=SUM(1)", "必须"]
    assert sheet.cell(3, 3).data_type == "s"
    sheet = load_workbook(BytesIO((await http.get("/projects/RQ/resources.xlsx")).content)).active
    row = [c.value for c in sheet[3]]
    assert row[3] == "模具费" and row[6] == 128000.5 and row[7] == "CNY" and row[9] == "项目预算"


@pytest.mark.parametrize("size", [10, 200])
async def test_the_lists_cost_the_same_queries_for_10_and_200_rows(http, size):
    project, rnd, ops, pm, liaison, ops_head, boss = await team()
    for n in range(size):
        await service.file_requirement(
            f.actor(liaison),
            project_id=project.id,
            data=service.RequirementInput(department_id=rnd.id, title=f"需求{n}"),
        )
        await resources.file_request(
            f.actor(liaison),
            project_id=project.id,
            data=resources.ResourceInput(
                department_id=rnd.id,
                kind="OTHER",
                description=f"资源{n}",
                quantity="1",
                supplier_id=ops.id,
            ),
        )
    await log_in(http, pm.email)
    counts = {}
    for url in ("/projects/RQ/requirements", "/projects/RQ/resources"):
        await http.get(url)
        with count_queries() as counter:
            page = await http.get(url)
        assert page.status_code == 200
        counts[url] = counter.count
    assert counts == EXPECTED_LIST_QUERIES, counts


# Session, project with the actor's roles, departments, then the list (count and page) and,
# for requirements, the open ones (count and page), the open conflicts and the merge targets.
EXPECTED_LIST_QUERIES = {"/projects/RQ/requirements": 9, "/projects/RQ/resources": 5}


async def test_the_confirmation_shows_and_exports_the_generated_tables(http):
    from docx import Document

    project, rnd, ops, pm, liaison, ops_head, boss = await team()
    req = await service.file_requirement(
        f.actor(liaison),
        project_id=project.id,
        data=service.RequirementInput(
            department_id=rnd.id,
            title="保温测试设备",
            priority="MUST",
            asked_of_id=ops.id,
            acceptance_criterion="72 小时 ≥ 60℃",
        ),
    )
    await service.review_requirement(
        f.actor(pm), requirement_id=req.id, version=1, data=service.ReviewInput("ACCEPT")
    )
    await log_in(http, pm.email)
    page = await http.get("/projects/RQ/confirmation")
    assert '<table class="generated">' in page.text
    assert "<td>保温测试设备</td>" in page.text and "<td>72 小时 ≥ 60℃</td>" in page.text
    docx = Document(BytesIO((await http.get("/projects/RQ/confirmation.docx")).content))
    rows = [[cell.text for cell in row.cells] for table in docx.tables for row in table.rows]
    assert ["优先级", "需求", "提请部门", "验收标准", "需要日期"] in rows
    assert ["必须", "保温测试设备", "生产部", "72 小时 ≥ 60℃", ""] in rows
