from __future__ import annotations

import subprocess
import sys

from server.org.models import Department
from server.settings import Settings
from tests import factories as f

ROUNDS = 150


async def test_two_processes_reading_then_writing_lose_nothing(db: Settings):
    """Rule 4: on SQLite BEGIN IMMEDIATE + busy_timeout, on PostgreSQL SELECT … FOR UPDATE,
    so concurrent read-then-write transactions from two processes neither fail nor lose."""
    department = await f.department("研发部")
    workers = [
        subprocess.Popen(  # noqa: ASYNC220 - the test waits for them on purpose
            [sys.executable, "-m", "tests.server.locking_worker", db.database_url, str(ROUNDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [worker.communicate(timeout=120) for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], results
    final = await Department.get(id=department.id)
    assert final.version == 1 + 2 * ROUNDS
