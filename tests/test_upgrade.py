"""Upgrades keep the data: a database made by an earlier release's migrations, with a row in
every table, migrated to this release holds every row with every value it had. And the
migrations of this release are additive, so the previous release's web processes keep
working beside the new ones during a rolling restart (docs/deploy.md).

The earlier database is made here, by `xietong migrate --to`, not loaded from a file.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sqlite3
import subprocess
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import networkx as nx
import pytest

from server.db import migration_names
from server.operations import postgres
from server.settings import Settings
from tests.server.test_backup import empty_target
from tests.test_cli import XIETONG

# The newest migration of the release before this one; bump it when a release ships.
PREVIOUS_RELEASE = "0023_change_requests"
# RunPython fills a new column of existing rows (0024: tasks' WBS sort keys); it removes,
# renames and retypes nothing the old code reads.
ADDITIVE = {"CreateModel", "AddField", "AddIndex", "RunPython"}
EARLIER = sorted({PREVIOUS_RELEASE, *migration_names()[-3:-1]} - {migration_names()[-1]})

Row = dict[str, Any]


def migrate(target: Settings, *to: str) -> None:
    env = dict(os.environ)
    env.update({"DATABASE_URL": target.database_url, "XIETONG_DATA_DIR": str(target.data_dir)})
    done = subprocess.run(
        [XIETONG, "migrate", *(("--to", to[0]) if to else ())],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def in_dependency_order(tables: list[str], needs: dict[str, set[str]]) -> list[str]:
    graph = nx.DiGraph()
    graph.add_nodes_from(tables)
    graph.add_edges_from((needed, table) for table in tables for needed in needs[table])
    return list(nx.lexicographical_topological_sort(graph))


# --- SQLite -------------------------------------------------------------------------------------


def sqlite_value(declared: str) -> Any:
    kind = declared.upper()
    if "JSON" in kind:
        return "{}"
    if "BOOL" in kind:
        return 1
    if "INT" in kind:
        return 1
    if "TIMESTAMP" in kind or "DATETIME" in kind:
        return "2026-11-02 08:00:00+00:00"
    if kind.startswith("DATE"):
        return "2026-11-02"
    if kind.startswith("TIME"):
        return "08:00:00"
    if "REAL" in kind or "FLOAT" in kind or "DOUBLE" in kind:
        return 1.5
    if "DECIMAL" in kind or "NUMERIC" in kind:
        return "1.50"
    if "BLOB" in kind:
        return b"x"
    return "x"


def fill_sqlite(path: Path) -> dict[str, list[Row]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'tortoise_migrations'"
            )
        ]
        needs = {t: set() for t in tables}
        columns: dict[str, list[tuple[str, str, bool, bool]]] = {}
        for table in tables:
            foreign = {row[3]: row[2] for row in db.execute(f'PRAGMA foreign_key_list("{table}")')}
            columns[table] = []
            for _, name, declared, notnull, default, pk in db.execute(
                f'PRAGMA table_info("{table}")'
            ):
                # An INTEGER primary key numbers itself; any other key needs a value.
                numbered = bool(pk) and declared.upper() == "INTEGER"
                required = bool(notnull) and default is None and not numbered
                if required and name in foreign and foreign[name] != table:
                    needs[table].add(foreign[name])
                columns[table].append((name, declared, required, bool(pk)))
        for table in in_dependency_order(tables, needs):
            names = [name for name, _, required, _ in columns[table] if required]
            values = [
                sqlite_value(declared) for _, declared, required, _ in columns[table] if required
            ]
            marks = ", ".join("?" for _ in names)
            quoted = ", ".join(f'"{name}"' for name in names)
            db.execute(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', values)
        db.commit()
    return sqlite_rows(path)


def sqlite_rows(path: Path) -> dict[str, list[Row]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.row_factory = sqlite3.Row
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'tortoise_migrations'"
            )
        ]
        return {t: [dict(r) for r in db.execute(f'SELECT * FROM "{t}" ORDER BY 1')] for t in tables}


# --- PostgreSQL ---------------------------------------------------------------------------------


def postgres_value(data_type: str) -> Any:
    return {
        "integer": 1,
        "bigint": 1,
        "smallint": 1,
        "boolean": True,
        "jsonb": "{}",
        "json": "{}",
        "timestamp with time zone": datetime(2026, 11, 2, 8, tzinfo=UTC),
        "timestamp without time zone": datetime(2026, 11, 2, 8),
        "date": date(2026, 11, 2),
        "time without time zone": time(8),
        "numeric": Decimal("1.50"),
        "double precision": 1.5,
        "real": 1.5,
        "bytea": b"x",
    }.get(data_type, "x")


async def fill_postgres(url: str) -> dict[str, list[Row]]:
    connection = await asyncpg.connect(postgres._dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name != 'tortoise_migrations' ORDER BY table_name, ordinal_position"
        )
        foreign = await connection.fetch(
            "SELECT tc.table_name, kcu.column_name, ccu.table_name AS referenced "
            "FROM information_schema.table_constraints tc "
            "JOIN information_schema.key_column_usage kcu "
            "  ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema "
            "JOIN information_schema.constraint_column_usage ccu "
            "  ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema "
            "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'"
        )
        references = {(r["table_name"], r["column_name"]): r["referenced"] for r in foreign}
        tables = sorted({r["table_name"] for r in rows})
        needs: dict[str, set[str]] = {t: set() for t in tables}
        required: dict[str, list[tuple[str, str]]] = {t: [] for t in tables}
        for r in rows:
            if r["is_nullable"] == "YES" or r["column_default"] is not None:
                continue
            table, column = r["table_name"], r["column_name"]
            referenced = references.get((table, column))
            if referenced and referenced != table:
                needs[table].add(referenced)
            required[table].append((column, r["data_type"]))
        for table in in_dependency_order(tables, needs):
            names = [column for column, _ in required[table]]
            values = [postgres_value(data_type) for _, data_type in required[table]]
            marks = ", ".join(f"${n}" for n in range(1, len(names) + 1))
            quoted = ", ".join(f'"{name}"' for name in names)
            await connection.execute(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', *values)
    finally:
        await connection.close()
    return await postgres_rows(url)


async def postgres_rows(url: str) -> dict[str, list[Row]]:
    connection = await asyncpg.connect(postgres._dsn(url))
    try:
        tables = [
            r["tablename"]
            for r in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename != 'tortoise_migrations'"
            )
        ]
        return {
            t: [dict(r) for r in await connection.fetch(f'SELECT * FROM "{t}" ORDER BY 1')]
            for t in tables
        }
    finally:
        await connection.close()


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("earlier", EARLIER)
async def test_a_database_of_an_earlier_release_keeps_every_row_through_the_upgrade(
    db, tmp_path, earlier
):
    async with empty_target(db, tmp_path / "earlier") as target:
        migrate(target, earlier)
        if target.is_sqlite:
            path = Path(target.database_url.removeprefix("sqlite://"))
            before = fill_sqlite(path)
        else:
            before = await fill_postgres(target.database_url)
        assert before and all(len(rows) == 1 for rows in before.values())

        migrate(target)

        after = sqlite_rows(path) if target.is_sqlite else await postgres_rows(target.database_url)
        for table, rows in before.items():
            assert len(after[table]) == 1, table
            kept = {column: after[table][0][column] for column in rows[0]}
            assert kept == rows[0], table
        added = set(after) - set(before)
        if "calendar_edition" in added:
            # A database that holds a company calendar gets the first token of its edition.
            assert [len(row["token"]) for row in after["calendar_edition"]] == [32]
        assert all(after[table] == [] for table in added - {"calendar_edition"})


def test_the_migrations_of_this_release_are_additive():
    """Old web processes serve beside new ones during a rolling restart: nothing they read
    may be removed, renamed or retyped, and a new column must be nullable or have a default
    (the old code does not write it)."""
    names = migration_names()
    for name in names[names.index(PREVIOUS_RELEASE) + 1 :]:
        module = importlib.import_module(f"server.migrations.{name}")
        for operation in module.Migration.operations:
            kind = type(operation).__name__
            assert kind in ADDITIVE, f"{name}: {kind} is not additive"
            if kind == "AddField":
                field = operation.field
                assert field.null or field.default is not None, f"{name}: {operation.name}"


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([XIETONG, *args], env=env, capture_output=True, text=True, timeout=300)


async def test_a_laptop_trial_moves_into_an_empty_database_with_every_row(db, tmp_path):
    """`xietong copy-data`: the demo's SQLite database into PostgreSQL (into SQLite when the
    suite runs without PostgreSQL), where the next id continues after the copied ones."""
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    trial = f"sqlite://{laptop / 'trial.db'}"
    env = dict(os.environ, XIETONG_DATA_DIR=str(laptop), DATABASE_URL=trial)
    env.pop("XIETONG_SECRET_KEY", None)
    for command in ("migrate", "demo"):
        done = cli(env, command)
        assert done.returncode == 0, done.stderr
    source = {t: len(rows) for t, rows in sqlite_rows(laptop / "trial.db").items()}

    async with empty_target(db, tmp_path / "server") as target:
        server = dict(env, XIETONG_DATA_DIR=str(target.data_dir), DATABASE_URL=target.database_url)
        refused = cli(server, "copy-data", "--from", trial)
        assert refused.returncode == 2
        assert refused.stderr == "xietong: run `xietong migrate` on the target database first\n"
        migrate(target)
        copied = cli(server, "copy-data", "--from", trial)
        assert copied.returncode == 0, copied.stderr
        assert f"copy-data: {sum(source.values())} rows in {len(source)} tables" in copied.stdout
        moved = (
            sqlite_rows(Path(target.database_url.removeprefix("sqlite://")))
            if target.is_sqlite
            else await postgres_rows(target.database_url)
        )
        assert {t: len(r) for t, r in moved.items()} == source
        again = cli(server, "copy-data", "--from", trial)
        assert again.returncode == 2 and "already holds data" in again.stderr
        made = cli(
            server, "user", "create", "new@example.com", "--name", "新人", "--department", "法务"
        )
        assert made.returncode == 0, made.stderr
