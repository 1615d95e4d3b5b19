"""Two processes doing read-then-write transactions on one SQLite file, side by side:
Tortoise's plain BEGIN against our BEGIN IMMEDIATE client (ARCHITECTURE rule 4).

    .venv/bin/python bench/sqlite_locking.py [rounds per process, default 300]

Prints, for each client, failed transactions, lost updates and transactions per second.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.transactions import in_transaction

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.db import migrate, tortoise_config  # noqa: E402
from server.org.models import Department  # noqa: E402
from server.settings import load_settings  # noqa: E402

ENGINES = {"plain BEGIN": "tortoise.backends.sqlite", "BEGIN IMMEDIATE": "server.sqlite"}


def config(database_url: str, engine: str) -> dict[str, Any]:
    result = tortoise_config(database_url)
    result["connections"]["default"]["engine"] = engine
    return result


async def worker(database_url: str, engine: str, rounds: int) -> None:
    await Tortoise.init(config=config(database_url, engine))
    failures = 0
    for _ in range(rounds):
        try:
            async with in_transaction():
                department = await Department.get(name="bench")
                await asyncio.sleep(0)
                department.version += 1
                await department.save(update_fields=["version"])
        except Exception:  # noqa: BLE001 - counting failures is the point
            failures += 1
    await Tortoise.close_connections()
    print(failures)


async def prepare(database_url: str) -> None:
    import os

    os.environ["DATABASE_URL"] = database_url
    await migrate(load_settings())
    await Tortoise.init(config=tortoise_config(database_url))
    await Department.create(name="bench")
    await Tortoise.close_connections()


async def final_version(database_url: str) -> int:
    await Tortoise.init(config=tortoise_config(database_url))
    version = (await Department.get(name="bench")).version
    await Tortoise.close_connections()
    return version


def run(engine: str, rounds: int) -> tuple[int, int, float]:
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite://{folder}/bench.sqlite3"
        asyncio.run(prepare(database_url))
        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                [sys.executable, __file__, "worker", database_url, engine, str(rounds)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        failures = sum(int(p.communicate()[0].strip() or 0) for p in processes)
        elapsed = time.perf_counter() - started
        committed = asyncio.run(final_version(database_url)) - 1
    attempted = 2 * rounds
    lost = attempted - failures - committed
    return failures, lost, committed / elapsed


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    results = {name: run(engine, rounds) for name, engine in ENGINES.items()}
    print(f"2 processes x {rounds} read-then-write transactions on one SQLite file")
    for name, (failures, lost, rate) in results.items():
        print(f"  {name:16} failed {failures:4} of {2 * rounds}, lost {lost:4}, {rate:7.0f} tx/s")
    plain, immediate = results["plain BEGIN"], results["BEGIN IMMEDIATE"]
    print(f"  failures plain/immediate: {plain[0]}/{immediate[0]}")
    if plain[2]:
        print(f"  throughput immediate/plain: {immediate[2] / plain[2]:.2f}x")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        asyncio.run(worker(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    else:
        main()
