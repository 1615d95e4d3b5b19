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


async def test_a_write_in_one_trip_waits_for_the_lock_without_holding_up_reads(db, tmp_path):
    """The one-trip writer waits for another process's transaction on a connection of its
    own: the waiting process still answers reads, and its writes land in order when the lock
    is free. A caller that stops waiting once its write is under way does not stop it (it
    commits whole); one that stops while still queued writes nothing."""
    holder, writer = [await sqlite_client(tmp_path / "q.sqlite3") for _ in range(2)]
    await holder.execute_script("CREATE TABLE note (value INT)")

    def note(value: int) -> asyncio.Task[bool]:
        insert = ("INSERT INTO note (value) VALUES (?)", [value], False)
        return asyncio.create_task(writer.write_in_one_trip([insert]))

    try:
        async with holder._in_transaction() as holding:
            await holding.execute_query("INSERT INTO note (value) VALUES (1)")
            under_way, abandoned, queued = note(2), note(3), note(4)
            await asyncio.sleep(0.3)
            assert not any(task.done() for task in (under_way, abandoned, queued))
            _, rows = await asyncio.wait_for(writer.execute_query("SELECT COUNT(*) FROM note"), 2)
            assert rows[0][0] == 0  # answered now; the holder's row is not committed yet
            under_way.cancel()
            abandoned.cancel()
        assert await asyncio.wait_for(queued, 10) is True
        for cancelled in (under_way, abandoned):
            with pytest.raises(asyncio.CancelledError):
                await cancelled
        checked = ("UPDATE note SET value = 40 WHERE value = ?", [99], True)
        assert await writer.write_in_one_trip([checked]) is False
        assert await asyncio.wait_for(note(5), 10) is True
        _, rows = await holder.execute_query("SELECT value FROM note ORDER BY rowid")
        assert [row[0] for row in rows] == [1, 2, 4, 5]
    finally:
        for client in (holder, writer):
            await client.close()
