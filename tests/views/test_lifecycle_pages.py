"""The lifecycle from the overview page and through GraphQL."""

from __future__ import annotations

from schema.common import to_global_id
from server.projects.models import Project, ProjectStatus, Role
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from tests.views.helpers import log_in, post


async def team():
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd], code="LIFE")
    liaison = await f.user(name="孙浩", dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    return project, pm, liaison


async def test_the_pm_pauses_and_resumes_from_the_overview_and_a_liaison_cannot(http):
    project, pm, liaison = await team()
    await log_in(http, pm.email)
    page = await http.get("/projects/LIFE")
    assert 'id="lifecycle"' in page.text and 'value="ON_HOLD"' in page.text
    assert 'value="ACTIVE"' in page.text  # offered, refused with what is missing
    early = await post(http, "/projects/LIFE/status", {"version": "1", "status": "ACTIVE"})
    assert early.status_code == 400 and "项目章程由所有参与部门签署" in early.text
    silent = await post(http, "/projects/LIFE/status", {"version": "1", "status": "ON_HOLD"})
    assert silent.status_code == 400 and 'id="reason-error"' in silent.text
    held = await post(
        http, "/projects/LIFE/status", {"version": "1", "status": "ON_HOLD", "reason": "等预算"}
    )
    assert held.status_code == 303
    page = await http.get("/projects/LIFE")
    assert "暂停" in page.text and "等预算" in page.text and 'value="PLANNING"' in page.text
    assert (await Project.get(id=project.id)).status == ProjectStatus.ON_HOLD

    http.cookies.clear()
    await log_in(http, liaison.email)
    page = await http.get("/projects/LIFE")
    assert 'action="/projects/LIFE/status"' not in page.text


async def test_set_project_status_through_graphql(http):
    project, pm, liaison = await team()
    mutation = """mutation($input: SetProjectStatusInput!) { setProjectStatus(input: $input) {
        project { status statusReason version } errors { code field message } } }"""
    variables = {"projectId": to_global_id("Project", project.id), "version": 1}
    refused = await gql(
        http, await token_for(pm), mutation, {"input": variables | {"status": "CLOSED"}}
    )
    assert refused.json()["data"]["setProjectStatus"]["errors"][0]["field"] == ["status"]
    held = await gql(
        http,
        await token_for(pm),
        mutation,
        {"input": variables | {"status": "ON_HOLD", "reason": "等预算"}},
    )
    assert held.json()["data"]["setProjectStatus"]["project"] == {
        "status": "ON_HOLD",
        "statusReason": "等预算",
        "version": 2,
    }
    forbidden = await gql(
        http,
        await token_for(liaison),
        mutation,
        {"input": variables | {"version": 2, "status": "PLANNING", "reason": "x"}},
    )
    assert forbidden.json()["data"]["setProjectStatus"]["errors"][0]["code"] == "FORBIDDEN"
