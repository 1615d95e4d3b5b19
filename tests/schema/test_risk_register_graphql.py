"""The risk register over GraphQL: every mutation, the register's pages and filters, the
refusals in the payload, and risk events on the projectEvents subscription."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import httpx
import pytest
import websockets

from schema.common import to_global_id
from server.planning import service as planning
from server.projects.models import Role
from server.risks.models import Problem, Risk
from tests import factories as f
from tests.conftest import count_queries
from tests.schema.test_graphql import gql, token_for
from tests.streams import new_stream_readers

RISK_FIELDS = """
  id title level levelByHand levelReason probability impact score status version
  owner { name } department { name } reviewDate strategy measures
  threatenedTasks { task { name } totalFloat isCritical }
  problem { title severity } history { kind level previousLevel }
"""
RAISE = f"""
mutation($input: RaiseRiskInput!) {{ raiseRisk(input: $input) {{
  risk {{ {RISK_FIELDS} }} errors {{ code field message }} }} }}
"""
UPDATE = f"""
mutation($input: UpdateRiskInput!) {{ updateRisk(input: $input) {{
  risk {{ {RISK_FIELDS} }} errors {{ code field message }} }} }}
"""
REVIEW = """
mutation($input: ReviewRiskInput!) { reviewRisk(input: $input) {
  risk { level version reviewDate measures } errors { code field message } } }
"""
OCCURRED = """
mutation($input: RiskOccurredInput!) { riskOccurred(input: $input) {
  risk { id status version problem { title severity owner { name } riskId } }
  errors { code field } } }
"""
CLOSE = """
mutation($input: CloseRiskInput!) { closeRisk(input: $input) {
  risk { status } errors { code field } } }
"""
MATRIX = """
mutation($input: SetRiskMatrixInput!) { setRiskMatrix(input: $input) {
  highFrom mediumFrom projectVersion errors { code field } } }
"""
REGISTER = """
query($id: ID!, $first: Int, $after: String, $status: RiskStatus, $level: RiskLevel) {
  project(id: $id) { risks(first: $first, after: $after, status: $status, level: $level) {
    totalCount edges { node { title level status } } pageInfo { hasNextPage endCursor } } } }
