"""Meetings over GraphQL: the whole weekly meeting, its refusals, and meetingEvents."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import websockets

from schema.common import to_global_id
from server.meetings.models import Meeting
from server.notices.models import Notice
from tests.conftest import count_queries
from tests.schema.test_graphql import gql, token_for
from tests.server.test_meetings import live, soon, team, weekly
from tests.streams import new_stream_readers

FIELDS = """
  meeting { id title status minutesState kind
    attendees { user { name } attendance }
    reports { department { name } done needs { department { name } text } }
    missingDepartments { name }
    decisions { text recordedBy { name } }
    actionItems { title owner { name } dueDate taskId taskStatus }
    minutes { revision body } }
  errors { code field message }
"""


def mutation(name: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {FIELDS} }} }}"


async def test_a_weekly_meeting_runs_end_to_end_over_graphql(http, db):
    t = await team()
    pm, liaison = await token_for(t.pm), await token_for(t.rnd_liaison)
    created = await gql(
        http,
        pm,
        mutation("createMeeting", "CreateMeetingInput"),
        {
            "input": {
                "projectId": to_global_id("Project", t.project.id),
                "kind": "WEEKLY",
                "title": "项目周例会",
                "scheduledStart": soon().isoformat(),
                "durationMinutes": 45,
                "attendeeIds": [to_global_id("User", u.id) for u in (t.rnd_liaison, t.mkt_liaison)],
                "agenda": [{"title": "各部门汇报", "minutes": 30}],
            }
        },
    )
    payload = created.json()["data"]["createMeeting"]
    assert payload["errors"] == []
    meeting_id = payload["meeting"]["id"]
    assert {a["user"]["name"] for a in payload["meeting"]["attendees"]} == {"王芳", "李娜", "刘洋"}
    reported = await gql(
        http,
        liaison,
        mutation("submitDepartmentReport", "SubmitDepartmentReportInput"),
        {
            "input": {
                "meetingId": meeting_id,
                "departmentId": to_global_id("Department", t.rnd.id),
                "done": "完成样机",
                "nextWeek": "开始测试",
                "needs": [
                    {"departmentId": to_global_id("Department", t.mkt.id), "text": "调研数据"}
                ],
            }
        },
    )
    report = reported.json()["data"]["submitDepartmentReport"]
    assert report["errors"] == []
    assert report["meeting"]["reports"][0]["needs"][0]["department"]["name"] == "市场部"
    assert {d["name"] for d in report["meeting"]["missingDepartments"]} == {"市场部", "项目管理部"}
    moved = await gql(
        http,
        pm,
        mutation("rescheduleMeeting", "RescheduleMeetingInput"),
        {"input": {"meetingId": meeting_id, "version": 0, "place": "5 号会议室"}},
    )
    assert moved.json()["data"]["rescheduleMeeting"]["errors"][0]["code"] == "CONFLICT"
    # A liaison may not start the meeting; nothing changes.
    refused = await gql(
        http,
        liaison,
        mutation("startMeeting", "MeetingIdInput"),
        {"input": {"meetingId": meeting_id}},
    )
    assert refused.json()["data"]["startMeeting"]["errors"][0]["code"] == "FORBIDDEN"
    early = await gql(
        http,
        pm,
        mutation("recordDecision", "RecordDecisionInput"),
        {"input": {"meetingId": meeting_id, "text": "定稿"}},
    )
    assert early.json()["data"]["recordDecision"]["errors"][0]["field"] == ["meetingId"]
    started = await gql(
        http, pm, mutation("startMeeting", "MeetingIdInput"), {"input": {"meetingId": meeting_id}}
    )
    assert started.json()["data"]["startMeeting"]["meeting"]["status"] == "LIVE"
    # The chair records; a liaison attends and is refused.
    attended = await gql(
        http,
        liaison,
        mutation("recordDecision", "RecordDecisionInput"),
        {"input": {"meetingId": meeting_id, "text": "十二月底冻结需求"}},
    )
    assert attended.json()["data"]["recordDecision"]["errors"][0]["code"] == "FORBIDDEN"
    decided = await gql(
        http,
        pm,
        mutation("recordDecision", "RecordDecisionInput"),
        {"input": {"meetingId": meeting_id, "text": "十二月底冻结需求"}},
    )
    assert decided.json()["data"]["recordDecision"]["meeting"]["decisions"] == [
        {"text": "十二月底冻结需求", "recordedBy": {"name": "王芳"}}
    ]
    bad_item = await gql(
        http,
        pm,
        mutation("addActionItem", "AddActionItemInput"),
        {
            "input": {
                "meetingId": meeting_id,
                "title": "补充用例",
                "ownerId": to_global_id("User", t.outsider.id),
                "dueDate": "2020-01-01",
            }
        },
    )
    errors = bad_item.json()["data"]["addActionItem"]["errors"]
    assert {e["field"][0] for e in errors} == {"ownerId", "dueDate"}
    due = (datetime.now(UTC).date() + timedelta(days=4)).isoformat()
    added = await gql(
        http,
        pm,
        mutation("addActionItem", "AddActionItemInput"),
        {
            "input": {
                "meetingId": meeting_id,
                "title": "补充用例",
                "ownerId": to_global_id("User", t.engineer.id),
                "dueDate": due,
            }
        },
    )
    items = added.json()["data"]["addActionItem"]["meeting"]["actionItems"]
    assert items == [
        {
            "title": "补充用例",
            "owner": {"name": "孙浩"},
            "dueDate": due,
            "taskId": items[0]["taskId"],
            "taskStatus": "NOT_STARTED",
        }
    ]
    ended = await gql(
        http, pm, mutation("endMeeting", "MeetingIdInput"), {"input": {"meetingId": meeting_id}}
    )
    assert ended.json()["data"]["endMeeting"]["meeting"]["minutesState"] == "DUE"
    published = await gql(
        http, pm, mutation("publishMinutes", "MeetingIdInput"), {"input": {"meetingId": meeting_id}}
    )
    minutes = published.json()["data"]["publishMinutes"]["meeting"]["minutes"]
    assert minutes[0]["revision"] == 1 and "十二月底冻结需求" in minutes[0]["body"]
    again = await gql(
        http, pm, mutation("publishMinutes", "MeetingIdInput"), {"input": {"meetingId": meeting_id}}
    )
    assert again.json()["data"]["publishMinutes"]["errors"][0]["code"] == "INVALID"
    meeting = await Meeting.get(title="项目周例会")
    assert await Notice.filter(dedup_key__startswith=f"minutes:{meeting.id}:").count() == 5


async def test_project_meetings_cost_the_same_queries_for_one_or_many(http, db):
    t = await team()
    token = await token_for(t.pm)
    query = """query($id: ID!) { project(id: $id) { meetings(first: 50) { totalCount edges { node {
      title attendees { user { name } } agenda { title } reports { done needs { text } }
      decisions { text } actionItems { title } carriedActionItems { title } minutes { body }
    } } } } }"""
    variables = {"id": to_global_id("Project", t.project.id)}

    await weekly(t)
    await gql(http, token, query, variables)  # the token's first use is recorded once
    with count_queries() as one:
        first = await gql(http, token, query, variables)
    assert first.json()["data"]["project"]["meetings"]["totalCount"] == 1
    await weekly(t, repeat_weeks=5)
    with count_queries() as six:
        many = await gql(http, token, query, variables)
    assert many.json()["data"]["project"]["meetings"]["totalCount"] == 6
    # 18: the views also read the risks to review, the risk reviews, the questions raised and
    # the hand-overs decided in the meetings.
    assert one.count == six.count == 18


async def test_meeting_events_reach_a_subscriber(live_server, db, redis_url):
    t = await team()
    meeting = await live(t)
    ws_url = live_server.replace("http://", "ws://") + "/graphql"
    token = await token_for(t.rnd_liaison)
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as refused:
        await refused.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(refused.recv(), 5)
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        async with new_stream_readers(redis_url):
            await ws.send(
                json.dumps(
                    {
                        "id": "m",
                        "type": "subscribe",
                        "payload": {
                            "query": "subscription($id: ID!) { meetingEvents(meetingId: $id) "
                            "{ id kind decisionId data } }",
                            "variables": {"id": to_global_id("Meeting", meeting.id)},
                        },
                    }
                )
            )
        async with httpx.AsyncClient(base_url=live_server) as client:
            answer = await gql(
                client,
                await token_for(t.pm),
                mutation("recordDecision", "RecordDecisionInput"),
                {"input": {"meetingId": to_global_id("Meeting", meeting.id), "text": "增加测试"}},
            )
        assert answer.json()["data"]["recordDecision"]["errors"] == []
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message["type"] == "next" and message["id"] == "m"
        event = message["payload"]["data"]["meetingEvents"]
        assert event["kind"] == "decision.recorded" and event["decisionId"]
