"""Daily updates under load: 50 phones posting `reportProgress` over HTTP at once.

A real server (`python -m server.web`, as `xietong run --workers N` starts it: three uvicorn
processes by default, each on a socket of its own; SQLite; embedded Redis for the live
events) is started on a fresh database with one project, 50 owners and 50 tasks; each client
holds one owner's API token and reports on that owner's task, carrying the task version
forward as a phone does. The phones are aiohttp clients in this process: on a 2-core machine
they share the CPU with the server, and httpx cost more per request than the server did.
Why three processes: each process reads through one SQLite connection, so its statements
queue one behind another while the event loop serves other requests between them; with one
or two processes that queue, not the CPU, set the peak (the CPU figures per update show it).
The write itself is one trip to SQLite (server.db.write_together), so the write lock shared
by the processes is held only while SQLite works.
Printed, side by side in one run:

1. steady load — requests offered at a fixed rate (default 300/s, spread over the 50 clients);
   latency is measured from the moment each request was due, so a server falling behind shows
   up in the figures instead of silently slowing the senders;
2. peak — every client sends its next update as soon as the last one is answered;
3. baseline — a plain ORM loop in this process updating the same rows
   (`Task.filter(id=…).update(...)`, no HTTP, no rules, no history, no audit).

Then nothing may be lost: every accepted update is one history row, and each task's version
has risen by exactly the number of updates accepted for it.

    .venv/bin/python bench/updates.py [offered rate, 300] [seconds per phase, 10] [web processes, 3]
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLIENTS = 50
MUTATION = """
mutation Report($input: ReportProgressInput!) {
  reportProgress(input: $input) { task { version } errors { code field message } }
}
"""


@dataclass
class Phone:
    token: str
    task_id: int
    version: int
    accepted: int = 0
    refused: list[str] = field(default_factory=list)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / (self.finished - self.started)

    def line(self, label: str) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"{label:38} {len(ordered):6d} updates  {self.rate:7.1f}/s  "
            f"p50 {statistics.median(ordered) * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms"
            + self.cpu_figures(len(ordered))
        )

    def cpu_figures(self, count: int) -> str:
        if not self.server_cpu:
            return ""
        return (
            f"  CPU/update: server {self.server_cpu / count * 1000:.2f} ms,"
            f" phones {self.client_cpu / count * 1000:.2f} ms"
        )


class CpuMeter:
    """CPU seconds used by the server (all its processes) and by these phones in a phase."""

    def __init__(self, server_pid: int) -> None:
        self.server = psutil.Process(server_pid)

    def server_seconds(self) -> float:
        processes = [self.server, *self.server.children(recursive=True)]
        return sum(sum(p.cpu_times()[:2]) for p in processes)

    async def measure(self, phase: Any) -> Tally:
        server_before, client_before = self.server_seconds(), time.process_time()
        tally: Tally = await phase
        tally.server_cpu = self.server_seconds() - server_before
        tally.client_cpu = time.process_time() - client_before
        return tally


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def global_id(pk: int) -> str:
    return base64.urlsafe_b64encode(f"Task:{pk}".encode()).decode()


async def seed() -> list[Phone]:
    """One project, 50 owners with a token each, one task per owner — through the services."""
    from server.auth import Actor
    from server.org import service as org
    from server.planning import service as planning
    from server.planning.company_calendar import seed_company_calendar
    from server.projects import service as projects
    from server.projects.models import Role

    await seed_company_calendar()
    system = Actor.system()
    department = await org.create_department(system, name="研发部")

    async def person(n: int) -> object:
        return await org.create_user(
            system,
            name=f"成员{n}",
            email=f"owner{n}@example.com",
            mobile=None,
            department_id=department.id,
            password=None,
            is_admin=False,
            language="zh-CN",
        )

    manager = await person(0)
    pm = Actor.for_user(manager)  # type: ignore[arg-type]
    project = await projects.create_project(
        pm,
        projects.ProjectInput(
            code="BENCH",
            name="压测项目",
            initiating_department_id=department.id,
            department_ids=[],
            start_date=date(2026, 11, 2),
            goals="",
        ),
    )
    phones = []
    for n in range(1, CLIENTS + 1):
        owner = await person(n)
        await projects.add_project_member(
            pm,
            projects.MemberInput(
                project_id=project.id,
                user_id=owner.id,
                role=Role.MEMBER,
                department_id=department.id,
            ),
        )
        task = await planning.create_task(
            pm,
            project_id=project.id,
            data=planning.TaskInput(
                name=f"任务{n}",
                planned_start=date(2026, 11, 2),
                duration_days=10,
                owner_id=owner.id,
                department_id=department.id,
            ),
        )
        issued = await org.create_api_token(Actor.for_user(owner), name="bench")  # type: ignore[arg-type]
        phones.append(Phone(token=issued.secret, task_id=task.id, version=task.version))
    return phones


async def report(client: aiohttp.ClientSession, phone: Phone, percent: int) -> None:
    async with client.post(
        "/graphql",
        json={
            "query": MUTATION,
            "variables": {
                "input": {
                    "taskId": global_id(phone.task_id),
                    "version": phone.version,
                    "percentComplete": percent,
                    "note": "今日进展",
                }
            },
        },
        headers={"Authorization": f"Bearer {phone.token}"},
    ) as response:
        status = response.status
        body = await response.json()
    payload = (body.get("data") or {}).get("reportProgress")
    if status != 200 or not payload or payload["errors"]:
        phone.refused.append(str(body)[:300])
        return
    phone.version = payload["task"]["version"]
    phone.accepted += 1


async def steady(
    client: aiohttp.ClientSession, phones: list[Phone], rate: float, seconds: float
) -> Tally:
    """Open loop: request i is due at start + i/rate, sent by phone i mod 50."""
    tally = Tally(started=time.perf_counter())
    total = int(rate * seconds)
    queues: list[asyncio.Queue[float | None]] = [asyncio.Queue() for _ in phones]

    async def sender(phone: Phone, queue: asyncio.Queue[float | None]) -> None:
        n = 0
        while (due := await queue.get()) is not None:
            n += 1
            await report(client, phone, 1 + n % 98)
            tally.latencies.append(time.perf_counter() - due)

    senders = [asyncio.create_task(sender(p, q)) for p, q in zip(phones, queues, strict=True)]
    for i in range(total):
        due = tally.started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queues[i % len(phones)].put_nowait(due)
    for queue in queues:
        queue.put_nowait(None)
    await asyncio.gather(*senders)
    tally.finished = time.perf_counter()
    return tally


async def peak(client: aiohttp.ClientSession, phones: list[Phone], seconds: float) -> Tally:
    """Closed loop: each phone sends its next update as soon as the last one is answered."""
    tally = Tally(started=time.perf_counter())
    stop_at = tally.started + seconds

    async def sender(phone: Phone) -> None:
        n = 0
        while time.perf_counter() < stop_at:
            n += 1
            sent = time.perf_counter()
            await report(client, phone, 1 + n % 98)
            tally.latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(sender(p) for p in phones))
    tally.finished = time.perf_counter()
    return tally


async def plain_orm_loop(phones: list[Phone], seconds: float) -> Tally:
    """The floor: one UPDATE per call, nothing else."""
    from tortoise.expressions import F

    from server.planning.models import Task

    tally = Tally(started=time.perf_counter())
    n = 0
    while time.perf_counter() - tally.started < seconds:
        phone = phones[n % len(phones)]
        n += 1
        sent = time.perf_counter()
        await Task.filter(id=phone.task_id).update(
            percent_complete=1 + n % 98, version=F("version")
        )
        tally.latencies.append(time.perf_counter() - sent)
    tally.finished = time.perf_counter()
    return tally


async def lost_updates(phones: list[Phone], first_versions: dict[int, int]) -> list[str]:
    from tortoise.functions import Count

    from server.planning.models import Task
    from server.progress.models import TaskUpdate

    kept = dict(
        await TaskUpdate.filter(task_id__in=[p.task_id for p in phones])
        .annotate(n=Count("id"))
        .group_by("task_id")
        .values_list("task_id", "n")
    )
    versions = dict(await Task.filter(id__in=list(kept)).values_list("id", "version"))
    problems = []
    for phone in phones:
        if kept.get(phone.task_id, 0) != phone.accepted:
            problems.append(
                f"task {phone.task_id}: {phone.accepted} accepted, {kept.get(phone.task_id)} kept"
            )
        if versions.get(phone.task_id) != first_versions[phone.task_id] + phone.accepted:
            problems.append(f"task {phone.task_id}: version {versions.get(phone.task_id)}")
    return problems


def start_server(
    data_dir: Path, redis_url: str, port: int, workers: int = 1
) -> subprocess.Popen[bytes]:
    env = os.environ | {"XIETONG_DATA_DIR": str(data_dir), "REDIS_URL": redis_url}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "server.web", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603 - fixed arguments


async def wait_until_all_listen(server_pid: int, port: int, workers: int) -> None:
    """Every web process listens on a socket of its own (server/web.py); phones connecting
    before the last one listens would all be dealt to the others."""
    server = psutil.Process(server_pid)
    for _ in range(300):
        listening = [
            process
            for process in [server, *server.children(recursive=True)]
            if any(
                c.status == psutil.CONN_LISTEN and c.laddr.port == port
                for c in process.net_connections(kind="tcp")
            )
        ]
        if len(listening) >= workers:
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"only {len(listening)} of {workers} web processes listen")


async def wait_until_up(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(200):
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


async def main(rate: float, seconds: float, workers: int) -> int:
    with tempfile.TemporaryDirectory(prefix="xietong-bench-") as tmp:
        data_dir = Path(tmp)
        os.environ["XIETONG_DATA_DIR"] = str(data_dir)
        os.environ.pop("DATABASE_URL", None)
        from server.db import close_db, init_db, migrate
        from server.redis_embedded import EmbeddedRedis
        from server.settings import get_settings, reset_settings

        reset_settings()
        settings = get_settings()
        await migrate(settings)
        await init_db(settings)
        phones = await seed()
        first_versions = {p.task_id: p.version for p in phones}
        redis = EmbeddedRedis(data_dir)
        redis_url = redis.start()
        port = free_port()
        server = start_server(data_dir, redis_url, port, workers)
        try:
            url = f"http://127.0.0.1:{port}"
            await wait_until_up(url)
            await wait_until_all_listen(server.pid, port, workers)
            async with aiohttp.ClientSession(
                base_url=url,
                connector=aiohttp.TCPConnector(limit=CLIENTS),
                timeout=aiohttp.ClientTimeout(total=30),
            ) as client:
                # Warm-up: each task's first report starts it (a reschedule); phones then
                # report on started tasks, as on any ordinary day.
                await asyncio.gather(*(report(client, p, 1) for p in phones))
                meter = CpuMeter(server.pid)
                steady_tally = await meter.measure(steady(client, phones, rate, seconds))
                peak_tally = await meter.measure(peak(client, phones, seconds))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        lost = await lost_updates(phones, first_versions)
        baseline = await plain_orm_loop(phones, seconds)
        await close_db()
        redis.stop()

    refused = [r for p in phones for r in p.refused]
    print(
        f"{CLIENTS} clients, reportProgress over HTTP (GraphQL, Bearer), SQLite, "
        f"{workers} server process(es)"
    )
    print(steady_tally.line(f"steady, offered {rate:.0f}/s"))
    print(peak_tally.line("peak (closed loop)"))
    print(baseline.line("baseline: plain ORM update loop"))
    print(f"peak / plain ORM loop: {peak_tally.rate / baseline.rate:.2f}x")
    print(f"accepted {sum(p.accepted for p in phones)}, refused {len(refused)}, lost {len(lost)}")
    for line in (refused + lost)[:5]:
        print("  ", line)
    return 1 if lost or refused else 0


if __name__ == "__main__":
    offered = float(sys.argv[1]) if len(sys.argv) > 1 else 300.0
    phase_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    processes = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    sys.exit(asyncio.run(main(offered, phase_seconds, processes)))
