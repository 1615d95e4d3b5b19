"""What an operator's tools read: /metrics (Prometheus text, behind a token), /readyz
(database, Redis, migrations), /healthz."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tortoise import connections

from server import clock
from server.app import create_app
from server.db import migration_names
from server.notices.models import Notice, NoticeStatus
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from workers.settings import deliver_notices

TOKEN = "scrape-token-for-tests"


@pytest.fixture
async def ops(db) -> httpx.AsyncClient:
    app = create_app(dataclasses.replace(db, metrics_token=TOKEN), init_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def scrape(client: httpx.AsyncClient) -> dict[str, list]:
    answer = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {family.name: family.samples for family in text_string_to_metric_families(answer.text)}


def value(samples: list, name: str, **labels: str) -> float:
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


async def test_metrics_need_the_configured_token(http, ops):
    # No token configured: the page does not exist.
    assert (await http.get("/metrics")).status_code == 404
    refused = await ops.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert refused.status_code == 401 and "XIETONG_METRICS_TOKEN" in refused.text
    assert (await ops.get("/metrics")).status_code == 401


async def test_requests_graphql_operations_outbox_and_jobs_are_counted(ops, db):
    pm = await f.user(name="王芳")
    project = await f.project(pm)
    families = await scrape(ops)
    requests = families.get("xietong_http_requests", [])
    plan_route = "/projects/{code}/plan"
    before = value(requests, "xietong_http_requests_total", route=plan_route, status="303")

    # Not signed in: the plan page sends the browser to the login form.
    assert (await ops.get(f"/projects/{project.code}/plan")).status_code == 303
    token = await token_for(pm)
    named = await gql(ops, token, "query MyProjects { viewer { name } }")
    assert named.status_code == 200
    await Notice.create(
        dedup_key="ops-1",
        subject="s",
        body="b",
        address="a@example.com",
        next_attempt_at=clock.now() + timedelta(hours=1),
        status=NoticeStatus.PENDING,
    )
    await Notice.create(
        dedup_key="ops-2",
        subject="s",
        body="b",
        address="b@example.com",
        next_attempt_at=clock.now(),
        status=NoticeStatus.FAILED,
    )
    await deliver_notices({"settings": db})

    families = await scrape(ops)
    requests = families["xietong_http_requests"]
    # One label for every project's plan page: the route's pattern, not the address.
    assert value(requests, "xietong_http_requests_total", route=plan_route, status="303") == (
        before + 1
    )
    assert not any(project.code in s.labels.get("route", "") for s in requests)
    durations = families["xietong_http_request_duration_seconds"]
    assert value(durations, "xietong_http_request_duration_seconds_count", route=plan_route) >= 1
    operations = families["xietong_graphql_operations"]
    assert value(operations, "xietong_graphql_operations_total", operation="MyProjects") >= 1
    outbox = families["xietong_outbox_notices"]
    assert value(outbox, "xietong_outbox_notices", status="PENDING") == 1
    assert value(outbox, "xietong_outbox_notices", status="FAILED") == 1
    waits = families["xietong_sqlite_writer_wait_seconds"]
    writes = value(waits, "xietong_sqlite_writer_wait_seconds_count", stage="process")
    if db.is_sqlite:  # every write on SQLite queues for its turn
        assert writes > 0
    runs = families["xietong_job_runs"]
    assert value(runs, "xietong_job_runs_total", job="deliver-notices", outcome="ok") >= 1


async def test_readyz_says_what_is_not_ready(http, db):
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.text == "ready"
    assert (await http.get("/healthz")).text == "ok"
    newest = migration_names()[-1]
    await run_sql("DELETE FROM tortoise_migrations WHERE app = 'models' AND name = ?", newest)
    try:
        behind = await http.get("/readyz")
        assert behind.status_code == 503
        assert behind.text == f"not ready: migrations pending ({newest})"
        # Alive all the same: a load balancer must not restart it for that.
        assert (await http.get("/healthz")).status_code == 200
    finally:
        await run_sql(
            "INSERT INTO tortoise_migrations (app, name, applied_at) VALUES ('models', ?, ?)",
            newest,
            clock.now(),
        )
    assert (await http.get("/readyz")).status_code == 200


async def run_sql(text: str, *values: object) -> None:
    database = connections.get("default")
    if database.capabilities.dialect == "postgres":
        for n in range(1, len(values) + 1):
            text = text.replace("?", f"${n}", 1)
    await database.execute_query(text, list(values))
