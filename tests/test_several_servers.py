"""Several servers, one site: two web servers on different ports and a worker, sharing only
the database and a real redis-server, behave as one site. Server A writes JSON log lines,
which are read back and searched for secrets."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from arq import cron

from server.notices.models import Notice, NoticeStatus
from server.settings import Settings
from tests import factories as f
from tests.conftest import free_port
from tests.schema.test_graphql import token_for
from tests.server.test_meetings import live, team
from tests.views.helpers import csrf, log_in
from tests.views.test_meeting_pages import _subscriber
from workers.settings import build_worker, escalations_on_schedule

ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
needs_redis_server = pytest.mark.skipif(
    not Path(REDIS_SERVER).exists(),
    reason="redis-server not found (Debian: apt install redis-server)",
)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    client.close()
    process.terminate()
    process.wait(10)


class Servers:
    def __init__(self, settings: Settings, redis_url: str, folder: Path) -> None:
        self.settings, self.redis_url, self.folder = settings, redis_url, folder
        self.processes: list[subprocess.Popen[bytes]] = []

    def environment(self, name: str, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        data_dir = self.folder / name  # nothing shared through a folder
        data_dir.mkdir(exist_ok=True)
        env.update(
            {
                "DATABASE_URL": self.settings.database_url,
                "REDIS_URL": self.redis_url,
                "XIETONG_DATA_DIR": str(data_dir),
                "XIETONG_SECRET_KEY": self.settings.secret_key,
                **extra,
            }
        )
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return env

    def web(self, name: str, *, workers: int = 1, **extra: str) -> str:
        port = free_port()
        log = (self.folder / f"{name}.log").open("wb")
        command = [sys.executable, "-m", "server.web", "--port", str(port), "--log-level", "info"]
        self.processes.append(
            subprocess.Popen(  # noqa: S603 - fixed arguments
                [*command, "--workers", str(workers)],
                cwd=ROOT,
                env=self.environment(name, **extra),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        return f"http://127.0.0.1:{port}"

    def worker(self, name: str) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        self.processes.append(
            subprocess.Popen(  # noqa: S603 - fixed arguments
                [sys.executable, "-m", "server.cli", "worker"],
                cwd=ROOT,
                env=self.environment(name),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


async def until_up(*bases: str) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for base in bases:
            for _ in range(600):
                try:
                    if (await client.get(f"{base}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"{base} did not become ready")


@needs_redis_server
async def test_two_web_servers_and_a_worker_behave_as_one_site(db, redis_server, tmp_path):
    t = await team()
    meeting = await live(t)
    guessed = await f.user(name="赵磊", email="zhaolei@example.com")
    api_token = await token_for(t.pm)
    await Notice.create(
        dedup_key=f"several-{uuid.uuid4().hex}",
        subject="周例会提醒",
        body="b",
        address="someone@example.com",
        next_attempt_at=db_now(),
    )
    servers = Servers(db, redis_server, tmp_path)
    a = servers.web("a", XIETONG_LOG_FORMAT="json")
    b = servers.web("b")
    servers.worker("worker")
    try:
        await until_up(a, b)
        async with (
            httpx.AsyncClient(base_url=a, timeout=30) as on_a,
            httpx.AsyncClient(base_url=b, timeout=30) as on_b,
        ):
            # A session made on A works on B.
            assert (await log_in(on_a, t.pm.email)).status_code == 303
            session = on_a.cookies["xt_session"]
            on_b.cookies.set("xt_session", session)
            home = await on_b.get("/")
            assert home.status_code == 200 and "王芳" in home.text

            # A meeting page subscribed on B sees a decision recorded on A.
            seen: asyncio.Queue[str] = asyncio.Queue()
            url = f"/projects/{t.project.code}/meetings/{meeting.id}/events"
            reader = asyncio.create_task(_subscriber(b, t, t.rnd_liaison.email, url, seen))
            try:
                assert await asyncio.wait_for(seen.get(), 15) == "open"
                page = f"/projects/{t.project.code}/meetings/{meeting.id}/decisions"
                recorded = await on_a.post(
                    page,
                    data={"text": "A 上记录的决定"},
                    headers={"HX-Request": "true", "X-CSRF-Token": await csrf(on_a)},
                )
                assert recorded.status_code == 200
                message = await asyncio.wait_for(seen.get(), 10)
                assert "A 上记录的决定" in message
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)

            # A login burst split across A and B is throttled as one.
            english = {"Accept-Language": "en"}
            for attempt in range(db.login_max_failures):
                client = on_a if attempt % 2 == 0 else on_b
                client.cookies.clear()
                wrong = await client.post(
                    "/login",
                    data={
                        "email": guessed.email,
                        "password": "wrong-password",
                        "csrf_token": await csrf(client),
                    },
                    headers=english,
                )
                assert wrong.status_code == 400 and "Too many" not in wrong.text
            on_b.cookies.clear()
            right = await on_b.post(
                "/login",
                data={
                    "email": guessed.email,
                    "password": f.PASSWORD,
                    "csrf_token": await csrf(on_b),
                },
                headers=english,
            )
            assert right.status_code == 400 and "Too many failed attempts" in right.text

            answer = await on_a.post(
                "/graphql",
                json={"query": "query Me { viewer { name } }"},
                headers={"Authorization": f"Bearer {api_token}"},
            )
            assert answer.json() == {"data": {"viewer": {"name": "王芳"}}}

        # The worker, sharing only the database and Redis, delivered the queued notice.
        for _ in range(200):
            if await Notice.filter(subject="周例会提醒", status=NoticeStatus.SENT).exists():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError((tmp_path / "worker.log").read_text())
    finally:
        servers.stop()

    lines = (tmp_path / "a.log").read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    requests = [r for r in records if r.get("logger") == "xietong.requests"]
    logins = [r for r in requests if r["route"] == "/login" and r["method"] == "POST"]
    assert {r["status"] for r in logins} == {303, 400}
    assert all(len(r["request_id"]) == 12 and r["duration_ms"] >= 0 for r in requests)
    assert any(r["route"] == "/graphql" and r["user_id"] == t.pm.id for r in requests)
    assert any(
        r["route"] == "/projects/{code}/meetings/{meeting_id:int}/decisions"
        and r["user_id"] == t.pm.id
        for r in requests
    )
    text = "\n".join(lines)
    for secret in (f.PASSWORD, "wrong-password", session, api_token, db.secret_key):
        assert secret not in text


def db_now():
    from server import clock

    return clock.now()


async def test_two_workers_run_each_scheduled_escalation_run_once(db, redis_url):
    """arq's unique cron ids: both workers schedule every second, one of them runs it. arq
    keeps a cron run's in-progress key for a minute after it ends, so a worker polling
    late cannot enqueue the same second again; one key per run is what was run."""
    from server import metrics

    client = redis.Redis.from_url(redis_url)
    prefix = "arq:in-progress:cron:escalations_on_schedule:"
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    every_second = cron(escalations_on_schedule, second=set(range(60)), unique=True)
    queue = f"arq:queue:several-{uuid.uuid4().hex[:8]}"
    workers = [
        build_worker(
            db,
            database_ready=True,
            cron_jobs=[every_second],
            queue_name=queue,
            handle_signals=False,
        )
        for _ in range(2)
    ]
    ran = metrics.JOB_RUNS.labels("escalations", "ok")
    before = ran._value.get()
    # Half a poll apart, as workers on two machines would be.
    running = [asyncio.create_task(workers[0].main())]
    await asyncio.sleep(0.25)
    running.append(asyncio.create_task(workers[1].main()))
    await asyncio.sleep(3.5)
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    for worker in workers:
        await worker.close()
    runs = ran._value.get() - before
    scheduled = len(list(client.scan_iter(f"{prefix}*")))
    client.close()
    assert runs >= 2
    assert runs == scheduled


async def test_one_scrape_adds_up_every_web_process_of_the_machine(db, redis_url, tmp_path):
    """`server.web --workers 2`: two processes, each counting the requests it answered, and
    whichever answers the scrape reports the machine's total."""
    servers = Servers(db, redis_url, tmp_path)
    base = servers.web("multi", workers=2, XIETONG_METRICS_TOKEN="scrape-me")
    try:
        await until_up(base)
        for _ in range(40):  # a new connection each: the kernel deals them over both sockets
            async with httpx.AsyncClient(base_url=base) as client:
                assert (await client.get("/login")).status_code == 200
        async with httpx.AsyncClient(base_url=base) as client:
            scraped = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert scraped.status_code == 200
    finally:
        servers.stop()
    from prometheus_client.parser import text_string_to_metric_families

    served = sum(
        sample.value
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
        if sample.name == "xietong_http_requests_total"
        and sample.labels == {"method": "GET", "route": "/login", "status": "200"}
    )
    assert served == 40
    counting = {path.name for path in (tmp_path / "multi" / "metrics").glob("counter_*.db")}
    assert len(counting) == 2, counting  # both processes answered some
