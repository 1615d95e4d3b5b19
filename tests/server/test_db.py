"""The hand-made SQL tools of server/db.py: reads side by side, the upsert, and writes
that commit together."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.audit.models import AuditEntry
from server.db import Statement, Write, read_side_by_side, upsert, write_together
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


RENAME_IF_UNCHANGED = Statement(
    Department,
    "UPDATE department SET name = ?, version = version + 1 WHERE id = ? AND version = ?",
)


async def test_writes_together_commit_whole_or_not_at_all(db):
    department = await Department.create(name="研发部")

    def writes(version: int, new_department: str) -> list[Write]:
        return [
            Write.checked(RENAME_IF_UNCHANGED, "研发中心", department.id, version),
            Write.insert(Department(name=new_department)),
            Write.insert(
                AuditEntry(
                    action="department.rename",
                    object_type="department",
                    object_id=department.id,
                    before={"name": "研发部"},
                    after={"name": "研发中心", "note": "合并"},
                )
            ),
        ]

    # A version check that changes no row: nothing of the write is kept.
    assert await write_together(writes(department.version + 1, "财务部")) is False
    assert [d.name for d in await Department.all()] == ["研发部"]
    assert await AuditEntry.all().count() == 0

    # A statement that fails after another ran (the rename took the name the insert wants):
    # nothing kept, the error comes through.
    with pytest.raises(IntegrityError):
        await write_together(writes(department.version, "研发中心"))
    assert (await Department.get(id=department.id)).name == "研发部"
    assert await AuditEntry.all().count() == 0

    before = datetime.now(UTC)
    assert await write_together(writes(department.version, "财务部")) is True
    renamed = await Department.get(id=department.id)
    assert (renamed.name, renamed.version) == ("研发中心", department.version + 1)
    added = await Department.get(name="财务部")
    assert added.version == 1  # the model's default, as create() would set it
    assert added.created_at >= before.replace(microsecond=0)
    audit = await AuditEntry.get()
    assert audit.after == {"name": "研发中心", "note": "合并"}
    assert audit.at >= before.replace(microsecond=0)


async def test_writes_together_join_the_callers_transaction(db):
    department = await Department.create(name="研发部")
    try:
        async with in_transaction():
            await Department.create(name="财务部")
            written = await write_together(
                [Write.checked(RENAME_IF_UNCHANGED, "研发中心", department.id, department.version)]
            )
            assert written is True
            # Inside the transaction, its own writes are seen.
            assert await Department.filter(name="研发中心").count() == 1
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert [d.name for d in await Department.all()] == ["研发部"]


async def test_a_user_read_by_the_product_never_carries_the_password_hash(db):
    from tortoise.exceptions import IncompleteInstanceError

    from server.auth import Actor
    from server.db import handling_secrets, reads_a_secret, with_related
    from server.org.models import User
    from server.org.service import authenticate
    from server.planning.models import Task
    from server.projects.models import Role
    from tests.conftest import count_queries

    rnd = await f.department("研发部")
    pm = await f.user(name="王芳", dept=rnd, email="wangfang@example.com")
    project = await f.project(pm)
    task = await Task.create(
        project=project, wbs_code="1", name="样机", owner=pm, planned_start=date(2026, 12, 7)
    )
    await f.member(pm, project, pm, Role.MEMBER)

    with count_queries() as reads:
        user = await User.get(id=pm.id)  # through the manager
        owner = await (await Task.get(id=task.id)).owner  # a relation, lazily
        joined = await with_related(Task.filter(id=task.id), "owner").first()
    assert user.name == owner.name == joined.owner.name == "王芳"
    assert reads.queries and not [q for q in reads.queries if "password_hash" in q]
    assert not hasattr(user, "password_hash")
    # A whole-row save would have written the hash it never read: Tortoise refuses it.
    user.position = "项目经理"
    with pytest.raises(IncompleteInstanceError):
        await user.save()

    # A plain select_related does read it: the suite fails any test whose product code does.
    with count_queries() as careless:
        await Task.filter(id=task.id).select_related("owner")
    assert reads_a_secret(careless.queries[0])
    with handling_secrets():
        assert not reads_a_secret(careless.queries[0])

    # Login still checks the password, and may read the hash to do so.
    with count_queries() as login:
        found = await authenticate(
            db, identifier="wangfang@example.com", password=f.PASSWORD, client_address="127.0.0.1"
        )
    assert found.id == pm.id and any("password_hash" in q for q in login.queries)
    assert Actor.for_user(found).user_id == pm.id


async def test_a_fixed_statement_reads_the_last_commit_outside_a_transaction_and_its_writes_inside(
    db,
):
    """On SQLite a fixed statement outside a transaction is read on the event loop's thread,
    on a connection of its own (server/sqlite.py, read_here): it must see what was just
    committed, make the same models the ORM makes, and be counted like any statement; inside
    a transaction it must read on the transaction's connection, which alone sees its writes."""
    from tortoise import connections

    from server.sqlite import ImmediateSqliteClient
    from tests.conftest import count_queries

    names = Statement(Department, "SELECT * FROM department ORDER BY id")
    total = Statement(Department, "SELECT COUNT(*) FROM department")
    await Department.create(name="研发部")
    with count_queries() as reads:
        found = await names.fetch()
        (counted,) = await total.rows()
    assert [(type(d), d.name, d.version) for d in found] == [(Department, "研发部", 1)]
    assert counted == (1,)
    assert reads.count == 2
    client = connections.get("default")
    if isinstance(client, ImmediateSqliteClient):
        assert client._reader is not None, "the reads went through aiosqlite's thread"
    try:
        async with in_transaction():
            await Department.create(name="财务部")
            assert [d.name for d in await names.fetch()] == ["研发部", "财务部"]
            assert await total.rows() == [(2,)]
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert await total.rows() == [(1,)]
    await Department.create(name="采购部")
    assert [d.name for d in await names.fetch()] == ["研发部", "采购部"]


