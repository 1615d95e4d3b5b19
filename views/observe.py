"""The outermost middleware: every request counted and timed by its route's pattern, and,
with JSON logs, one line per request."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import logs, metrics

log = logging.getLogger(logs.REQUEST_LOGGER)


def route_of(scope: Scope) -> str:
    """The pattern that matched ("/projects/{code}/plan"), so one label covers every
    project; "unmatched" for addresses no route knows (their number is unbounded)."""
    route: Any = scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")


def user_id_of(scope: Scope) -> int | None:
    user = scope.get("xietong.user")
    if user is not None:
        return int(user.id)
    actor = scope.get("xietong.actor")
    return int(actor.user.id) if actor is not None and actor.user is not None else None


class Observe:
    def __init__(self, app: ASGIApp, *, log_requests: bool) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("xietong.request_id", uuid.uuid4().hex[:12])
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method, route = scope["method"], route_of(scope)
        metrics.REQUESTS.labels(method, route, str(status)).inc()
        metrics.REQUEST_SECONDS.labels(method, route).observe(seconds)
        if self.log_requests:
            log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "request_id": scope["xietong.request_id"],
                    "user_id": user_id_of(scope),
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
