"""GET /healthz: ok when the database and Redis both answer."""

import asyncio

import redis.asyncio as redis
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from server.db import database_answers


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
