"""PostgreSQL's side of backup and restore: pg_dump and pg_restore from PATH, given the
connection through libpq's environment variables (a password on a command line is seen by
every user of the machine)."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg

COUNTED_SCHEMA = "public"


class ToolMissing(Exception):
    pass


def _dsn(url: str) -> str:
    # Tortoise's pool options (?minsize=…) mean nothing to libpq or asyncpg.
    return url.split("?", 1)[0].replace("postgres://", "postgresql://", 1)


def libpq_environment(url: str) -> dict[str, str]:
    parts = urlsplit(_dsn(url))
    environment = dict(os.environ)
    environment.update(
        {
            "PGHOST": parts.hostname or "localhost",
            "PGPORT": str(parts.port or 5432),
            "PGUSER": unquote(parts.username or ""),
            "PGPASSWORD": unquote(parts.password or ""),
            "PGDATABASE": unquote(parts.path.lstrip("/")),
        }
    )
    return environment


def program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(
            f"{name} was not found on PATH; install PostgreSQL's client programs "
            "(Debian: postgresql-client) of the server's major version or newer"
        )
    return found


async def _counts(connection: asyncpg.Connection) -> tuple[dict[str, int], list[str]]:
    names = [
        row["tablename"]
        for row in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
            COUNTED_SCHEMA,
        )
    ]
    counts = {
        # Table names come from the database's own catalogue.
        name: int(await connection.fetchval(f'SELECT count(*) FROM "{name}"'))  # noqa: S608
        for name in names
    }
    migrations: list[str] = []
    if "tortoise_migrations" in names:
        migrations = [
            row["name"]
            for row in await connection.fetch(
                "SELECT name FROM tortoise_migrations WHERE app = 'models' ORDER BY name"
            )
        ]
    return counts, migrations


async def _run(*command: str, url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command,
        env=libpq_environment(url),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await process.communicate()
    if process.returncode != 0:
        last = errors.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"{Path(command[0]).name} failed: {last[0]}")


async def dump(url: str, target: Path) -> tuple[dict[str, int], list[str]]:
    """pg_dump in custom format of one snapshot, and the rows per table of that snapshot."""
    pg_dump = program("pg_dump")
    connection = await asyncpg.connect(_dsn(url))
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            counts, migrations = await _counts(connection)
            await _run(
                pg_dump,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={target}",
                url=url,
            )
    finally:
        await connection.close()
    return counts, migrations


async def restore(url: str, dump_file: Path, *, replace: bool) -> dict[str, int]:
    """pg_restore in one transaction (all or nothing); `replace` drops what is there first."""
    command = [program("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction"]
    command += ["--exit-on-error"]
    if replace:
        command += ["--clean", "--if-exists"]
    await _run(
        *command, f"--dbname={libpq_environment(url)['PGDATABASE']}", str(dump_file), url=url
    )
    return await counts(url)


async def counts(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(_dsn(url))
    try:
        return (await _counts(connection))[0]
    finally:
        await connection.close()


async def has_tables(url: str) -> bool:
    connection = await asyncpg.connect(_dsn(url))
    try:
        found = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1", COUNTED_SCHEMA
        )
        return int(found) > 0
    finally:
        await connection.close()
