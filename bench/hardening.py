"""Hardening figures, side by side in one run:

1. checking a fragment "bomb" (each fragment spreads the previous one twice, N levels):
   our limits (`schema/limits.py`, each fragment measured once) against Strawberry's own
   QueryDepthLimiter + MaxAliasesLimiter (the baseline, which walks every spread), same
   documents, same graphql-core validation; the baseline is stopped at N = 20 (it doubles
   with every level: 15 s at N = 21 was measured before);
2. a wrong password for a known login against one for an unknown login (the dummy hash):
   median time of each and their ratio (1.0 means timing tells nothing).

    .venv/bin/python bench/hardening.py [attempts, default 30]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphql import parse, specified_rules, validate  # noqa: E402
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter  # noqa: E402

from schema import schema  # noqa: E402
from schema.limits import DocumentLimitsRule  # noqa: E402

BASELINE_RULES = [
    *QueryDepthLimiter(max_depth=10).validation_rules,
    *MaxAliasesLimiter(max_alias_count=15).validation_rules,
]


def bomb(levels: int) -> str:
    parts = ["fragment F0 on Query { viewer { name } }"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return f"query {{ ...F{levels} }}\n" + "\n".join(parts)


def check_ms(document: str, rules: list) -> float:
    parsed = parse(document)
    started = time.perf_counter()
    validate(schema._schema, parsed, [*specified_rules, *rules])
    return (time.perf_counter() - started) * 1000


def fragment_bombs() -> None:
    print("fragment bomb: time to check the document (ms)")
    print(f"{'levels':>6} {'bytes':>6} {'ours':>9} {'strawberry':>11} {'ratio':>8}")
    for levels in (10, 14, 16, 18, 20, 30, 60):
        document = bomb(levels)
        ours = min(check_ms(document, [DocumentLimitsRule]) for _ in range(3))
        if levels <= 20:
            baseline = check_ms(document, BASELINE_RULES)
            line = f"{baseline:11.1f} {ours / baseline:8.4f}"
        else:
            line = f"{'(skipped)':>11} {'':>8}"
        print(f"{levels:>6} {len(document):>6} {ours:9.2f} {line}")


async def login_timing(attempts: int) -> None:
    from tortoise import Tortoise

    from server.auth import Actor
    from server.db import init_db, migrate
    from server.errors import Invalid
    from server.org import service as org
    from server.settings import get_settings, reset_settings

    with tempfile.TemporaryDirectory() as folder:
        os.environ["XIETONG_DATA_DIR"] = folder
        os.environ["DATABASE_URL"] = f"sqlite://{folder}/bench.sqlite3"
        reset_settings()  # the schema's import read the settings of ./data already
        settings = get_settings()
        await migrate(settings)
        await init_db(settings)
        department = await org.create_department(Actor.system(), name="研发部")
        await org.create_user(
            Actor.system(),
            name="王芳",
            email="known@example.com",
            department_id=department.id,
            password="correct-horse-42",
        )

        async def timed(login: str, n: int) -> float:
            started = time.perf_counter()
            with contextlib.suppress(Invalid):
                await org.authenticate(
                    settings, identifier=login, password="wrong", client_address=f"10.{n}"
                )
            return (time.perf_counter() - started) * 1000

        known, unknown = [], []
        for n in range(attempts):
            known.append(await timed("known@example.com", 2 * n))
            unknown.append(await timed("nobody@example.com", 2 * n + 1))
        k, u = statistics.median(known), statistics.median(unknown)
        print(f"\nwrong password, median of {attempts} each (ms)")
        print(f"known login {k:.1f}   unknown login {u:.1f}   ratio unknown/known {u / k:.3f}")
        await Tortoise.close_connections()


def main() -> None:
    attempts = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    fragment_bombs()
    asyncio.run(login_timing(attempts))


if __name__ == "__main__":
    main()
