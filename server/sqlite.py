"""A SQLite client whose write transactions queue for the write lock instead of polling for it.

With a plain BEGIN, a transaction that reads and then writes fails with "database is locked"
when another process wrote in between; BEGIN IMMEDIATE takes the lock up front. Waiting for
it is left to the kernel: SQLite's own busy handler polls with sleeps growing from 1 to
100 ms, so with several web processes writing steadily an unlucky writer slept tens of
milliseconds for a lock freed after one (bench/updates.py, p99). An flock on a file beside
the database queues the writers and wakes the next one the moment the last commits;
busy_timeout stays as the fallback for writes outside a transaction. A writer queues before
it takes the process's one connection, which meanwhile serves the process's reads. (The
module name has to contain "sqlite": Tortoise picks its migration schema editor by it.)
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from collections.abc import Sequence
from typing import Any

from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError


class WriterQueue:
    """One writer at a time: in this process by an asyncio lock, across the processes sharing
    the database file by an flock (per open file, so it cannot tell this process's writers
    apart)."""

    def __init__(self, database_path: str) -> None:
        self.path = None if database_path == ":memory:" else f"{database_path}-writer.lock"
        self._fd: int | None = None
        self._turn = asyncio.Lock()
        self._locked = False

    def _file(self) -> int:
        if self._fd is None:
            assert self.path is not None
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    async def join(self) -> None:
        await self._turn.acquire()
        try:
            await self._lock_file()
        except BaseException:
            self._turn.release()
            raise

    async def _lock_file(self) -> None:
        if self.path is None:
            return
        fd = self._file()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting = asyncio.get_running_loop().run_in_executor(
                None, fcntl.flock, fd, fcntl.LOCK_EX
            )
            try:
                await asyncio.shield(waiting)
            except asyncio.CancelledError:
                # The thread still gets the lock; give it back then, or every process waits.
                waiting.add_done_callback(lambda done: self._unlock_after(done, fd))
                raise
        self._locked = True

    @staticmethod
    def _unlock_after(done: asyncio.Future[Any], fd: int) -> None:
        if not done.cancelled() and done.exception() is None:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def leave(self) -> None:
        if self._locked and self._fd is not None:
            self._locked = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._turn.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # also releases a lock still held
            self._fd, self._locked = None, False


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        # Tortoise commits first, a no-op on this autocommit connection that costs a trip
        # to aiosqlite's thread; every write pays it, the busiest ten times a second.
        try:
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class WriterTransactionContext(SqliteTransactionContext):
    def __init__(self, client: ImmediateSqliteClient) -> None:
        super().__init__(ImmediateTransactionWrapper(client), client._lock)
        self.writers = client.writers

    async def __aenter__(self) -> ImmediateTransactionWrapper:
        # As Tortoise's, after queueing, and a begin that fails or is cancelled gives the
        # connection lock back (Tortoise's keeps it: every later statement would hang).
        await self.writers.join()
        try:
            await self._trxlock.acquire()
            try:
                await self.ensure_connection()
                self.token = get_connections().set(self.connection_name, self.connection)
                try:
                    await self.connection.begin()
                except BaseException:
                    get_connections().reset(self.token)
                    raise
            except BaseException:
                self._trxlock.release()
                raise
        except BaseException:
            self.writers.leave()
            raise
        connection: ImmediateTransactionWrapper = self.connection
        return connection

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            await super().__aexit__(exc_type, exc_val, exc_tb)
        finally:
            self.writers.leave()


class ImmediateSqliteClient(SqliteClient):
    def __init__(self, file_path: str, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)
        self.writers = WriterQueue(file_path)

    def _in_transaction(self) -> SqliteTransactionContext:
        return WriterTransactionContext(self)

    async def close(self) -> None:
        await super().close()
        self.writers.close()

    async def read_side_by_side(self, statements: Sequence[str]) -> list[list[Any]]:
        """Read-only statements at once, each on a connection of its own in its own thread.

        SQLite runs a statement on one core; under WAL, readers on separate connections run
        in parallel and each sees the last commit when it starts. (A database in memory has
        only this process's connection.)"""
        if self.filename == ":memory:":
            return [(await self.execute_query(statement))[1] for statement in statements]
        reads = (asyncio.to_thread(self._read_alone, statement) for statement in statements)
        return list(await asyncio.gather(*reads))

    def _read_alone(self, statement: str) -> list[Any]:
        self.log.debug(statement)
        connection = sqlite3.connect(self.filename, timeout=5)
        try:
            connection.execute("PRAGMA query_only = ON")
            connection.row_factory = sqlite3.Row
            return connection.execute(statement).fetchall()
        finally:
            connection.close()


# Tortoise finds the client class of an engine module under this name.
client_class = ImmediateSqliteClient
