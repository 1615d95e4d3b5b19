"""Backup and restore lose nothing: a backup taken while a writer keeps writing restores to
exactly the writes acknowledged up to one moment, the manifest matches, signatures verify,
and a target holding data or a tampered archive is refused with nothing changed."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gzip
import io
import json
import os
import sqlite3
import subprocess
import tarfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from server.operations import postgres
from server.operations.backup import (
    BackupError,
    Manifest,
    make_backup,
    nightly_name,
    prune,
    restore_backup,
    target_is_empty,
)
from server.org.models import Department
from server.settings import Settings
from server.signoffs.models import Decision
from tests.server.test_signoffs import charter_in_signing, setup_project, sign
from tests.test_cli import XIETONG

WRITES_PER_SECOND = 50


@contextlib.asynccontextmanager
async def empty_target(settings: Settings, folder: Path) -> AsyncIterator[Settings]:
    """Settings naming an empty data folder and an empty database of the same engine."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    if settings.is_sqlite:
        yield dataclasses.replace(
            settings, data_dir=folder, database_url=f"sqlite://{folder / 'xietong.sqlite3'}"
        )
        return
    name = f"xietong_restore_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres._dsn(settings.database_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = settings.database_url.split("?", 1)[0].rsplit("/", 1)[0]
        yield dataclasses.replace(settings, data_dir=folder, database_url=f"{base}/{name}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def writer_departments(target: Settings) -> list[str]:
    query = "SELECT name FROM department WHERE name LIKE 'writer-%' ORDER BY name"
    if target.is_sqlite:
        with contextlib.closing(sqlite3.connect(target.database_url[len("sqlite://") :])) as db:
            return [row[0] for row in db.execute(query)]
    connection = await asyncpg.connect(postgres._dsn(target.database_url))
    try:
        return [row["name"] for row in await connection.fetch(query)]
    finally:
        await connection.close()


def verify_in(target: Settings) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update({"XIETONG_DATA_DIR": str(target.data_dir), "DATABASE_URL": target.database_url})
    return subprocess.run([XIETONG, "verify"], env=env, capture_output=True, text=True, timeout=120)


async def signed_charter() -> None:
    s = await setup_project()
    charter = await charter_in_signing(s)
    for head in s.heads.values():
        await sign(head, charter, Decision.APPROVE)


async def test_a_backup_under_steady_writes_restores_every_acknowledged_write(db, tmp_path):
    await signed_charter()
    acknowledged: list[str] = []
    stop = asyncio.Event()

    async def write_steadily() -> None:
        n = 0
        while not stop.is_set():
            name = f"writer-{n:05d}"
            await Department.create(name=name)
            acknowledged.append(name)
            n += 1
            await asyncio.sleep(1 / WRITES_PER_SECOND)

    writer = asyncio.create_task(write_steadily())
    await asyncio.sleep(0.4)
    before_backup = len(acknowledged)
    archive = tmp_path / "nightly.tar.gz"
    manifest = await make_backup(db, archive)
    after_backup = len(acknowledged)
    await asyncio.sleep(0.3)
    stop.set()
    await writer
    assert before_backup >= 10 and len(acknowledged) > after_backup

    async with empty_target(db, tmp_path / "restored") as target:
        restored = await restore_backup(target, archive)
        names = await writer_departments(target)
        # One moment's state: a prefix of the acknowledged writes, with no gap, holding
        # every write acknowledged before the backup began.
        assert names == acknowledged[: len(names)]
        assert before_backup <= len(names) <= after_backup
        assert restored.tables == manifest.tables
        assert manifest.tables["department"] == len(names) + 3
        assert manifest.tables["signature"] == 3
        assert manifest.migrations[-1] == sorted(manifest.migrations)[-1]
        checked = verify_in(target)
        assert checked.returncode == 0, checked.stderr
        assert "3 signatures, 0 with an integrity failure" in checked.stdout


async def test_a_target_with_data_and_a_tampered_archive_are_refused(db, tmp_path):
    await Department.create(name="市场部")
    archive = tmp_path / "one.tar.gz"
    await make_backup(db, archive)
    async with empty_target(db, tmp_path / "restored") as target:
        await restore_backup(target, archive)
        await Department.create(name="研发部")  # in the source only
        second = tmp_path / "two.tar.gz"
        await make_backup(db, second)
        with pytest.raises(BackupError, match="already holds data"):
            await restore_backup(target, second)
        assert await department_count(target) == 1
        # --force replaces it
        await restore_backup(target, second, force=True)
        assert await department_count(target) == 2

    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive, "r:gz") as original, tarfile.open(tampered, "w:gz") as copy:
        for member in original.getmembers():
            data = original.extractfile(member)
            content = data.read() if data else b""
            if member.name.startswith("database."):
                content = content[:-1] + bytes([content[-1] ^ 1])
            member.size = len(content)
            copy.addfile(member, io.BytesIO(content))
    async with empty_target(db, tmp_path / "other") as target:
        with pytest.raises(BackupError, match="does not match its checksum"):
            await restore_backup(target, tampered)
        with pytest.raises(BackupError, match="not a Xietong backup"):
            (tmp_path / "junk.tar.gz").write_bytes(gzip.compress(b"not a tar"))
            await restore_backup(target, tmp_path / "junk.tar.gz")
        assert await target_is_empty(target)


