from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from server.org.models import Department
from server.settings import Settings
from server.sqlite import ImmediateSqliteClient
from tests import factories as f

ROUNDS = 150


async def test_two_processes_reading_then_writing_lose_nothing(db: Settings):
    """Rule 4: on SQLite BEGIN IMMEDIATE + busy_timeout, on PostgreSQL SELECT … FOR UPDATE,
    so concurrent read-then-write transactions from two processes neither fail nor lose."""
    department = await f.department("研发部")
    workers = [
        subprocess.Popen(  # noqa: ASYNC220 - the test waits for them on purpose
            [sys.executable, "-m", "tests.server.locking_worker", db.database_url, str(ROUNDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [worker.communicate(timeout=120) for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], results
    final = await Department.get(id=department.id)
    assert final.version == 1 + 2 * ROUNDS


async def sqlite_client(path: Path) -> ImmediateSqliteClient:
    client = ImmediateSqliteClient(str(path), connection_name="writers", busy_timeout=5000)
    await client.create_connection(with_db=True)
    return client


async def insert(client: ImmediateSqliteClient, value: int, *, fail: bool = False) -> None:
    async with client._in_transaction() as transaction:
        await transaction.execute_query("INSERT INTO note (value) VALUES (?)", [value])
        if fail:
            raise RuntimeError("the transaction gives up")


async def test_writers_queue_and_a_cancelled_or_failed_writer_lets_the_next_one_in(db, tmp_path):
    """Writers from two connections wait for each other on the writer queue beside the file;
    one cancelled while waiting, or failing inside its transaction, does not keep the
    queue (every later writer would hang)."""
    first, second, third = [await sqlite_client(tmp_path / "q.sqlite3") for _ in range(3)]
    await first.execute_script("CREATE TABLE note (value INT)")
    try:
        async with first._in_transaction() as holding:
            await holding.execute_query("INSERT INTO note (value) VALUES (1)")
            waiting = asyncio.create_task(insert(second, 2))
            cancelled = asyncio.create_task(insert(third, 99))
            await asyncio.sleep(0.2)
            assert not waiting.done()  # queued behind the open transaction, not refused
            cancelled.cancel()
        await asyncio.wait_for(waiting, 10)
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        with pytest.raises(RuntimeError):
            await insert(first, 3, fail=True)
        await asyncio.wait_for(insert(second, 4), 10)
        await asyncio.wait_for(insert(third, 5), 10)
        _, rows = await first.execute_query("SELECT value FROM note ORDER BY value")
        assert [row[0] for row in rows] == [1, 2, 4, 5]
    finally:
        for client in (first, second, third):
            await client.close()
