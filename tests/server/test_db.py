"""The two hand-made SQL tools of server/db.py: reads side by side, and the upsert."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tortoise.transactions import in_transaction

from server.db import read_side_by_side, upsert
from server.org.models import Department
from server.progress.models import ProgressSnapshot
from tests import factories as f


async def test_reads_side_by_side_answer_in_order_and_see_the_callers_transaction(db):
    await Department.create(name="研发部")
    statements = [f"SELECT {n} AS n, COUNT(*) AS departments FROM department" for n in range(5)]  # noqa: S608
    answers = await read_side_by_side(statements)
    assert [(row["n"], row["departments"]) for rows in answers for row in rows] == [
        (n, 1) for n in range(5)
    ]
    try:
        async with in_transaction():
            await Department.create(name="财务部")
            inside = await read_side_by_side(statements[:2])
            assert [rows[0]["departments"] for rows in inside] == [2, 2]
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    after = await read_side_by_side(statements[:1])
    assert after[0][0]["departments"] == 1


async def test_upsert_adds_new_rows_and_changes_only_the_named_fields_of_existing_ones(db):
    project = await f.project(await f.user())
    computed = datetime(2026, 11, 6, 4, tzinfo=UTC)

    def row(day: date, planned: float, late: int) -> dict:
        return {
            "project_id": project.id,
            "day": day,
            "slot": f"{project.id}:{day.isoformat()}",
            "planned_percent": planned,
            "actual_percent": 10.0,
            "spi": None,
            "late_tasks": late,
            "late_by_department": {"3": late},
            "critical_finish": date(2027, 1, 29),
            "forecast_finish": None,
            "computed_at": computed,
        }

    await upsert(ProgressSnapshot, [row(date(2026, 11, 5), 20.0, 1)], on="slot", update=[])
    await upsert(
        ProgressSnapshot,
        [row(date(2026, 11, 5), 25.0, 4), row(date(2026, 11, 6), 30.0, 2)],
        on="slot",
        update=["planned_percent", "late_by_department"],
    )
    rows = await ProgressSnapshot.filter(project_id=project.id).order_by("day")
    assert [(r.day, r.planned_percent, r.late_tasks, r.late_by_department) for r in rows] == [
        (date(2026, 11, 5), 25.0, 1, {"3": 4}),
        (date(2026, 11, 6), 30.0, 2, {"3": 2}),
    ]
    assert rows[1].computed_at == computed and rows[1].critical_finish == date(2027, 1, 29)

    # Nothing named to update: an existing row is left as it is, a new one still added.
    await upsert(
        ProgressSnapshot,
        [row(date(2026, 11, 6), 99.0, 9), row(date(2026, 11, 9), 40.0, 0)],
        on="slot",
        update=[],
    )
    kept = await ProgressSnapshot.filter(project_id=project.id).order_by("day")
    assert [(r.day, r.planned_percent, r.late_tasks) for r in kept] == [
        (date(2026, 11, 5), 25.0, 1),
        (date(2026, 11, 6), 30.0, 2),
        (date(2026, 11, 9), 40.0, 0),
    ]
