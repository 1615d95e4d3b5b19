"""A SQLite client whose write transactions take the write lock first.

With a plain BEGIN, a transaction that reads and then writes fails with "database is locked"
when another process wrote in between; BEGIN IMMEDIATE takes the lock up front and
busy_timeout makes the other process wait for it instead of failing. (The module name has to
contain "sqlite": Tortoise picks its migration schema editor by the client's module.)
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        # Tortoise commits first, a no-op on this autocommit connection that costs a trip
        # to aiosqlite's thread; every write pays it, the busiest ten times a second.
        try:
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> SqliteTransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


# Tortoise finds the client class of an engine module under this name.
client_class = ImmediateSqliteClient
