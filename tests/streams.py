"""Waiting for a subscriber to be listening, instead of sleeping and hoping it is.

A GraphQL subscription takes its starting point ("from now on") when its server-side reader
first asks Redis for events; from then on it is blocked in XREAD. Redis lists that client
with the blocked flag, so a test can wait for exactly that state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis


async def _blocked_stream_readers(client: redis.Redis) -> int:
    clients = await client.client_list()
    return sum(1 for c in clients if c.get("cmd") == "xread" and "b" in c.get("flags", ""))


@asynccontextmanager
async def new_stream_readers(redis_url: str, count: int = 1) -> AsyncIterator[None]:
    """On leaving the block, `count` more clients than before are blocked reading a stream
    (or a TimeoutError after 10 s says the subscriber never started listening)."""
    client = redis.from_url(redis_url)
    try:
        before = await _blocked_stream_readers(client)
        yield
        async with asyncio.timeout(10):
            while await _blocked_stream_readers(client) < before + count:  # noqa: ASYNC110 (the state is in Redis)
                await asyncio.sleep(0.01)
    finally:
        await client.aclose()
