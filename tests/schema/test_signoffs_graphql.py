"""Charter sign-off over GraphQL: revise, request, sign with the hash read, refusals."""

from __future__ import annotations

from schema.common import to_global_id
from server.projects.models import Role
from server.signoffs.models import Signature
from tests import factories as f
from tests.schema.test_graphql import gql, token_for

CHARTER = """
query($id: ID!) { project(id: $id) { charter {
  id kind status isFullySigned version
  currentVersion { number contentHash body }
  missingDepartments { name } requiredDepartments { name }
  signatures { department { name } signer { name } decision comment contentHash versionNumber }
} } }
"""
REVISE = """
mutation($input: ReviseDocumentInput!) { reviseDocument(input: $input) {
  document { status currentVersion { number contentHash } } errors { code field message } } }
"""
REQUEST = """
mutation($input: DocumentIdInput!) { requestSignatures(input: $input) {
  document { status } errors { code field message } } }
"""
SIGN = """
mutation($input: SignDocumentInput!) { signDocument(input: $input) {
  document { status isFullySigned missingDepartments { name } } errors { code field message } } }
"""


async def test_charter_signed_over_graphql_and_a_stale_hash_refused(http):
    market = await f.department("市场部")
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳", dept=market)
    project = await f.project(pm, departments=[rnd])
    heads = {}
    for dept in (market, rnd):
        head = await f.user(name=f"{dept.name}负责人", dept=dept)
        await f.member(pm, project, head, Role.DEPARTMENT_HEAD, dept)
        heads[dept.name] = await token_for(head)
    pm_token = await token_for(pm)
    project_id = to_global_id("Project", project.id)

    charter = (await gql(http, pm_token, CHARTER, {"id": project_id})).json()["data"]["project"][
        "charter"
    ]
    assert charter["kind"] == "CHARTER" and charter["status"] == "DRAFT"
    assert {d["name"] for d in charter["missingDepartments"]} == {"市场部", "研发部"}
    body = charter["currentVersion"]["body"] | {"scopeOut": "海外市场"}
    revised = (
        await gql(http, pm_token, REVISE, {"input": {"documentId": charter["id"], "body": body}})
    ).json()["data"]["reviseDocument"]
    assert revised["errors"] == []
    first_hash = revised["document"]["currentVersion"]["contentHash"]

    unknown = (
        await gql(
            http,
            pm_token,
            REVISE,
            {"input": {"documentId": charter["id"], "body": {"budget": "1"}}},
            language="en",
        )
    ).json()["data"]["reviseDocument"]
    assert unknown["errors"] == [
        {"code": "INVALID", "field": ["body"], "message": "Unknown section: budget."}
    ]

    requested = (
        await gql(http, pm_token, REQUEST, {"input": {"documentId": charter["id"]}})
    ).json()["data"]["requestSignatures"]
    assert requested == {"document": {"status": "IN_SIGNING"}, "errors": []}

    not_head = (
        await gql(
            http,
            pm_token,
            SIGN,
            {
                "input": {
                    "documentId": charter["id"],
                    "contentHash": first_hash,
                    "decision": "APPROVE",
                }
            },
        )
    ).json()["data"]["signDocument"]
    assert not_head["errors"][0]["code"] == "FORBIDDEN"
    assert not_head["errors"][0]["message"] == "只有参与部门的负责人（或其指定的代签人）可以签署。"

    stale = (
        await gql(
            http,
            heads["研发部"],
            SIGN,
            {
                "input": {
                    "documentId": charter["id"],
                    "contentHash": "0" * 64,
                    "decision": "APPROVE",
                }
            },
        )
    ).json()["data"]["signDocument"]
    assert stale["errors"][0]["code"] == "CONFLICT"
    assert stale["errors"][0]["field"] == ["contentHash"]
    assert await Signature.all().count() == 0

    for name in ("研发部", "市场部"):
        signed = (
            await gql(
                http,
                heads[name],
                SIGN,
                {
                    "input": {
                        "documentId": charter["id"],
                        "contentHash": first_hash,
                        "decision": "APPROVE",
                        "comment": "同意",
                    }
                },
            )
        ).json()["data"]["signDocument"]
        assert signed["errors"] == []
    assert signed["document"] == {
        "status": "SIGNED",
        "isFullySigned": True,
        "missingDepartments": [],
    }

    final = (await gql(http, pm_token, CHARTER, {"id": project_id})).json()["data"]["project"][
        "charter"
    ]
    assert {s["department"]["name"] for s in final["signatures"]} == {"市场部", "研发部"}
    assert {s["contentHash"] for s in final["signatures"]} == {first_hash}
    node = (
        await gql(http, pm_token, "query($id: ID!) { node(id: $id) { id } }", {"id": charter["id"]})
    ).json()["data"]["node"]
    assert node == {"id": charter["id"]}


async def test_report_progress_and_my_tasks_over_graphql(http):
    from datetime import date

    from server.planning import service as planning

    rnd = await f.department("研发部")
    pm = await f.user(dept=rnd)
    project = await f.project(pm)
    owner = await f.user(dept=rnd, name="孙浩")
    await f.member(pm, project, owner, Role.MEMBER, rnd)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="样机测试", planned_start=date(2026, 11, 2), duration_days=3, owner_id=owner.id
        ),
    )
    token = await token_for(owner)
    mine = (
        await gql(http, token, "{ myTasks { totalCount edges { node { id name version } } } }")
    ).json()
    [edge] = mine["data"]["myTasks"]["edges"]
    assert edge["node"]["name"] == "样机测试"
    mutation = """
    mutation($input: ReportProgressInput!) { reportProgress(input: $input) {
      task { percentComplete status version remainingDays
        updates { totalCount edges { node { note percentComplete author { name } } } } }
      errors { code field message } } }
    """
    bad = (
        await gql(
            http,
            token,
            mutation,
            {"input": {"taskId": edge["node"]["id"], "version": 1, "percentComplete": 140}},
        )
    ).json()["data"]["reportProgress"]
    assert bad["task"] is None and bad["errors"][0]["field"] == ["percentComplete"]
    not_started = (
        await gql(
            http,
            token,
            mutation,
            {"input": {"taskId": edge["node"]["id"], "version": 1, "percentComplete": 0,
                       "remainingDays": 4}},
        )
    ).json()["data"]["reportProgress"]  # fmt: skip
    assert not_started["errors"][0]["field"] == ["remainingDays"]
    ok = (
        await gql(
            http,
            token,
            mutation,
            {
                "input": {
                    "taskId": edge["node"]["id"],
                    "version": edge["node"]["version"],
                    "percentComplete": 60,
                    "note": "组装完成",
                    "remainingDays": 6,
                }
            },
        )
    ).json()["data"]["reportProgress"]
    assert ok["errors"] == []
    assert ok["task"]["percentComplete"] == 60 and ok["task"]["status"] == "IN_PROGRESS"
    assert ok["task"]["remainingDays"] == 6  # the owner's figure, not 40 % of the duration
    assert ok["task"]["updates"]["edges"][0]["node"] == {
        "note": "组装完成",
        "percentComplete": 60,
        "author": {"name": "孙浩"},
    }
    assert task.id
