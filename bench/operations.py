"""Operations figures for sizing (docs/deploy.md), side by side in one run:

1. backup — `server.operations.backup.make_backup` (SQLite's online backup or pg_dump of one
   snapshot, rows counted in that snapshot, checksums, one gzip archive) against the plain
   copy an operator might make instead (SQLite: copying the database file, which is not safe
   while the server writes; PostgreSQL: pg_dump alone, custom format), on the demo company
   plus N extra audit rows; time and size;
2. restore — `restore_backup` into an empty target (checksums, rows compared with the
   manifest) against copying the file back (SQLite) or pg_restore alone (PostgreSQL);
3. metrics — one page (GET /login, a rendered template) through the app with and without
   the middleware that counts and times every request by route; alternating rounds,
   medians compared.

    .venv/bin/python bench/operations.py [extra audit rows, default 200000] [postgres URL]

The PostgreSQL URL names an empty database the benchmark may fill (and a second one,
"<name>_restore", it creates and drops); without it the figures are SQLite's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
XIETONG = str(ROOT / ".venv/bin/xietong")
ROUNDS = 5


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([XIETONG, *args], env=env, check=True, capture_output=True, timeout=600)


def fill_audit(url: str, rows: int) -> None:
    """Audit rows copied from the demo's own until there are `rows` more."""
    statement = (
        "INSERT INTO audit_entry (actor_id, project_id, action, object_type, object_id, "
        "summary, before, after, at) SELECT actor_id, project_id, action, object_type, "
        "object_id, summary, before, after, at FROM audit_entry LIMIT {n}"
    )
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            added = 0
            while added < rows:
                added += db.execute(statement.format(n=rows - added)).rowcount
        return

    async def fill() -> None:
        import asyncpg

        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            added = 0
            while added < rows:
                status = await connection.execute(statement.format(n=rows - added))
                added += int(status.split()[-1])
        finally:
            await connection.close()

    asyncio.run(fill())


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def backup_figures(settings: object, folder: Path) -> None:
    from server.operations import postgres
    from server.operations.backup import (
        MANIFEST,
        Manifest,
        make_backup,
        restore_backup,
        sqlite_path,
    )

    ours, plain, ours_back, plain_back = [], [], [], []
    size = plain_size = 0
    for n in range(ROUNDS):
        archive = folder / f"b{n}.tar.gz"
        started = time.perf_counter()
        await make_backup(settings, archive)  # type: ignore[arg-type]
        ours.append(time.perf_counter() - started)
        size = archive.stat().st_size
        if n == 0:
            with tarfile.open(archive) as opened:
                manifest = Manifest.from_json(opened.extractfile(MANIFEST).read())  # type: ignore[union-attr]
            print(f"{sum(manifest.tables.values()):,} rows in {len(manifest.tables)} tables")
        started = time.perf_counter()
        if settings.is_sqlite:  # type: ignore[attr-defined]
            copy = folder / f"plain{n}.sqlite3"
            shutil.copyfile(sqlite_path(settings), copy)  # type: ignore[arg-type]
        else:
            copy = folder / f"plain{n}.pgdump"
            await postgres._run(
                postgres.program("pg_dump"),
                "--format=custom",
                f"--file={copy}",
                url=settings.database_url,  # type: ignore[attr-defined]
            )
        plain.append(time.perf_counter() - started)
        plain_size = copy.stat().st_size
        target = await empty_target(settings, folder / f"restore{n}")
        started = time.perf_counter()
        await restore_backup(target, archive)
        ours_back.append(time.perf_counter() - started)
        await drop_target(target)
        target = await empty_target(settings, folder / f"plain-restore{n}")
        started = time.perf_counter()
        if target.is_sqlite:
            shutil.copyfile(copy, sqlite_path(target))
        else:
            await postgres.restore(target.database_url, copy, replace=False)
        plain_back.append(time.perf_counter() - started)
        await drop_target(target)
    print(
        f"backup   ours {median_ms(ours):8.0f} ms  {size / 1e6:6.1f} MB   "
        f"plain {median_ms(plain):8.0f} ms  {plain_size / 1e6:6.1f} MB   "
        f"ratio {statistics.median(ours) / statistics.median(plain):5.2f}×"
    )
    print(
        f"restore  ours {median_ms(ours_back):8.0f} ms              "
        f"plain {median_ms(plain_back):8.0f} ms              "
        f"ratio {statistics.median(ours_back) / statistics.median(plain_back):5.2f}×"
    )


def pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def empty_target(settings, folder: Path):  # type: ignore[no-untyped-def]
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    if settings.is_sqlite:
        url = f"sqlite://{folder / 'xietong.sqlite3'}"
        return dataclasses.replace(settings, data_dir=folder, database_url=url)
    import asyncpg

    base, _, name = settings.database_url.rpartition("/")
    connection = await asyncpg.connect(pg(settings.database_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}_restore"')
        await connection.execute(f'CREATE DATABASE "{name}_restore"')
    finally:
        await connection.close()
    return dataclasses.replace(settings, data_dir=folder, database_url=f"{base}/{name}_restore")


async def drop_target(target) -> None:  # type: ignore[no-untyped-def]
    if target.is_sqlite:
        return
    import asyncpg

    base, _, name = target.database_url.rpartition("/")
    connection = await asyncpg.connect(pg(f"{base}/postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def metrics_figures(settings: object) -> None:
    import httpx

    from server.app import create_app
    from server.db import close_db, init_db
    from views.observe import Observe

    await init_db(settings)  # type: ignore[arg-type]
    counted = create_app(settings, init_database=False)  # type: ignore[arg-type]
    bare = create_app(settings, init_database=False)  # type: ignore[arg-type]
    bare.user_middleware = [m for m in bare.user_middleware if m.cls is not Observe]
    timings: dict[str, list[float]] = {"counted": [], "bare": []}
    clients = {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b")
        for name, app in (("counted", counted), ("bare", bare))
    }
    for client in clients.values():
        await client.get("/login")
    for _ in range(20):
        for name, client in clients.items():
            started = time.perf_counter()
            for _ in range(50):
                assert (await client.get("/login")).status_code == 200
            timings[name].append((time.perf_counter() - started) / 50)
    for client in clients.values():
        await client.aclose()
    await close_db()
    counted_ms, bare_ms = median_ms(timings["counted"]), median_ms(timings["bare"])
    print(
        f"GET /login counted {counted_ms:6.3f} ms   bare {bare_ms:6.3f} ms   "
        f"ratio {counted_ms / bare_ms:5.2f}×   (+{(counted_ms - bare_ms) * 1e3:.0f} µs each)"
    )


def main() -> None:
    extra = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    postgres_url = sys.argv[2] if len(sys.argv) > 2 else None
    with tempfile.TemporaryDirectory(prefix="xt-ops-") as work:
        folder = Path(work)
        url = postgres_url or f"sqlite://{folder / 'xietong.sqlite3'}"
        env = dict(os.environ, XIETONG_DATA_DIR=str(folder), DATABASE_URL=url)
        env.pop("XIETONG_SECRET_KEY", None)
        cli(env, "migrate")
        cli(env, "demo")
        fill_audit(url, extra)
        os.environ.update({"XIETONG_DATA_DIR": str(folder), "DATABASE_URL": url})
        os.environ.pop("XIETONG_SECRET_KEY", None)
        from server.settings import get_settings

        settings = get_settings()
        engine = "SQLite" if settings.is_sqlite else "PostgreSQL"
        print(f"{engine}: the demo company + {extra:,} audit rows")
        asyncio.run(backup_figures(settings, folder))
        asyncio.run(metrics_figures(settings))


if __name__ == "__main__":
    main()
