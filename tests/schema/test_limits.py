"""No single GraphQL request can stall a web process: fragment bombs, costly pages, huge or
deeply nested bodies and slow requests are refused with a message that names the limit."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import httpx

from server.app import create_app
from tests import factories as f
from tests.schema.test_graphql import gql, token_for


def fragment_bomb(levels: int) -> str:
    """Each fragment spreads the one before it twice: 2**levels spreads in under 1.3 KB."""
    parts = ["fragment F0 on Query { viewer { name } }"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return f"query {{ ...F{levels} }}\n" + "\n".join(parts)


async def test_a_fragment_bomb_is_refused_by_the_cost_limit_while_health_checks_answer(http):
    token = await token_for(await f.user())
    bomb = fragment_bomb(30)
    assert len(bomb.encode()) < 1300
    # Before, checking this document took longer than two minutes and blocked the process.
    async with asyncio.timeout(10):
        refused, health = await asyncio.gather(gql(http, token, bomb), http.get("/healthz"))
    assert refused.status_code == 200
    [error] = refused.json()["errors"]
    assert "cost limit" in error["message"]
    assert refused.json()["data"] is None
    assert health.status_code == 200 and health.text == "ok"


async def test_a_bomb_of_nested_fragments_is_refused_by_depth(http):
    token = await token_for(await f.user())
    parts = ["fragment D0 on Department { name }"]
    parts += [
        f"fragment D{i} on Department {{ parent {{ ...D{i - 1} ...D{i - 1} }} }}"
        for i in range(1, 25)
    ]
    query = "{ viewer { department { ...D24 } } }\n" + "\n".join(parts)
    async with asyncio.timeout(10):
        response = await gql(http, token, query)
    assert "maximum operation depth of 10" in response.json()["errors"][0]["message"]


async def test_nested_pages_beyond_the_cost_limit_are_refused_before_any_resolver(http):
    pm = await f.user()
    await f.project(pm, code="COST1")
    token = await token_for(pm)
    nested = (
        "query($n: Int) { projects(first: $n) { edges { node { tasks(first: $n) { edges { node {"
        " updates(first: $n) { totalCount } } } } } } } }"
    )
    refused = (await gql(http, token, nested, {"n": 100})).json()
    assert refused["data"] is None
    assert "cost limit of 50000" in refused["errors"][0]["message"]
    small = (await gql(http, token, nested, {"n": 10})).json()
    assert "errors" not in small
    assert small["data"]["projects"]["edges"][0]["node"]["tasks"]["edges"] == []


async def test_a_body_over_the_limit_is_answered_413_before_it_is_read(http):
    token = await token_for(await f.user())
    big = json.dumps({"query": "{ viewer { name } }", "variables": {"x": "a" * 2_000_000}})
    response = await http.post(
        "/graphql",
        content=big,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "1,048,576" in response.json()["errors"][0]["message"]
    page = await http.post("/login", content=b"email=" + b"a" * 2_000_000)
    assert page.status_code == 413


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit(http):
    token = await token_for(await f.user())

    async def chunks():
        for _ in range(40):
            yield b" " * 65536

    response = await http.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413


async def test_variables_nested_too_deeply_get_400_with_a_message(http):
    token = await token_for(await f.user())
    deep = "[" * 100_000 + "]" * 100_000
    body = '{"query": "{ viewer { name } }", "variables": {"x": ' + deep + "}}"
    response = await http.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "32" in response.json()["errors"][0]["message"]
    fine = await gql(http, token, "{ viewer { name } }", {"x": [[["ok"]]]})
    assert fine.status_code == 200


async def test_a_request_past_the_time_limit_is_cancelled_with_a_message(db):
    impatient = create_app(dataclasses.replace(db, request_timeout_seconds=0), init_database=False)
    token = await token_for(await f.user())
    transport = httpx.ASGITransport(app=impatient)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await gql(client, token, "{ projects { totalCount } }", language="en")
    assert response.status_code == 503
    assert "time limit of 0 seconds" in response.json()["errors"][0]["message"]


async def test_introspection_follows_the_setting(db, http):
    token = await token_for(await f.user())
    query = "{ __schema { queryType { name } } }"
    allowed = (await gql(http, token, query)).json()
    assert allowed["data"]["__schema"]["queryType"]["name"] == "Query"
    closed = create_app(dataclasses.replace(db, graphql_introspection=False), init_database=False)
    transport = httpx.ASGITransport(app=closed)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        refused = (await gql(client, token, query)).json()
    assert "introspection" in refused["errors"][0]["message"].lower()


async def test_lists_without_a_page_size_count_towards_the_cost(http):
    pm = await f.user()
    await f.project(pm, code="COST2")
    token = await token_for(pm)
    many = (
        "{ projects(first: 100) { edges { node { "
        + " ".join(f"a{i}: recentActivity(limit: 100) {{ summary }}" for i in range(15))
        + " } } } }"
    )
    assert "cost limit" in (await gql(http, token, many)).json()["errors"][0]["message"]
    nested = (
        "{ projects(first: 90) { edges { node { milestones { updates(first: 100) {"
        " totalCount } } } } } }"
    )
    assert "cost limit" in (await gql(http, token, nested)).json()["errors"][0]["message"]
    ordinary = "{ projects(first: 20) { edges { node { code milestones { name } } } } }"
    assert "errors" not in (await gql(http, token, ordinary)).json()