async def test_a_reader_told_busy_hands_the_read_to_aiosqlite_without_stopping_the_loop(tmp_path):
    """The loop-thread reader must never wait for SQLite. Under WAL a reader is told busy
    only in rare moments (recovery after a crash); a rollback-journal file held by an
    EXCLUSIVE transaction tells it the same at once. The read then goes through aiosqlite's
    thread, which waits for the file, while the event loop keeps serving."""
    import asyncio
    import sqlite3
    import threading
    import time

    from server.db import _ReadHere
    from server.sqlite import ImmediateSqliteClient

    path = str(tmp_path / "busy.sqlite3")
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE department (id INTEGER PRIMARY KEY, name TEXT)")
        setup.execute("INSERT INTO department (name) VALUES ('研发部')")
    client = ImmediateSqliteClient(path, connection_name="busy", journal_mode="DELETE")
    await client.create_connection(with_db=True)
    query = "SELECT id, name FROM department"
    try:
        assert await client.read_here(query, [], True) == [(1, "研发部")]
        held, release = threading.Event(), threading.Event()

        def hold_the_file() -> None:
            owner = sqlite3.connect(path, isolation_level=None)
            owner.execute("BEGIN EXCLUSIVE")
            held.set()
            release.wait(10)
            owner.execute("COMMIT")
            owner.close()

        holder = threading.Thread(target=hold_the_file)
        holder.start()
        assert held.wait(10)
        began = time.perf_counter()
        assert await client.read_here(query, [], True) is None
        assert time.perf_counter() - began < 0.1  # told at once, never waited

        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        threading.Timer(0.3, release.set).start()
        try:
            _, rows = await _ReadHere(client).execute_query(query, [])
        finally:
            ticker.cancel()
            release.set()
            holder.join(10)
        assert [tuple(row) for row in rows] == [(1, "研发部")]
        assert time.perf_counter() - began >= 0.25  # it waited for the file to be free
        assert ticks >= 10, "the event loop stood still while the read waited"
    finally:
        await client.close()
