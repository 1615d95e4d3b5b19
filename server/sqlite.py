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
import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from typing import Any

from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

from server.metrics import SQLITE_WRITER_WAIT

# One statement of a write: its SQL, its bound values, and whether it must change exactly
# one row (a version check) for the write to commit.
PreparedWrite = tuple[str, list[Any], bool]

WAITED_FOR_PROCESS = SQLITE_WRITER_WAIT.labels("process")
WAITED_FOR_FILE = SQLITE_WRITER_WAIT.labels("file")


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
        await self.take_turn()
        try:
            await self._lock_file()
        except BaseException:
            self.end_turn()
            raise

    async def take_turn(self) -> None:
        """This process's writers one at a time (the file lock cannot tell them apart)."""
        started = time.perf_counter()
        await self._turn.acquire()
        WAITED_FOR_PROCESS.observe(time.perf_counter() - started)

    def end_turn(self) -> None:
        self._turn.release()

    @contextlib.contextmanager
    def file_locked(self) -> Iterator[None]:
        """The lock across processes, waited for in the calling thread; for a writer that
        already has its turn and runs its whole transaction in that thread."""
        if self.path is None:
            yield
            return
        fd = self._file()
        started = time.perf_counter()
        fcntl.flock(fd, fcntl.LOCK_EX)
        WAITED_FOR_FILE.observe(time.perf_counter() - started)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    async def _lock_file(self) -> None:
        if self.path is None:
            return
        fd = self._file()
        started = time.perf_counter()
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
        WAITED_FOR_FILE.observe(time.perf_counter() - started)
        self._locked = True

    @staticmethod
    def _unlock_after(done: asyncio.Future[Any], fd: int) -> None:
        if not done.cancelled() and done.exception() is None:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def leave(self) -> None:
        if self._locked and self._fd is not None:
            self._locked = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.end_turn()

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
        self._one_trip: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None

    def _in_transaction(self) -> SqliteTransactionContext:
        return WriterTransactionContext(self)

    async def close(self) -> None:
        await super().close()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._one_trip is not None:
            # After the write under way, if any: its thread still uses the connection.
            await self.writers.take_turn()
            try:
                self._one_trip.close()
                self._one_trip = None
            finally:
                self.writers.end_turn()
        self.writers.close()

    @translate_exceptions
    async def write_in_one_trip(self, writes: Sequence[PreparedWrite]) -> bool:
        """A whole write transaction in one call to a thread: BEGIN IMMEDIATE, the
        statements, COMMIT; False, with nothing written, when a statement that must change
        exactly one row did not.

        A transaction through Tortoise goes back to the event loop after every statement,
        and holds the write lock while the loop serves other requests in between: with
        three busy web processes that was 3.8 ms per phone update on average, against a
        fraction of a millisecond of SQLite's own work, and the lock, not the CPU, capped
        the updates per second (bench/updates.py). Here the lock is held only while SQLite
        works. Runs on a connection of its own, so waiting for the lock never holds up this
        process's reads."""
        await self.writers.take_turn()
        written = asyncio.ensure_future(asyncio.to_thread(self._write_all, writes))
        # The turn ends when the thread is done, even if the caller stops waiting for it.
        written.add_done_callback(lambda _: self.writers.end_turn())
        return await asyncio.shield(written)

    @property
    def in_memory(self) -> bool:
        """A database in memory exists only on this process's one connection."""
        return self.filename == ":memory:"

    def _write_all(self, writes: Sequence[PreparedWrite]) -> bool:
        connection = self._one_trip_connection()
        with self.writers.file_locked():
            connection.execute("BEGIN IMMEDIATE")
            try:
                for sql, values, must_change_one_row in writes:
                    self.log.debug("%s: %s", sql, values)
                    changed = connection.execute(sql, values).rowcount
                    if must_change_one_row and changed != 1:
                        connection.execute("ROLLBACK")
                        return False
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        return True

    def _one_trip_connection(self) -> sqlite3.Connection:
        if self._one_trip is None:
            connection = sqlite3.connect(
                self.filename, isolation_level=None, check_same_thread=False, timeout=5
            )
            for pragma, value in self.pragmas.items():
                connection.execute(f"PRAGMA {pragma}={value}")
            self._one_trip = connection
        return self._one_trip

    @translate_exceptions
    async def read_here(
        self, query: str, values: Sequence[Any], as_tuples: bool = False
    ) -> list[Any] | None:
        """A short read-only statement run on the event loop's own thread, on a connection
        of its own, never waiting for anything; None when SQLite would make it wait.

        Through aiosqlite every statement is a trip to its thread and back: 57 µs on this
        machine against 3.5 µs for SQLite to answer an indexed read (bench/reads.py). The
        fixed statements of the hot reads (server.db.Statement) are such reads. Under WAL
        a reader takes no lock a writer waits for, and sees the last commit when it starts,
        as a read on the shared connection outside a transaction does. A reader can still
        be told "busy" (WAL recovery after a crash, a connection holding the file
        exclusively): waiting here would stop the whole event loop, so the caller reads
        the ordinary way instead, which waits in aiosqlite's thread. Not for a database in
        memory, which exists only on the shared connection."""
        reader = self._reader
        if reader is None:
            reader = sqlite3.connect(
                self.filename, isolation_level=None, check_same_thread=False, timeout=0
            )
            for pragma, value in self.pragmas.items():
                reader.execute(f"PRAGMA {pragma}={value}")
            reader.execute("PRAGMA busy_timeout = 0")
            reader.execute("PRAGMA query_only = ON")
            self._reader = reader
        cursor = reader.cursor()
        if not as_tuples:  # rows by column name, as Tortoise's executor reads them
            cursor.row_factory = sqlite3.Row
        try:
            found = cursor.execute(query, values).fetchall()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                return None
            raise
        self.log.debug("%s: %s", query, values)
        return found

    async def read_side_by_side(self, statements: Sequence[str]) -> list[list[Any]]:
        """Read-only statements at once, each on a connection of its own in its own thread.

        SQLite runs a statement on one core; under WAL, readers on separate connections run
        in parallel and each sees the last commit when it starts. (A database in memory has
        only this process's connection.)"""
        if self.in_memory:
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
