"""API tokens limited to chosen projects and to reading: GraphQL and the calendar feed."""

from __future__ import annotations

import pytest

from schema.common import to_global_id
from server.errors import Forbidden, Invalid
from server.org import service as org
from server.projects.models import Project
from tests import factories as f
from tests.schema.test_graphql import PROJECTS, UPDATE, gql


def rename(project_id: int, name: str) -> dict:
    return {"input": {"id": to_global_id("Project", project_id), "version": 1, "name": name}}


async def scoped(user, *codes: str, read_only: bool = False) -> str:
    issued = await org.create_api_token(
        f.actor(user), name="partner", project_codes=list(codes), read_only=read_only
    )
    return issued.secret


async def test_a_project_token_reaches_its_projects_only(http):
    pm = await f.user()
    mine = await f.project(pm, code="IN1")
    other = await f.project(pm, code="OUT1")
    token = await scoped(pm, "in1")
    listed = (await gql(http, token, PROJECTS)).json()["data"]["projects"]
    assert [e["node"]["code"] for e in listed["edges"]] == ["IN1"]
    hidden = await gql(
        http,
        token,
        "query($id: ID!) { project(id: $id) { code } node(id: $id) { id } }",
        {"id": to_global_id("Project", other.id)},
    )
    assert hidden.json()["data"] == {"project": None, "node": None}
    # Writing inside the scope works; outside it the project is not found and stays as it was.
    inside = await gql(
        http,
        token,
        UPDATE,
        rename(mine.id, "改名"),
    )
    assert inside.json()["data"]["updateProject"]["project"] == {"name": "改名", "version": 2}
    outside = await gql(
        http,
        token,
        UPDATE,
        rename(other.id, "越权"),
    )
    assert outside.json()["data"]["updateProject"]["errors"][0]["code"] == "NOT_FOUND"
    assert (await Project.get(id=other.id)).name != "越权"


async def test_a_read_only_token_reads_and_every_write_is_forbidden(http):
    pm = await f.user()
    project = await f.project(pm, code="RO1")
    token = await scoped(pm, read_only=True)
    listed = (await gql(http, token, PROJECTS)).json()["data"]["projects"]
    assert [e["node"]["code"] for e in listed["edges"]] == ["RO1"]
    refused = await gql(
        http,
        token,
        UPDATE,
        rename(project.id, "改名"),
    )
    error = refused.json()["data"]["updateProject"]["errors"][0]
    assert (error["code"], error["message"]) == ("FORBIDDEN", "此 API 令牌只能读取。")
    assert (await Project.get(id=project.id)).version == 1


async def test_revoking_a_token_takes_effect_on_the_next_request(http):
    pm = await f.user()
    await f.project(pm, code="RV1")
    issued = await org.create_api_token(f.actor(pm), name="phone")
    assert (await gql(http, issued.secret, PROJECTS)).status_code == 200
    await org.revoke_api_token(f.actor(pm), token_id=issued.token.id)
    assert (await gql(http, issued.secret, PROJECTS)).status_code == 401


async def test_a_token_names_only_projects_its_user_may_see_and_cannot_widen_itself(http):
    pm, stranger = await f.user(), await f.user()
    await f.project(pm, code="OWN1")
    await f.project(stranger, code="THEIRS1")
    with pytest.raises(Invalid) as refused:
        await scoped(pm, "OWN1", "THEIRS1", "NOPE")
    assert refused.value.field == "projectCodes" and "THEIRS1" in str(refused.value.params)
    token = await scoped(pm, "OWN1")
    actor = await org.actor_for_api_token(token)
    assert actor is not None
    with pytest.raises(Forbidden):
        await org.create_api_token(actor, name="wider")


async def test_the_calendar_feed_honours_the_token_scope(http):
    pm = await f.user()
    await f.project(pm, code="CAL1")
    await f.project(pm, code="CAL2")
    token = await scoped(pm, "CAL1", read_only=True)
    feed = await http.get(
        "/projects/CAL1/calendar.ics", headers={"Authorization": f"Bearer {token}"}
    )
    assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
    by_query = await http.get("/projects/CAL1/calendar.ics", params={"token": token})
    assert by_query.status_code == 200
    outside = await http.get("/projects/CAL2/calendar.ics", params={"token": token})
    assert outside.status_code == 404
    await org.revoke_api_token(f.actor(pm), token_id=(await org.list_api_tokens(f.actor(pm)))[0].id)
    assert (
        await http.get("/projects/CAL1/calendar.ics", params={"token": token})
    ).status_code == 401