"""


async def setup():
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd])
    liaison = await f.user(name="李娜", dept=rnd)
    member = await f.user(name="孙浩", dept=rnd)
    viewer = await f.user(dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, member, Role.MEMBER, rnd)
    await f.member(pm, project, viewer, Role.VIEWER, rnd)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="样机测试",
            planned_start=date(2027, 1, 4),
            duration_days=5,
            owner_id=member.id,
            department_id=rnd.id,
        ),
    )
    return rnd, pm, project, liaison, member, viewer, task


async def test_a_member_raises_a_risk_and_the_liaison_updates_reviews_and_closes_it(http):
    rnd, pm, project, liaison, member, viewer, task = await setup()
    project_id = to_global_id("Project", project.id)
    raised = await gql(
        http,
        await token_for(member),
        RAISE,
        {
            "input": {
                "projectId": project_id,
                "title": "模具供应商延期",
                "probability": 3,
                "impact": 4,
                "category": "SCHEDULE",
                "strategy": "MITIGATE",
                "measures": "备选供应商询价",
                "reviewDate": "2027-01-11",
                "taskIds": [to_global_id("Task", task.id)],
            }
        },
    )
    payload = raised.json()["data"]["raiseRisk"]
    assert payload["errors"] == []
    risk = payload["risk"]
    assert (risk["level"], risk["score"], risk["levelByHand"]) == ("MEDIUM", 12, False)
    assert risk["owner"]["name"] == "孙浩" and risk["department"]["name"] == "研发部"
    assert risk["threatenedTasks"] == [
        {"task": {"name": "样机测试"}, "totalFloat": 0, "isCritical": True}
    ]
    assert risk["history"] == [{"kind": "RAISED", "level": "MEDIUM", "previousLevel": None}]

    liaison_token = await token_for(liaison)
    updated = await gql(
        http,
        liaison_token,
        UPDATE,
        {
            "input": {
                "id": risk["id"],
                "version": 1,
                "level": "HIGH",
                "levelReason": "客户指定交期",
                "status": "MONITORING",
            }
        },
    )
    risk = updated.json()["data"]["updateRisk"]["risk"]
    assert (risk["level"], risk["levelByHand"], risk["status"]) == ("HIGH", True, "MONITORING")

    reviewed = await gql(
        http,
        liaison_token,
        REVIEW,
        {
            "input": {
                "id": risk["id"],
                "version": 2,
                "useMatrix": True,
                "probability": 2,
                "measures": "已签备选协议",
                "nextReview": "2027-01-18",
            }
        },
    )
    review = reviewed.json()["data"]["reviewRisk"]
    assert review["errors"] == []
    assert review["risk"] == {
        "level": "MEDIUM",  # 2 × 4 = 8, the matrix again
        "version": 3,
        "reviewDate": "2027-01-18",
        "measures": "已签备选协议",
    }
    closed = await gql(
        http, liaison_token, CLOSE, {"input": {"id": risk["id"], "version": 3, "note": "已解除"}}
    )
    assert closed.json()["data"]["closeRisk"] == {"risk": {"status": "CLOSED"}, "errors": []}


async def test_refusals_come_back_on_their_fields_and_change_nothing(http):
    rnd, pm, project, liaison, member, viewer, task = await setup()
    project_id = to_global_id("Project", project.id)
    outsider = await f.user()
    bad = await gql(
        http,
        await token_for(pm),
        RAISE,
        {
            "input": {
                "projectId": project_id,
                "title": "x",
                "probability": 7,
                "impact": 0,
                "ownerId": to_global_id("User", outsider.id),
                "reviewDate": "2020-01-01",
                "level": "HIGH",
            }
        },
    )
    payload = bad.json()["data"]["raiseRisk"]
    assert payload["risk"] is None
    assert {e["field"][-1] for e in payload["errors"]} == {
        "probability",
        "impact",
        "ownerId",
        "reviewDate",
        "levelReason",
    }
    denied = await gql(
        http,
        await token_for(viewer),
        RAISE,
        {"input": {"projectId": project_id, "title": "看看", "probability": 1, "impact": 1}},
    )
    assert denied.json()["data"]["raiseRisk"]["errors"][0]["code"] == "FORBIDDEN"
    assert await Risk.all().count() == 0

    ok = await gql(
        http,
        await token_for(pm),
        RAISE,
        {"input": {"projectId": project_id, "title": "风险", "probability": 1, "impact": 1}},
    )
    risk_id = ok.json()["data"]["raiseRisk"]["risk"]["id"]
    stale = await gql(
        http,
        await token_for(pm),
        UPDATE,
        {"input": {"id": risk_id, "version": 9, "title": "改名"}},
    )
    assert stale.json()["data"]["updateRisk"]["errors"][0]["code"] == "CONFLICT"
    assert (await Risk.get()).title == "风险"


async def test_an_occurred_risk_is_a_problem_and_the_register_pages_and_filters(http):
    rnd, pm, project, liaison, member, viewer, task = await setup()
    project_id = to_global_id("Project", project.id)
    token = await token_for(pm)
    ids = []
    for title, p, i in (("低", 1, 2), ("高一", 5, 4), ("中", 2, 4), ("高二", 4, 4)):
        answer = await gql(
            http,
            token,
            RAISE,
            {
                "input": {
                    "projectId": project_id,
                    "title": title,
                    "probability": p,
                    "impact": i,
                    "ownerId": to_global_id("User", member.id),
                }
            },
        )
        ids.append(answer.json()["data"]["raiseRisk"]["risk"]["id"])
    occurred = await gql(http, token, OCCURRED, {"input": {"id": ids[1], "version": 1}})
    assert occurred.json()["data"]["riskOccurred"] == {
        "risk": {
            "id": ids[1],
            "status": "OCCURRED",
            "version": 2,
            "problem": {
                "title": "高一",
                "severity": "HIGH",
                "owner": {"name": "孙浩"},
                "riskId": ids[1],
            },
        },
        "errors": [],
    }
    assert await Problem.all().count() == 1

    first = await gql(http, token, REGISTER, {"id": project_id, "first": 2})
    risks = first.json()["data"]["project"]["risks"]
    assert risks["totalCount"] == 4
    assert [e["node"]["title"] for e in risks["edges"]] == ["高二", "中"]
    assert risks["pageInfo"]["hasNextPage"]
    rest = await gql(
        http, token, REGISTER, {"id": project_id, "after": risks["pageInfo"]["endCursor"]}
    )
    assert [e["node"]["title"] for e in rest.json()["data"]["project"]["risks"]["edges"]] == [
        "低",
        "高一",  # occurred: after the live ones
    ]
    high = await gql(http, token, REGISTER, {"id": project_id, "level": "HIGH", "status": "OPEN"})
    assert [e["node"]["title"] for e in high.json()["data"]["project"]["risks"]["edges"]] == [
        "高二"
    ]
    matrix = await gql(
        http,
        token,
        MATRIX,
        {
            "input": {
                "projectId": project_id,
                "version": project.version,
                "highFrom": 8,
                "mediumFrom": 3,
            }
        },
    )
    assert matrix.json()["data"]["setRiskMatrix"]["errors"] == []
    medium = await gql(http, token, REGISTER, {"id": project_id, "level": "HIGH"})
    titles = [e["node"]["title"] for e in medium.json()["data"]["project"]["risks"]["edges"]]
    assert titles == ["高二", "中", "高一"]  # 2 × 4 = 8 is high now; the occurred one kept


async def test_risk_events_reach_a_project_events_subscriber(live_server, redis_url):
    rnd, pm, project, liaison, member, viewer, task = await setup()
    project_id = to_global_id("Project", project.id)
    ws_url = live_server.replace("http://", "ws://") + "/graphql"
    token = await token_for(viewer)
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        async with new_stream_readers(redis_url):
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {
                            "query": "subscription($id: ID!) { projectEvents(projectId: $id) "
                            "{ kind riskId } }",
                            "variables": {"id": project_id},
                        },
                    }
                )
            )
        async with httpx.AsyncClient(base_url=live_server) as client:
            answer = await gql(
                client,
                await token_for(member),
                RAISE,
                {
                    "input": {
                        "projectId": project_id,
                        "title": "断供",
                        "probability": 2,
                        "impact": 2,
                    }
                },
            )
        risk_id = answer.json()["data"]["raiseRisk"]["risk"]["id"]
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message["payload"]["data"]["projectEvents"] == {
            "kind": "risk.raised",
            "riskId": risk_id,
        }


async def test_a_risk_is_a_node_only_for_those_in_its_project(http):
    rnd, pm, project, liaison, member, viewer, task = await setup()
    answer = await gql(
        http,
        await token_for(pm),
        RAISE,
        {
            "input": {
                "projectId": to_global_id("Project", project.id),
                "title": "可见性",
                "probability": 2,
                "impact": 2,
            }
        },
    )
    risk_id = answer.json()["data"]["raiseRisk"]["risk"]["id"]
    query = "query($id: ID!) { node(id: $id) { ... on Risk { title } } }"
    seen = await gql(http, await token_for(viewer), query, {"id": risk_id})
    assert seen.json()["data"]["node"] == {"title": "可见性"}
    outsider = await f.user()
    hidden = await gql(http, await token_for(outsider), query, {"id": risk_id})
    assert hidden.json()["data"]["node"] is None


async def test_a_weekly_meeting_lists_its_risks_to_review_and_records_reviews(http):
    from datetime import timedelta

    from server import clock
    from server.meetings import running as meeting_running
    from server.meetings import service as meetings

    rnd, pm, project, liaison, member, viewer, task = await setup()
    token = await token_for(pm)
    answer = await gql(
        http,
        token,
        RAISE,
        {
            "input": {
                "projectId": to_global_id("Project", project.id),
                "title": "关键芯片断供",
                "probability": 5,
                "impact": 4,
            }
        },
    )
    risk_id = answer.json()["data"]["raiseRisk"]["risk"]["id"]
    meeting = await meetings.create_meeting(
        f.actor(pm),
        project_id=project.id,
        data=meetings.MeetingInput(
            kind="WEEKLY",
            title="周例会",
            scheduled_start=clock.now() + timedelta(hours=1),
            duration_minutes=30,
        ),
    )
    await meeting_running.start_meeting(f.actor(pm), meeting_id=meeting.id)
    meeting_id = to_global_id("Meeting", meeting.id)
    reviewed = await gql(
        http,
        token,
        REVIEW,
        {"input": {"id": risk_id, "version": 1, "impact": 2, "meetingId": meeting_id}},
    )
    assert reviewed.json()["data"]["reviewRisk"]["risk"]["level"] == "MEDIUM"  # 5 × 2
    query = """query($id: ID!) { node(id: $id) { ... on Meeting {
      risksToReview { title } reviewedRisks { title level } } } }"""
    seen = await gql(http, await token_for(viewer), query, {"id": meeting_id})
    assert seen.json()["data"]["node"] == {
        "risksToReview": [],  # medium now, and its next review is a week away
        "reviewedRisks": [{"title": "关键芯片断供", "level": "MEDIUM"}],
    }


@pytest.mark.parametrize("size", [2, 20])
async def test_a_page_of_risks_costs_the_same_queries_for_2_and_20(http, size):
    from server.risks import register

    rnd, pm, project, liaison, member, viewer, task = await setup()
    for n in range(size):
        await register.raise_risk(
            f.actor(member),
            project_id=project.id,
            data=register.RiskInput(title=f"风险{n}", probability=2, impact=3, task_ids=[task.id]),
        )
    token = await token_for(pm)
    query = """query($id: ID!) { project(id: $id) { risks(first: 50) { edges { node {
      title owner { name } department { name } threatenedTasks { task { name } totalFloat }
      history { kind level } } } } } }"""
    variables = {"id": to_global_id("Project", project.id)}
    await gql(http, token, query, variables)  # the token's first use is recorded once
    with count_queries() as counter:
        answer = await gql(http, token, query, variables)
    assert len(answer.json()["data"]["project"]["risks"]["edges"]) == size
    assert counter.count == 9, counter.queries
