"""Run by test_sqlite_locking in a separate process: read-then-write transactions in a loop."""

from __future__ import annotations

import asyncio
import sys

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from server.db import tortoise_config
from server.org.models import Department


async def main(database_url: str, rounds: int) -> int:
    await Tortoise.init(config=tortoise_config(database_url))
    failures = 0
    try:
        for _ in range(rounds):
            try:
                async with in_transaction():
                    department = await Department.filter(name="研发部").select_for_update().get()
                    await asyncio.sleep(0)
                    department.version += 1
                    await department.save(update_fields=["version"])
            except Exception as error:  # noqa: BLE001 - counted and reported
                failures += 1
                print(f"failed: {error}", file=sys.stderr)
    finally:
        await Tortoise.close_connections()
    print(failures)
    return failures


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main(sys.argv[1], int(sys.argv[2]))) else 0)
