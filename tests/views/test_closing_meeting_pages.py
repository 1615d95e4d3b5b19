"""Step 8 in a meeting, from the pages and through GraphQL: the receiving head decides a
hand-over in the acceptance meeting (a refusal lands on its field, in place); the chair goes
through the retrospectives in the retrospective meeting."""

from __future__ import annotations

from schema.common import to_global_id
from server.closing import acceptance as closing
from server.closing import retrospectives as retros
from server.closing.models import Acceptance, AcceptanceStatus, Retrospective
from server.meetings import running as meeting_running
from server.projects.models import Project, ProjectStatus
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from tests.server.test_acceptance import finish, team
from tests.server.test_closing_meetings import meeting_of
from tests.views.helpers import log_in, post


async def test_the_receiving_head_decides_in_the_acceptance_meeting_page(http):
    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await finish(rnd_liaison, task)
    handed = await closing.submit_for_acceptance(f.actor(rnd_liaison), closing.Handover(task.id))
    meeting_id = await meeting_of(pm, project, "ACCEPTANCE", "验收会")
    await meeting_running.start_meeting(f.actor(pm), meeting_id=meeting_id)
    url = f"/projects/ACPT/meetings/{meeting_id}"

    await log_in(http, rnd_liaison.email)
    page = await http.get(url)
    assert "待验收" in page.text and "样机 3 台与测试报告" in page.text
    assert 'id="acceptance-review"' not in page.text  # the supplier does not decide

    http.cookies.clear()
    await log_in(http, market_head.email)
    page = await http.get(url)
    assert 'id="acceptance-review"' in page.text and f'id="comment-{handed.id}"' in page.text
    silent = await post(
        http,
        url + "/acceptances",
        {"acceptance_id": str(handed.id), "version": "1", "decision": "REJECT"},
        htmx=True,
    )
    assert silent.status_code == 400
    assert silent.text.lstrip().startswith('<section class="card" id="acceptance-review">')
    assert 'id="comment-error"' in silent.text and "请说明缺少什么" in silent.text
    assert (await Acceptance.get(id=handed.id)).status == AcceptanceStatus.SUBMITTED

    decided = await post(
        http,
        url + "/acceptances",
        {"acceptance_id": str(handed.id), "version": "1", "decision": "ACCEPT", "comment": "合格"},
        htmx=True,
    )
    assert decided.status_code == 200 and "没有待您验收的交付物" in decided.text
    row = await Acceptance.get(id=handed.id)
    assert row.status == AcceptanceStatus.ACCEPTED and row.meeting_id == meeting_id
    page = await http.get(url)
    assert "验收结论" in page.text and "已接受" in page.text


async def test_the_chair_goes_through_retrospectives_in_the_meeting_page(http):
    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await Project.filter(id=project.id).update(status=ProjectStatus.CLOSING)
    filed = await retros.file_retrospective(
        f.actor(rnd_liaison),
        project_id=project.id,
        data=retros.RetrospectiveInput(department_id=None, lessons="模具提前三周下单"),
    )
    meeting_id = await meeting_of(pm, project, "RETROSPECTIVE", "项目复盘会")
    await meeting_running.start_meeting(f.actor(pm), meeting_id=meeting_id)
    url = f"/projects/ACPT/meetings/{meeting_id}"

    await log_in(http, rnd_liaison.email)
    page = await http.get(url)
    assert "模具提前三周下单" in page.text and "尚未提交: 市场部" in page.text
    assert 'id="retrospective-review"' not in page.text

    http.cookies.clear()
    await log_in(http, pm.email)
    stale = await post(
        http,
        url + "/retrospectives",
        {"retrospective_id": str(filed.id), "version": "5"},
        htmx=True,
    )
    assert stale.status_code == 400 and 'role="alert"' in stale.text
    assert (await Retrospective.get(id=filed.id)).reviewed_meeting_id is None
    done = await post(
        http, url + "/retrospectives", {"retrospective_id": str(filed.id), "version": "1"}
    )
    assert done.status_code == 303
    assert (await Retrospective.get(id=filed.id)).reviewed_meeting_id == meeting_id
    page = await http.get(url)
    assert "标为已回顾" not in page.text and "本会已回顾" in page.text


