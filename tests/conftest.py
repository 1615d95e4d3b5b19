"""Real parts for every test: a migrated database (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), the embedded Redis (or TEST_REDIS_URL), and the ASGI app."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from tortoise import Tortoise, connections

import server.domains  # noqa: F401  (every domain's event handlers)
from server.settings import Settings, get_settings, reset_settings

TABLES_IN_DELETE_ORDER = [
    "audit_entry",
    "minutes_revision",
    "action_item",
    "decision",
    "report_need",
    "department_report",
    "agenda_item",
    "meeting_attendee",
    "meeting",
    "notice",
    "chat_robot",
    "escalation",
    "ladder_step",
    "problem",
    "progress_snapshot",
    "tracking_note",
    "login_throttle",
    "session",
    "api_token",
    "task_update",
    "signature",
    "signing_delegate",
    "document_version",
    "signable_document",
    "baseline_task",
    "baseline",
    "task_schedule",
    "schedule_stamp",
    "dependency",
    "project_calendar_day",
    "calendar_day",
    "calendar_edition",
    "task",
    "project_member",
    "project_department",
    "project",
    "app_user",
    "department",
]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A short path: unix socket paths are limited to about 100 characters.
    return tmp_path_factory.mktemp("xt")


@pytest.fixture(scope="session")
def redis_url(data_dir: Path) -> Iterator[str]:
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured
        return
    from server.redis_embedded import EmbeddedRedis

    embedded = EmbeddedRedis(data_dir)
    url = embedded.start()
    yield url
    embedded.stop()


@pytest.fixture(scope="session")
def settings(data_dir: Path, redis_url: str) -> Iterator[Settings]:
    database_url = os.environ.get("TEST_DATABASE_URL") or f"sqlite://{data_dir / 'test.sqlite3'}"
    saved = dict(os.environ)
    os.environ.update(
        {
            "XIETONG_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "XIETONG_SECRET_KEY": "test-secret-key-not-for-production",
            "XIETONG_DEV": "0",
        }
    )
    os.environ.pop("SMTP_URL", None)
    reset_settings()
    yield get_settings()
    os.environ.clear()
    os.environ.update(saved)
    reset_settings()


async def _drop_postgres_schema(database_url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Settings]:
    from server.db import init_db, migrate

    if not settings.is_sqlite:
        await _drop_postgres_schema(settings.database_url)
    await migrate(settings)
    await init_db(settings)
    yield settings
    await Tortoise.close_connections()


async def reset_database() -> None:
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        tables = ", ".join(f'"{name}"' for name in TABLES_IN_DELETE_ORDER)
        await connection.execute_script(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    else:
        for table in TABLES_IN_DELETE_ORDER:
            await connection.execute_script(f'DELETE FROM "{table}"')  # noqa: S608 - fixed names


ROOT = Path(__file__).resolve().parents[1]


def _our_caller() -> str:
    """Where the statement came from, innermost first: the product's code, or a test's own
    look at the rows (which the rule does not bind)."""
    import traceback

    ours = [
        f"{frame.filename.removeprefix(str(ROOT) + '/')}:{frame.lineno} {frame.name}"
        for frame in traceback.extract_stack()
        if frame.filename.startswith(str(ROOT))
        and "/.venv/" not in frame.filename
        and not frame.filename.endswith("conftest.py")
    ]
    return " < ".join(reversed(ours[-3:]))


class SecretReadGuard(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        from server.db import reads_a_secret

        message = record.getMessage()
        if reads_a_secret(message) and not (caller := _our_caller()).startswith("tests/"):
            self.leaks.append(f"{message[:300]}\n  from {caller}")


@pytest.fixture(autouse=True)
def no_secret_is_read(request: pytest.FixtureRequest) -> Iterator[None]:
    """In every test that touches the database, no statement outside login and the password
    changes (`server.db.handling_secrets`) reads a secret column such as a password hash."""
    if "database" not in request.fixturenames:
        yield
        return
    with statements_to(SecretReadGuard()) as guard:
        yield
    assert not guard.leaks, "a secret column was read:\n" + "\n".join(guard.leaks)


@pytest.fixture(autouse=True)
async def clean_database(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test that touches the database starts from empty tables."""
    if "database" not in request.fixturenames:
        yield
        return
    await reset_database()
    yield


@pytest.fixture
async def db(database: Settings) -> Settings:
    return database


@pytest.fixture
async def app(db: Settings) -> object:
    from server.app import create_app

    return create_app(db, init_database=False)


@pytest.fixture
async def http(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            self.queries.append(message)

    @property
    def count(self) -> int:
        return len(self.queries)


Handler = TypeVar("Handler", bound=logging.Handler)


@contextmanager
def statements_to(handler: Handler) -> Iterator[Handler]:
    """`handler` sees every SQL statement Tortoise sends while the block runs."""
    logger = logging.getLogger("tortoise.db_client")
    previous_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    """Count the SQL statements Tortoise sends while the block runs."""
    with statements_to(QueryCounter()) as counter:
        yield counter


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI (XIETONG_REQUIRE_ALL=1) nothing may be skipped: a skip is reported as a failure."""
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("XIETONG_REQUIRE_ALL") == "1"
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped, but CI requires every test to run: {reason}"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def live_server(db: Settings) -> AsyncIterator[str]:
    """The app served by a real uvicorn on a free port, in this event loop and database."""
    import asyncio

    import uvicorn

    from server.app import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(db, init_database=False),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
