"""What load balancers and operators ask: /healthz (alive, cheap), /readyz (may take
traffic), /metrics (Prometheus)."""

import asyncio
import secrets

import redis.asyncio as redis
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from server import metrics
from server.db import database_answers, pending_migrations
from server.notices.backlog import outbox_backlog


async def _redis_answers(url: str | None) -> bool:
    if not url:
        return False
    client = redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)  # type: ignore[no-untyped-call]
    try:
        return bool(await asyncio.wait_for(client.ping(), timeout=3))
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        return False
    finally:
        await client.aclose()


async def healthz(request: Request) -> Response:
    database, cache = await asyncio.gather(
        database_answers(), _redis_answers(request.app.state.settings.redis_url)
    )
    if database and cache:
        return PlainTextResponse("ok")
    failed = [name for name, up in (("database", database), ("redis", cache)) if not up]
    return PlainTextResponse(f"unavailable: {', '.join(failed)}", status_code=503)


async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico on their own; the icon is an SVG among the static files."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


async def readyz(request: Request) -> Response:
    """Ready for traffic: the database and Redis answer, and every migration of this
    release is applied (a process started before `xietong migrate` ran is not)."""
    database, cache = await asyncio.gather(
        database_answers(), _redis_answers(request.app.state.settings.redis_url)
    )
    pending = await pending_migrations() if database else []
    failed = [name for name, up in (("database", database), ("redis", cache)) if not up]
    if pending:
        failed.append(f"migrations pending ({', '.join(pending)})")
    if failed:
        return PlainTextResponse(f"not ready: {'; '.join(failed)}", status_code=503)
    return PlainTextResponse("ready")


async def metrics_page(request: Request) -> Response:
    """Prometheus text, for a scraper holding the token of XIETONG_METRICS_TOKEN. Without
    that setting the page does not exist: counts of routes and users are not for anyone."""
    token = request.app.state.settings.metrics_token
    if not token:
        return PlainTextResponse("Not Found", status_code=404)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip(), token):
        return PlainTextResponse(
            "metrics need the bearer token of XIETONG_METRICS_TOKEN",
            status_code=401,
            headers={"www-authenticate": "Bearer"},
        )
    backlog = await outbox_backlog()
    figures = metrics.Figures(
        {
            "xietong_outbox_notices": (
                "Notices in the outbox by status (FAILED: gave up after every retry)",
                {(status,): float(n) for status, n in backlog.by_status.items()},
                ["status"],
            ),
            "xietong_outbox_oldest_waiting_seconds": (
                "How long the oldest notice still to be sent has waited",
                {(): backlog.oldest_waiting_seconds},
                [],
            ),
        }
    )
    return Response(metrics.exposition(figures), media_type=metrics.CONTENT_TYPE)