async def test_meetings_decide_and_review_through_graphql(http):
    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await finish(rnd_liaison, task)
    handed = await closing.submit_for_acceptance(f.actor(rnd_liaison), closing.Handover(task.id))
    acceptance_meeting = await meeting_of(pm, project, "ACCEPTANCE", "验收会")
    await meeting_running.start_meeting(f.actor(pm), meeting_id=acceptance_meeting)
    read = """query($id: ID!) { meeting(id: $id) {
        awaitingAcceptance { id deliverable } decidedAcceptances { id status } } }"""
    meeting_gid = to_global_id("Meeting", acceptance_meeting)
    seen = await gql(http, await token_for(pm), read, {"id": meeting_gid})
    assert seen.json()["data"]["meeting"]["awaitingAcceptance"] == [
        {"id": to_global_id("Acceptance", handed.id), "deliverable": "样机 3 台与测试报告"}
    ]
    decide = """mutation($input: DecideAcceptanceInput!) { decideAcceptance(input: $input) {
        acceptance { status } errors { code field } } }"""
    answer = await gql(
        http,
        await token_for(market_head),
        decide,
        {
            "input": {
                "id": to_global_id("Acceptance", handed.id),
                "version": 1,
                "decision": "ACCEPT",
                "meetingId": meeting_gid,
            }
        },
    )
    assert answer.json()["data"]["decideAcceptance"] == {
        "acceptance": {"status": "ACCEPTED"},
        "errors": [],
    }
    seen = await gql(http, await token_for(pm), read, {"id": meeting_gid})
    assert seen.json()["data"]["meeting"] == {
        "awaitingAcceptance": [],
        "decidedAcceptances": [{"id": to_global_id("Acceptance", handed.id), "status": "ACCEPTED"}],
    }

    await Project.filter(id=project.id).update(status=ProjectStatus.CLOSING)
    filed = await retros.file_retrospective(
        f.actor(rnd_liaison),
        project_id=project.id,
        data=retros.RetrospectiveInput(department_id=None, went_well="联调顺利"),
    )
    review = """mutation($input: ReviewRetrospectiveInput!) { reviewRetrospective(input: $input) {
        retrospective { version reviewedAt } errors { code field } } }"""
    data = {"id": to_global_id("Retrospective", filed.id), "version": 1}
    wrong_kind = await gql(
        http, await token_for(pm), review, {"input": {**data, "meetingId": meeting_gid}}
    )
    assert wrong_kind.json()["data"]["reviewRetrospective"]["errors"] == [
        {"code": "INVALID", "field": ["meetingId"]}
    ]
    retro_meeting = await meeting_of(pm, project, "RETROSPECTIVE", "复盘会")
    await meeting_running.start_meeting(f.actor(pm), meeting_id=retro_meeting)
    retro_gid = to_global_id("Meeting", retro_meeting)
    refused = await gql(
        http, await token_for(rnd_liaison), review, {"input": {**data, "meetingId": retro_gid}}
    )
    assert refused.json()["data"]["reviewRetrospective"]["errors"][0]["code"] == "FORBIDDEN"
    done = await gql(http, await token_for(pm), review, {"input": {**data, "meetingId": retro_gid}})
    reviewed = done.json()["data"]["reviewRetrospective"]
    assert reviewed["errors"] == [] and reviewed["retrospective"]["version"] == 2
    assert reviewed["retrospective"]["reviewedAt"] is not None
    listed = await gql(
        http,
        await token_for(pm),
        "query($id: ID!) { meeting(id: $id) { retrospectives { wentWell } "
        "reviewedRetrospectives { wentWell } } }",
        {"id": retro_gid},
    )
    assert listed.json()["data"]["meeting"] == {
        "retrospectives": [{"wentWell": "联调顺利"}],
        "reviewedRetrospectives": [{"wentWell": "联调顺利"}],
    }
