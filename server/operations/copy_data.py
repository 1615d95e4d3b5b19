"""Moving a laptop trial to PostgreSQL: every row of a SQLite database copied into the
database DATABASE_URL names, migrated to the same release and still empty.

Rows are read and written through each model's own fields, so values convert exactly as
the application converts them. A nullable reference is written in a second pass (a task's
parent may have a higher id than the task), so the insert order only has to respect the
references that cannot be empty. All of it is one transaction on the target.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import DBConnectionError, OperationalError
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server.db import handling_secrets, migration_names, tortoise_config

# Seeded by `xietong migrate` in every database; the source's rows replace them (the
# calendar's edition token with its rows, so a process that read the target's calendar
# reads it again).
SEEDED = {"calendar_day", "working_day_count", "calendar_edition"}
BATCH = 1000


class CopyError(Exception):
    """The copy cannot be done; the message says why in one line."""


@dataclass(frozen=True)
class Copied:
    tables: dict[str, int]


def _models() -> list[type[Model]]:
    return [model for app in Tortoise.apps.values() for model in app.values()]


def _references(model: type[Model]) -> list[tuple[str, type[Model], bool]]:
    """(column, referenced model, nullable) of each foreign key of the model."""
    meta = model._meta
    found = []
    for name in meta.fk_fields | meta.o2o_fields:
        field: Any = meta.fields_map[name]
        column = meta.fields_db_projection[field.source_field]
        found.append((column, field.related_model, bool(field.null)))
    return found


def insert_order(models: Iterable[type[Model]]) -> list[type[Model]]:
    """Referenced before referencing, counting only references that cannot be empty."""
    remaining = {model._meta.db_table: model for model in models}
    ordered: list[type[Model]] = []
    while remaining:
        ready = sorted(
            table
            for table, model in remaining.items()
            if all(
                nullable or target._meta.db_table not in remaining or target._meta.db_table == table
                for _, target, nullable in _references(model)
            )
        )
        if not ready:
            raise CopyError(f"required references form a cycle among {sorted(remaining)}")
        for table in ready:
            ordered.append(remaining.pop(table))
    return ordered


async def _count(db: BaseDBAsyncClient, table: str) -> int:
    _, rows = await db.execute_query(f'SELECT count(*) AS n FROM "{table}"')  # noqa: S608
    return int(rows[0]["n"])


async def _applied(db: BaseDBAsyncClient) -> set[str]:
    try:
        _, rows = await db.execute_query(
            "SELECT name FROM tortoise_migrations WHERE app = 'models'"
        )
    except OperationalError:  # never migrated
        return set()
    return {str(row["name"]) for row in rows}


async def _check(source: BaseDBAsyncClient, target: BaseDBAsyncClient) -> None:
    release = set(migration_names())
    if await _applied(source) != release:
        raise CopyError("run `xietong migrate` on the SQLite database first (same release)")
    if await _applied(target) != release:
        raise CopyError("run `xietong migrate` on the target database first")
    for model in _models():
        table = model._meta.db_table
        if table not in SEEDED and await _count(target, table):
            raise CopyError(f"the target database already holds data (table {table})")


Update = tuple[str, list[list[Any]]]


async def _copy_model(
    model: type[Model],
    source: BaseDBAsyncClient,
    db: BaseDBAsyncClient,
    later_updates: list[Update],
) -> int:
    meta = model._meta
    later = {column for column, _, nullable in _references(model) if nullable}
    columns = list(meta.db_fields)
    # Every column, secrets too: past a manager that leaves them out (org.models.WithoutSecrets).
    with handling_secrets():
        rows = await QuerySet(model).using_db(source).order_by(meta.pk_attr)
    if not rows:
        return 0
    by_column = {meta.fields_db_projection[name]: name for name in meta.fields_db_projection}
    quoted = ", ".join(f'"{column}"' for column in columns)
    marks = ", ".join(_marks(db, len(columns)))
    insert = f'INSERT INTO "{meta.db_table}" ({quoted}) VALUES ({marks})'  # noqa: S608
    values = [
        [
            None if column in later else _db_value(model, row, by_column[column])
            for column in columns
        ]
        for row in rows
    ]
    for start in range(0, len(values), BATCH):
        await db.execute_many(insert, values[start : start + BATCH])
    # Nullable references are set once every table is in (they may point anywhere).
    for column in later:
        assignments = [
            [_db_value(model, row, by_column[column]), row.pk]
            for row in rows
            if getattr(row, by_column[column]) is not None
        ]
        if assignments:
            first, second = _marks(db, 2)
            update = (
                f'UPDATE "{meta.db_table}" SET "{column}" = {first} '  # noqa: S608
                f'WHERE "{meta.db_pk_column}" = {second}'
            )
            later_updates.append((update, assignments))
    return len(rows)


def _marks(db: BaseDBAsyncClient, n: int) -> list[str]:
    if db.capabilities.dialect == "postgres":
        return [f"${i}" for i in range(1, n + 1)]
    return ["?"] * n


def _db_value(model: type[Model], row: Model, name: str) -> Any:
    field = model._meta.fields_map[name]
    return field.to_db_value(getattr(row, name), row)


async def _renumber(db: BaseDBAsyncClient, model: type[Model]) -> None:
    """PostgreSQL's sequences continue after the copied ids, or the next insert collides."""
    if db.capabilities.dialect != "postgres":
        return
    meta = model._meta
    if not meta.fields_map[meta.pk_attr].generated:
        return
    table, pk = meta.db_table, meta.db_pk_column
    await db.execute_query(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{pk}'), "  # noqa: S608
        f'COALESCE((SELECT MAX("{pk}") FROM "{table}"), 0) + 1, false)'
    )


async def copy_data(source_url: str, target_url: str) -> Copied:
    if not source_url.startswith("sqlite://"):
        raise CopyError("--from must name a SQLite database (sqlite:///path/xietong.sqlite3)")
    config = tortoise_config(target_url)
    config["connections"]["source"] = tortoise_config(source_url)["connections"]["default"]
    await Tortoise.init(config=config)
    try:
        source, target = connections.get("source"), connections.get("default")
        try:
            await _check(source, target)
        except DBConnectionError as error:
            raise CopyError(f"cannot connect: {error}") from error
        tables: dict[str, int] = {}
        later_updates: list[Update] = []
        async with in_transaction("default") as db:
            for model in insert_order(_models()):
                if model._meta.db_table in SEEDED:
                    await db.execute_query(f'DELETE FROM "{model._meta.db_table}"')  # noqa: S608
                tables[model._meta.db_table] = await _copy_model(model, source, db, later_updates)
                await _renumber(db, model)
            for update, assignments in later_updates:
                for start in range(0, len(assignments), BATCH):
                    await db.execute_many(update, assignments[start : start + BATCH])
        for table, expected in tables.items():
            if await _count(target, table) != expected:
                raise CopyError(f"table {table}: copied {expected} rows, found a different count")
        return Copied(tables=tables)
    finally:
        await Tortoise.close_connections()
