"""Backup and restore: one archive holds the database, the attachments and the secret key,
with a manifest (versions, rows per table, checksums) that a restore checks itself against.

The copy is consistent while the server runs and writes: SQLite's online backup API copies
the database as one transaction saw it; on PostgreSQL one REPEATABLE READ transaction
exports its snapshot to `pg_dump --snapshot`, and counts the rows in that same snapshot, so
the manifest describes exactly the dump beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from server.operations import postgres
from server.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
SECRET_MEMBER = "secret_key"  # noqa: S105 - a file's name, not a secret
ATTACHMENTS = "attachments"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why in one line."""


@dataclass
class Manifest:
    made_at: str
    engine: str
    xietong_version: str
    migrations: list[str]
    tables: dict[str, int]
    checksums: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    format: int = FORMAT

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {data.get('format')!r}")
        return cls(**data)


def _version() -> str:
    try:
        return metadata.version("xietong")
    except metadata.PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite://"))


def sqlite_counts(path: Path) -> tuple[dict[str, int], list[str]]:
    """Rows per table and the applied migrations of a SQLite file."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        # Table names come from the database's own catalogue.
        count = 'SELECT count(*) FROM "{}"'
        counts = {name: db.execute(count.format(name)).fetchone()[0] for name in names}
        migrations = []
        if "tortoise_migrations" in names:
            migrations = [
                row[0]
                for row in db.execute(
                    "SELECT name FROM tortoise_migrations WHERE app = 'models' ORDER BY name"
                )
            ]
    return counts, migrations


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: pages copied while writers go on, restarted by SQLite when a
    writer changes a page already copied, so the copy is one committed state."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as live,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy)


def _add_folder(archive: tarfile.TarFile, folder: Path, name: str, manifest: Manifest) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            member = f"{name}/{path.relative_to(folder).as_posix()}"
            manifest.checksums[member] = _sha256(path)
            archive.add(path, arcname=member, recursive=False)


async def make_backup(settings: Settings, target: Path) -> Manifest:
    """Write the archive to `target` (through a temporary file beside it, so a failed
    backup never leaves half an archive under the name)."""
    target = await asyncio.to_thread(target.resolve)
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xietong-backup-") as work:
        folder = Path(work)
        manifest = Manifest(
            made_at=datetime.now(UTC).isoformat(timespec="seconds"),
            engine="sqlite" if settings.is_sqlite else "postgres",
            xietong_version=_version(),
            migrations=[],
            tables={},
        )
        if settings.is_sqlite:
            member = SQLITE_MEMBER
            await asyncio.to_thread(_copy_sqlite, sqlite_path(settings), folder / member)
            manifest.tables, manifest.migrations = sqlite_counts(folder / member)
        else:
            member = POSTGRES_MEMBER
            try:
                manifest.tables, manifest.migrations = await postgres.dump(
                    settings.database_url, folder / member
                )
            except (postgres.ToolMissing, RuntimeError) as exc:
                raise BackupError(str(exc)) from exc
        await asyncio.to_thread(_write_archive, settings, manifest, folder, member, target)
    return manifest


def _write_archive(
    settings: Settings, manifest: Manifest, folder: Path, member: str, target: Path
) -> None:
    manifest.checksums[member] = _sha256(folder / member)
    partial = target.with_name(f".{target.name}.partial")
    # Level 6, not tarfile's 9: nearly the same size in far less time (bench/operations.py).
    with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
        archive.add(folder / member, arcname=member)
        _add_secret(archive, settings, manifest, folder)
        attachments = settings.data_dir / ATTACHMENTS
        if settings.attachment_store:
            manifest.notes.append(
                "attachments live in the object store "
                f"{settings.attachment_store}; back that up with its own tools"
            )
        elif attachments.is_dir():
            _add_folder(archive, attachments, ATTACHMENTS, manifest)
        _add_bytes(archive, MANIFEST, manifest.to_json())
    os.replace(partial, target)


def _add_secret(
    archive: tarfile.TarFile, settings: Settings, manifest: Manifest, folder: Path
) -> None:
    # Signatures are MACs under this key: without it a restored database fails `verify`.
    key_file = settings.data_dir / SECRET_MEMBER
    if os.environ.get("XIETONG_SECRET_KEY") or not key_file.exists():
        manifest.notes.append(
            "the secret key comes from XIETONG_SECRET_KEY; keep it with this backup"
        )
        return
    copy = folder / SECRET_MEMBER
    shutil.copyfile(key_file, copy)
    manifest.checksums[SECRET_MEMBER] = _sha256(copy)
    archive.add(copy, arcname=SECRET_MEMBER)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


# --- restore ------------------------------------------------------------------------------


@contextlib.contextmanager
def _unpacked(archive_path: Path) -> Iterator[tuple[Path, Manifest]]:
    """The archive unpacked into a temporary folder, every checksum checked."""
    if not archive_path.is_file():
        raise BackupError(f"no backup at {archive_path}")
    with tempfile.TemporaryDirectory(prefix="xietong-restore-") as work:
        folder = Path(work)
        try:
            with tarfile.open(archive_path, "r:gz") as archive:
                # "data": no absolute paths, links or devices may leave the folder.
                archive.extractall(folder, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"{archive_path} is not a Xietong backup: {exc}") from exc
        if not (folder / MANIFEST).is_file():
            raise BackupError(f"{archive_path} has no {MANIFEST}: not a Xietong backup")
        manifest = Manifest.from_json((folder / MANIFEST).read_bytes())
        for member, expected in manifest.checksums.items():
            path = folder / member
            if not path.is_file() or _sha256(path) != expected:
                raise BackupError(f"{member} in {archive_path} does not match its checksum")
        yield folder, manifest


async def target_is_empty(settings: Settings) -> bool:
    if settings.is_sqlite:
        path = sqlite_path(settings)
        if path.exists() and any(sqlite_counts(path)[0].values()):
            return False
    elif any((await postgres.counts(settings.database_url)).values()):
        return False
    attachments = settings.data_dir / ATTACHMENTS
    return not (attachments.is_dir() and any(attachments.iterdir()))


async def restore_backup(
    settings: Settings, archive_path: Path, *, force: bool = False
) -> Manifest:
    """Put the archive's database, attachments and key in place, then count the rows and
    compare them with the manifest. A target holding data is refused unless forced."""
    with _unpacked(archive_path) as (folder, manifest):
        engine = "sqlite" if settings.is_sqlite else "postgres"
        if manifest.engine != engine:
            raise BackupError(
                f"this backup is of a {manifest.engine} database and DATABASE_URL names "
                f"{engine}; restore it into {manifest.engine}, then move it with "
                "`xietong copy-data` (see docs/deploy.md)"
            )
        if not force and not await target_is_empty(settings):
            raise BackupError(
                "the target already holds data; restore into an empty data folder and "
                "database, or pass --force to replace it"
            )
        if settings.is_sqlite:
            tables = _restore_sqlite(folder / SQLITE_MEMBER, sqlite_path(settings))
        else:
            try:
                tables = await postgres.restore(
                    settings.database_url,
                    folder / POSTGRES_MEMBER,
                    replace=await postgres.has_tables(settings.database_url),
                )
            except (postgres.ToolMissing, RuntimeError) as exc:
                raise BackupError(str(exc)) from exc
        _restore_files(folder, settings)
    if tables != manifest.tables:
        differing = sorted(
            name
            for name in set(tables) | set(manifest.tables)
            if tables.get(name) != manifest.tables.get(name)
        )
        raise BackupError(f"restored rows differ from the manifest in: {', '.join(differing)}")
    return manifest


def _restore_sqlite(copy: Path, database: Path) -> dict[str, int]:
    database.parent.mkdir(parents=True, exist_ok=True)
    staged = database.with_name(f".{database.name}.restoring")
    shutil.copyfile(copy, staged)
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.replace(staged, database)
    return sqlite_counts(database)[0]


def _restore_files(folder: Path, settings: Settings) -> None:
    attachments = settings.data_dir / ATTACHMENTS
    if attachments.exists():
        shutil.rmtree(attachments)
    if (folder / ATTACHMENTS).is_dir():
        shutil.copytree(folder / ATTACHMENTS, attachments)
    if (folder / SECRET_MEMBER).is_file():
        key = settings.data_dir / SECRET_MEMBER
        shutil.copyfile(folder / SECRET_MEMBER, key)
        key.chmod(0o600)


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` nightly archives; return the removed ones."""
    archives = sorted(folder.glob("xietong-*.tar.gz"))
    removed = archives[: max(0, len(archives) - keep)]
    for path in removed:
        path.unlink()
    return removed


def nightly_name(now: datetime) -> str:
    return f"xietong-{now.strftime('%Y%m%d-%H%M%S')}.tar.gz"


def describe(manifest: Manifest) -> dict[str, Any]:
    return {
        "engine": manifest.engine,
        "rows": sum(manifest.tables.values()),
        "tables": len(manifest.tables),
        "files": len(manifest.checksums),
    }
