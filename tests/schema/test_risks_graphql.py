"""Problems, progress figures and live project events over GraphQL."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import httpx
import pytest
import websockets

from schema.common import to_global_id
from server.planning import service as planning
from server.planning.models import Task
from server.projects.models import Role
from server.risks.models import Problem
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from tests.streams import new_stream_readers

REPORT = """
mutation($input: ReportProblemInput!) { reportProblem(input: $input) {
  problem { id title severity status version owner { name } department { name } }
  errors { code field message } } }
"""
UPDATE = """
mutation($input: UpdateProblemInput!) { updateProblem(input: $input) {
  problem { status resolution version } errors { code field message } } }
"""
PROJECT = """
query($id: ID!) { project(id: $id) {
  problems { totalCount edges { node { title status } } }
  progress { plannedPercent actualPercent lateTasks spi criticalFinish }
} }
"""
PROGRESS = """
mutation($input: ReportProgressInput!) { reportProgress(input: $input) {
  task { percentComplete } errors { code field message } } }
"""


async def setup():
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd])
    liaison = await f.user(name="李娜", dept=rnd)
    viewer = await f.user(dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, viewer, Role.VIEWER, rnd)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="样机测试",
            planned_start=date(2026, 11, 2),
            duration_days=5,
            owner_id=liaison.id,
            department_id=rnd.id,
        ),
    )
    return rnd, pm, project, liaison, viewer, task


async def test_problems_reported_updated_and_listed(http):
    rnd, pm, project, liaison, viewer, task = await setup()
    project_id = to_global_id("Project", project.id)
    liaison_token = await token_for(liaison)
    answer = await gql(
        http,
        liaison_token,
        REPORT,
        {
            "input": {
                "projectId": project_id,
                "title": "模具供应商延期",
                "severity": "HIGH",
                "departmentId": to_global_id("Department", rnd.id),
                "taskId": to_global_id("Task", task.id),
            }
        },
    )
    payload = answer.json()["data"]["reportProblem"]
    assert payload["errors"] == []
    problem = payload["problem"]
    assert problem["owner"]["name"] == "李娜" and problem["department"]["name"] == "研发部"

    refused = await gql(
        http,
        await token_for(viewer),
        REPORT,
        {"input": {"projectId": project_id, "title": "x"}},
    )
    assert refused.json()["data"]["reportProblem"]["errors"][0]["code"] == "FORBIDDEN"

    stale = await gql(
        http,
        await token_for(pm),
        UPDATE,
        {
            "input": {
                "id": problem["id"],
                "version": 99,
                "status": "RESOLVED",
                "resolution": "换供应商",
            }
        },
    )
    assert stale.json()["data"]["updateProblem"]["errors"][0]["code"] == "CONFLICT"
    closed = await gql(
        http,
        await token_for(pm),
        UPDATE,
        {
            "input": {
                "id": problem["id"],
                "version": problem["version"],
                "status": "RESOLVED",
                "resolution": "换供应商",
            }
        },
    )
    assert closed.json()["data"]["updateProblem"]["problem"]["status"] == "RESOLVED"

    data = (await gql(http, liaison_token, PROJECT, {"id": project_id})).json()["data"]
    listed = data["project"]["problems"]
    assert listed["totalCount"] == 1
    assert [e["node"] for e in listed["edges"]] == [
        {"title": "模具供应商延期", "status": "RESOLVED"}
    ]
    figures = data["project"]["progress"]
    # Today the 5-day task due 6 Nov 2026 is past: fully planned, nothing done, late.
    assert figures["plannedPercent"] == 100.0 and figures["actualPercent"] == 0.0
    assert figures["lateTasks"] == 1 and figures["spi"] == 0.0
    assert figures["criticalFinish"] == "2026-11-06"
    assert await Problem.all().count() == 1


async def test_project_events_reach_a_subscriber_over_graphql_transport_ws(live_server, redis_url):
    rnd, pm, project, liaison, viewer, task = await setup()
    project_id = to_global_id("Project", project.id)
    ws_url = live_server.replace("http://", "ws://") + "/graphql"

    # Without a token the connection is closed with 4403.
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as refused:
        await refused.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(refused.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

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
                            "{ id kind taskId data } }",
                            "variables": {"id": project_id},
                        },
                    }
                )
            )
        row = await Task.get(id=task.id)
        async with httpx.AsyncClient(base_url=live_server) as client:
            answer = await gql(
                client,
                await token_for(liaison),
                PROGRESS,
                {
                    "input": {
                        "taskId": to_global_id("Task", task.id),
                        "version": row.version,
                        "percentComplete": 40,
                        "blocker": True,
                        "note": "等待模具",
                    }
                },
            )
        assert answer.json()["data"]["reportProgress"]["errors"] == []
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message["type"] == "next" and message["id"] == "1"
        event = message["payload"]["data"]["projectEvents"]
        assert event["kind"] == "task.progress"
        assert event["taskId"] == to_global_id("Task", task.id)
        assert event["data"]["percentComplete"] == 40
