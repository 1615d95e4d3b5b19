"""Live events: one Redis Stream per project or meeting, whose ids are the SSE event ids.

Services publish after their transaction commits; pages (SSE) and GraphQL subscriptions read
the stream from the id the client last saw, so several web processes serve the same events
and a reconnect replays what it missed (ARCHITECTURE rule 8). A write never fails because
Redis is away: the change is committed, the event is logged as lost and pages catch up on
their next load.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from server import clock
from server.settings import get_settings

log = logging.getLogger(__name__)

STREAM_LENGTH = 2000
_clients: dict[tuple[str, int], Redis] = {}


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    data: dict[str, Any]


def stream_key(scope: str, scope_id: int) -> str:
    return f"xietong:events:{scope}:{scope_id}"


def _client() -> Redis | None:
    url = get_settings().redis_url
    if not url:
        return None
    # A client belongs to the event loop that made it (tests and the CLI run several loops).
    key = (url, id(asyncio.get_running_loop()))
    client = _clients.get(key)
    if client is None:
        client = Redis.from_url(url, decode_responses=True)
        _clients[key] = client
    return client


async def publish(scope: str, scope_id: int, kind: str, **data: Any) -> str | None:
    """Append an event to the scope's stream; returns its id (None when Redis is away)."""
    client = _client()
    if client is None:
        return None
    payload = json.dumps(data | {"at": clock.now().isoformat()}, default=str)
    try:
        event_id: str = await client.xadd(
            stream_key(scope, scope_id),
            {"kind": kind, "data": payload},
            maxlen=STREAM_LENGTH,
            approximate=True,
        )
    except Exception as error:  # noqa: BLE001 - the write is committed; the event is best effort
        log.warning("event %s for %s %s not published: %s", kind, scope, scope_id, error)
        return None
    return event_id


def _decode(entries: list[Any]) -> list[Event]:
    events = []
    for event_id, fields in entries:
        events.append(Event(event_id, fields.get("kind", ""), json.loads(fields.get("data", "{}"))))
    return events


async def read_since(scope: str, scope_id: int, last_id: str, *, block_ms: int = 0) -> list[Event]:
    """Events after `last_id` ("0" for all kept, "$" for only new ones), waiting up to block_ms."""
    client = _client()
    if client is None:
        await asyncio.sleep(block_ms / 1000)
        return []
    key = stream_key(scope, scope_id)
    answer = await client.xread({key: last_id}, count=100, block=block_ms or None)
    if not answer:
        return []
    return _decode(answer[0][1])


async def latest_id(scope: str, scope_id: int) -> str:
    client = _client()
    if client is None:
        return "0"
    entries = await client.xrevrange(stream_key(scope, scope_id), count=1)
    return str(entries[0][0]) if entries else "0"


async def follow(
    scope: str, scope_id: int, *, last_id: str | None = None, block_ms: int = 15000
) -> AsyncIterator[Event]:
    """Every event after `last_id` (or from now on), forever; the caller stops iterating."""
    cursor = last_id or await latest_id(scope, scope_id)
    while True:
        for event in await read_since(scope, scope_id, cursor, block_ms=block_ms):
            cursor = event.id
            yield event


def _position(event_id: str) -> tuple[int, int]:
    millis, _, sequence = event_id.partition("-")
    return (int(millis or 0), int(sequence or 0))


class _Hub:
    """One reader of a stream per process, handing every event to each local subscriber.

    Fifty pages watching one meeting cost one blocking XREAD, not fifty.
    """

    def __init__(self, scope: str, scope_id: int, cursor: str) -> None:
        self.scope, self.scope_id, self.cursor = scope, scope_id, cursor
        self.queues: set[asyncio.Queue[list[Event]]] = set()
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            while self.queues:
                batch = await read_since(self.scope, self.scope_id, self.cursor, block_ms=5000)
                if batch:
                    self.cursor = batch[-1].id
                    for queue in self.queues:
                        queue.put_nowait(batch)
        finally:
            _hubs.pop((self.scope, self.scope_id, id(asyncio.get_running_loop())), None)


_hubs: dict[tuple[str, int, int], _Hub] = {}


async def subscribe(
    scope: str, scope_id: int, *, last_id: str | None = None, idle_seconds: float = 15
) -> AsyncIterator[list[Event]]:
    """Batches of events after `last_id` (or from now on), shared by every local subscriber;
    an empty batch after `idle_seconds` without events, time for a keepalive.

    The queue joins the hub before the catch-up read, so nothing falls between the two;
    events seen twice are dropped by id.
    """
    key = (scope, scope_id, id(asyncio.get_running_loop()))
    hub = _hubs.get(key)
    if hub is None:
        hub = _Hub(scope, scope_id, await latest_id(scope, scope_id))
        _hubs[key] = hub
    queue: asyncio.Queue[list[Event]] = asyncio.Queue()
    hub.queues.add(queue)
    if hub.task is None or hub.task.done():
        hub.task = asyncio.create_task(hub.run())
    try:
        cursor = last_id or hub.cursor
        missed = await read_since(scope, scope_id, cursor) if last_id else []
        if missed:
            cursor = missed[-1].id
            yield missed
        while True:
            try:
                arrived = await asyncio.wait_for(queue.get(), idle_seconds)
            except TimeoutError:
                yield []
                continue
            batch = [e for e in arrived if _position(e.id) > _position(cursor)]
            if batch:
                cursor = batch[-1].id
                yield batch
    finally:
        hub.queues.discard(queue)