async def department_count(target: Settings) -> int:
    query = "SELECT count(*) FROM department"
    if target.is_sqlite:
        with contextlib.closing(sqlite3.connect(target.database_url[len("sqlite://") :])) as db:
            return int(db.execute(query).fetchone()[0])
    connection = await asyncpg.connect(postgres._dsn(target.database_url))
    try:
        return int(await connection.fetchval(query))
    finally:
        await connection.close()


def test_a_missing_pg_dump_is_named_with_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(postgres.ToolMissing, match="pg_dump was not found on PATH.*postgresql"):
        postgres.program("pg_dump")


def test_the_password_goes_to_libpq_by_environment_not_the_command_line():
    environment = postgres.libpq_environment(
        "postgres://ops:s%40cret@db.internal:6543/xt?minsize=2"
    )
    assert environment["PGPASSWORD"] == "s@cret"
    assert (environment["PGHOST"], environment["PGPORT"]) == ("db.internal", "6543")
    assert (environment["PGUSER"], environment["PGDATABASE"]) == ("ops", "xt")


def test_nightly_archives_keep_the_newest(tmp_path):
    start = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    for day in range(10):
        (tmp_path / nightly_name(start + timedelta(days=day))).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("kept")
    removed = prune(tmp_path, 7)
    assert [path.name for path in removed] == [
        nightly_name(start + timedelta(days=day)) for day in range(3)
    ]
    kept = sorted(p.name for p in tmp_path.glob("xietong-*"))
    assert kept == [nightly_name(start + timedelta(days=day)) for day in range(3, 10)]
    assert (tmp_path / "notes.txt").exists()


def test_a_manifest_of_an_unknown_format_is_refused():
    raw = json.dumps({"format": 99}).encode()
    with pytest.raises(BackupError, match="unknown backup format 99"):
        Manifest.from_json(raw)


async def test_the_nightly_backup_is_off_by_default_and_keeps_the_newest(db, tmp_path):
    from server import clock, metrics
    from workers.settings import backup

    assert await backup({"settings": db}) == "backup: off (XIETONG_BACKUP_DIR is not set)"
    nightly = dataclasses.replace(db, backup_dir=tmp_path / "nightly", backup_keep=2)
    await Department.create(name="市场部")
    said = []
    for hour in (1, 2, 3):
        with clock.travel_to(datetime(2026, 12, 7, hour, 30, tzinfo=UTC)):
            said.append(await backup({"settings": nightly}))
    kept = sorted(path.name for path in (tmp_path / "nightly").iterdir())
    assert kept == ["xietong-20261207-023000.tar.gz", "xietong-20261207-033000.tar.gz"]
    assert said[-1].startswith("backup: xietong-20261207-033000.tar.gz, ")
    assert said[-1].endswith("removed 1 older")
    last = metrics.LAST_BACKUP._value.get()
    assert last == datetime(2026, 12, 7, 3, 30, tzinfo=UTC).timestamp()
    async with empty_target(db, tmp_path / "restored") as target:
        restored = await restore_backup(target, tmp_path / "nightly" / kept[-1])
        assert restored.tables["department"] == 1
