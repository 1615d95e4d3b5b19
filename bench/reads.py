"""Reads side by side, in one run, on one SQLite file:

1. a page of tasks with owners and predecessors through GraphQL (our web server,
   `python -m server.web --workers 2`) against a raw endpoint written here (sqlite3 +
   orjson, its own uvicorn with two processes) that answers the same request with
   byte-identical JSON — checked on every size — at 10 / 100 / 500 tasks, sequential and
   with 10 concurrent clients;
2. the plan page, plan.svg and the one-row edit fragment at 50 / 500 / 2,000 tasks;
3. how throughput scales with 10 concurrent readers on two processes, printed beside two
   plain busy loops so the reader sees how much of the machine was free.

    .venv/bin/python bench/reads.py [rounds, default 30]
"""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START = date(2026, 11, 2)
API_SIZES = (10, 100, 500)
PAGE_SIZES = (50, 500, 2000)
PHASE = 25  # tasks under each summary
EMAIL, PASSWORD = "bench@example.com", "bench-password-1"

QUERY = """query Tasks($id: ID!, $first: Int!, $after: String) {
  project(id: $id) {
    tasks(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { id wbsCode name plannedStart durationDays percentComplete
        owner { name } dependencies { type lagDays predecessor { id } } } }
    }
  }
}"""


def global_id(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode()


# --- the data --------------------------------------------------------------------------------


async def seed_project(code: str, size: int, manager: Any, owners: list[Any]) -> int:
    """`size` tasks: a summary every PHASE tasks, its children linked finish-to-start to an
    earlier sibling about three times in five (500 tasks: ~300 links), owners in turn.
    Written in bulk, then numbered and scheduled once by the scheduler, as after an edit."""
    from server.auth import Actor
    from server.planning.models import Dependency, Task
    from server.planning.scheduling import reschedule
    from server.projects import service as projects
    from server.projects.models import Project

    rng = random.Random(size)
    project = await projects.create_project(
        Actor.for_user(manager),
        projects.ProjectInput(
            code=code,
            name=f"读取 {size}",
            initiating_department_id=manager.department_id,
            department_ids=[],
            start_date=START,
        ),
    )
    await Task.bulk_create(
        [
            Task(project_id=project.id, name=f"阶段 {p + 1}", planned_start=START)
            for p in range(size // PHASE or 1)
        ]
    )
    phase_ids = await Task.filter(project_id=project.id).order_by("id").values_list("id", flat=True)
    leaves = size - len(phase_ids)
    await Task.bulk_create(
        [
            Task(
                project_id=project.id,
                parent_id=phase_ids[i * len(phase_ids) // max(leaves, 1)],
                name=f"任务 {i + 1}：样机评审与试产准备",
                planned_start=START,
                duration_days=rng.randint(1, 8),
                owner_id=owners[i % len(owners)].id,
                percent_complete=rng.choice((0, 0, 20, 50, 100)),
            )
            for i in range(leaves)
        ]
    )
    children = await Task.filter(project_id=project.id, parent_id__not_isnull=True).order_by("id")
    links = []
    for i, task in enumerate(children):
        earlier = [c for c in children[max(0, i - 6) : i] if c.parent_id == task.parent_id]
        if earlier and rng.random() < 0.62:
            before = rng.choice(earlier)
            links.append(
                Dependency(
                    project_id=project.id,
                    predecessor_id=before.id,
                    successor_id=task.id,
                    type="FS",
                    lag_days=rng.choice((0, 0, 0, 1, 2)),
                    pair=f"{before.id}:{task.id}",
                )
            )
    await Dependency.bulk_create(links)
    await reschedule(await Project.get(id=project.id), renumber=True)
    return project.id


async def seed(folder: str) -> dict[str, Any]:
    from tortoise import Tortoise

    from server.auth import Actor
    from server.db import init_db, migrate
    from server.org import service as org
    from server.planning.company_calendar import seed_company_calendar
    from server.settings import load_settings, reset_settings

    reset_settings()
    settings = load_settings()
    await migrate(settings)
    await init_db(settings)
    # As `make run` and an install do: plans are scheduled around the holidays.
    await seed_company_calendar()
    department = await org.create_department(Actor.system(), name="研发部")
    manager = await org.create_user(
        Actor.system(), name="王芳", email=EMAIL, department_id=department.id, password=PASSWORD
    )
    owners = [
        await org.create_user(
            Actor.system(), name=name, email=f"o{i}@example.com", department_id=department.id
        )
        for i, name in enumerate(("李工", "张敏", "陈晓东", "刘洋", "赵磊"))
    ]
    projects = {}
    for size in sorted({*API_SIZES, *PAGE_SIZES}):
        projects[size] = (f"R{size}", await seed_project(f"R{size}", size, manager, owners))
    token = (await org.create_api_token(Actor.for_user(manager), name="bench")).secret
    await Tortoise.close_connections()
    return {"projects": projects, "token": token}


# --- the raw endpoint --------------------------------------------------------------------------

RAW_TASKS = """
SELECT t.id, t.wbs_code, t.name, t.planned_start, t.duration_days, t.percent_complete,
       u.name, t.wbs_key
FROM task t LEFT JOIN app_user u ON u.id = t.owner_id
WHERE t.project_id = ? AND (t.wbs_key > ? OR (t.wbs_key = ? AND t.id > ?))
ORDER BY t.wbs_key, t.id LIMIT ?
"""


def raw_app() -> Any:
    """What GraphQL answers, the shortest way: the token checked, the project's membership
    checked, two statements, orjson. No ORM, no schema, no validation."""
    import hashlib

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    connection = sqlite3.connect(os.environ["BENCH_RAW_DB"], check_same_thread=False)

    async def answer(request: Request) -> Response:
        body = orjson.loads(await request.body())
        secret = request.headers.get("authorization", "").removeprefix("Bearer ")
        digest = hashlib.sha256(secret.encode()).hexdigest()
        variables = body["variables"]
        pid = int(base64.urlsafe_b64decode(variables["id"]).decode().split(":")[1])
        visible = connection.execute(
            "SELECT m.project_id FROM api_token a JOIN project_member m ON m.user_id = a.user_id"
            " WHERE a.token_hash = ? AND a.revoked_at IS NULL AND m.project_id = ?"
            " AND m.left_at IS NULL",
            (digest, pid),
        ).fetchone()
        if visible is None:
            return Response(orjson.dumps({"data": {"project": None}}))
        key, after = "", 0
        if variables.get("after"):
            _, key, last = base64.urlsafe_b64decode(variables["after"]).decode().split(":")
            after = int(last)
        first = int(variables["first"])
        rows = connection.execute(RAW_TASKS, (pid, key, key, after, first + 1)).fetchall()
        page = rows[:first]
        marks = ",".join("?" * len(page))
        links: dict[int, list[dict[str, Any]]] = {row[0]: [] for row in page}
        for successor, kind, lag, predecessor in connection.execute(
            "SELECT successor_id, type, lag_days, predecessor_id FROM dependency"
            f" WHERE successor_id IN ({marks}) ORDER BY id",  # noqa: S608 - placeholders
            [row[0] for row in page],
        ):
            links[successor].append(
                {
                    "type": kind,
                    "lagDays": lag,
                    "predecessor": {"id": global_id("Task", predecessor)},
                }
            )
        edges = [
            {
                "node": {
                    "id": global_id("Task", row[0]),
                    "wbsCode": row[1],
                    "name": row[2],
                    "plannedStart": row[3],
                    "durationDays": row[4],
                    "percentComplete": row[5],
                    "owner": {"name": row[6]} if row[6] is not None else None,
                    "dependencies": links[row[0]],
                }
            }
            for row in page
        ]
        end = page[-1] if page else None
        cursor = (
            base64.urlsafe_b64encode(f"tasks:{end[7]}:{end[0]}".encode()).decode() if end else None
        )
        info = {"hasNextPage": len(rows) > first, "endCursor": cursor}
        tasks = {"pageInfo": info, "edges": edges}
        return Response(
            orjson.dumps({"data": {"project": {"tasks": tasks}}}), media_type="application/json"
        )

    return Starlette(routes=[Route("/raw", answer, methods=["POST"])])


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def start_servers(
    env: dict[str, str], database: str
) -> tuple[list[subprocess.Popen[bytes]], str, str]:
    ours, raw = free_port(), free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    web = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "server.web", "--port", str(ours), "--workers", "2"],
        env=env,
        cwd=ROOT,
        **quiet,  # type: ignore[arg-type]
    )
    bare = subprocess.Popen(  # noqa: S603 - uvicorn serving this file's raw_app
        [
            sys.executable, "-m", "uvicorn", "bench.reads:raw_app", "--factory",
            "--port", str(raw), "--workers", "2", "--log-level", "warning", "--no-access-log",
        ],
        env={**env, "BENCH_RAW_DB": database},
        cwd=ROOT,
        **quiet,  # type: ignore[arg-type]
    )  # fmt: skip
    ours_url, raw_url = f"http://127.0.0.1:{ours}", f"http://127.0.0.1:{raw}"
    wait_for(f"{ours_url}/healthz")
    wait_for(f"{raw_url}/raw")
    return [web, bare], ours_url, raw_url


# --- measuring ---------------------------------------------------------------------------------


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def alternating(calls: dict[str, Any], rounds: int) -> dict[str, float]:
    """Median time of each call, the calls taking turns round after round."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            began = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - began)
    return {name: median_ms(values) for name, values in samples.items()}


def concurrent_rate(make_call: Any, clients: int, seconds: float) -> float:
    """Requests a second from `clients` threads, each with its own keep-alive connection
    (`make_call()` gives a thread its call)."""
    done = [0] * clients
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        call = make_call()
        while time.monotonic() < stop:
            call()
            done[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - began)


def busy_loop(seconds: float, result: Any) -> None:
    count, stop = 0, time.monotonic() + seconds
    while time.monotonic() < stop:
        for _ in range(10_000):
            count += 1
    result.put(count)


def busy_loops(processes: int, seconds: float = 1.0) -> int:
    results: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=busy_loop, args=(seconds, results)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    total = sum(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total


# --- the run -----------------------------------------------------------------------------------


def poster(
    url: str,
    token: str,
    project_id: int,
    first: int,
    after: str | None = None,
    client: httpx.Client | None = None,
) -> Any:
    """A keep-alive client that sends the page request to `url` (ours or raw) again and again."""
    client = client or httpx.Client()
    client.headers["Authorization"] = f"Bearer {token}"
    variables = {"id": global_id("Project", project_id), "first": first, "after": after}
    body = orjson.dumps({"query": QUERY, "variables": variables})
    headers = {"Content-Type": "application/json"}

    def call() -> bytes:
        response = client.post(url, content=body, headers=headers)
        assert response.status_code == 200, response.text[:300]
        return response.content

    return call


def every_page(url: str, token: str, project_id: int, client: httpx.Client) -> None:
    """All the tasks of a project, 100 a page, each page asked for with the last cursor."""
    after = None
    while True:
        body = orjson.loads(poster(url, token, project_id, 100, after, client)())
        info = body["data"]["project"]["tasks"]["pageInfo"]
        if not info["hasNextPage"]:
            return
        after = info["endCursor"]


def api_section(ours: str, raw: str, seeded: dict[str, Any], rounds: int) -> None:
    token, projects = seeded["token"], seeded["projects"]
    endpoints = {"ours": f"{ours}/graphql", "raw": f"{raw}/raw"}
    print("GraphQL page of tasks (owner, predecessors) vs the raw endpoint, same request:")
    print(f"  {'tasks':>5} {'page':>4}  {'ours ms':>8} {'raw ms':>7} {'ratio':>6}  identical")
    for size in API_SIZES:
        first = min(size, 100)
        calls = {
            name: poster(url, token, projects[size][1], first) for name, url in endpoints.items()
        }
        identical = calls["ours"]() == calls["raw"]()
        times = alternating(calls, rounds)
        print(
            f"  {size:>5} {first:>4}  {times['ours']:8.2f} {times['raw']:7.2f} "
            f"{times['ours'] / times['raw']:5.1f}x  {'yes' if identical else 'NO'}"
        )
        if not identical:
            print(f"    ours: {calls['ours']()[:300]!r}\n    raw:  {calls['raw']()[:300]!r}")
    pid = projects[500][1]
    times = alternating(
        {
            name: (lambda u=url, c=httpx.Client(): every_page(u, token, pid, c))
            for name, url in endpoints.items()
        },
        max(5, rounds // 3),
    )
    print(
        f"  all 500 as 5 pages of 100: ours {times['ours']:.1f} ms, raw {times['raw']:.1f} ms, "
        f"{times['ours'] / times['raw']:.1f}x"
    )
    rates = {
        name: concurrent_rate(lambda u=url: poster(u, token, projects[100][1], 100), 10, 3.0)
        for name, url in endpoints.items()
    }
    print(
        f"  10 concurrent clients, page of 100: ours {rates['ours']:.0f} req/s, "
        f"raw {rates['raw']:.0f} req/s ({rates['ours'] / rates['raw']:.2f}x)"
    )


def pages_section(ours: str, seeded: dict[str, Any], rounds: int) -> None:
    from server.planning.models import wbs_sort_key  # noqa: F401 - the bench runs from ROOT

    client = httpx.Client(base_url=ours)
    client.get("/login")
    client.post(
        "/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": client.cookies.get("xt_csrf")},
    )
    print("Plan page, plan.svg and the one-row edit fragment (median, sequential; the row")
    print("taking turns with the page and svg, and the row alone, opened again and again):")
    print(
        f"  {'tasks':>5}  {'page ms':>8} {'KiB':>7}  {'svg ms':>7} {'KiB':>6}"
        f"  {'row ms':>7} {'alone':>6} {'KiB':>6}"
    )
    database = sqlite3.connect(os.environ["DATABASE_URL"].removeprefix("sqlite://"))
    for size in PAGE_SIZES:
        code, pid = seeded["projects"][size]
        leaf = database.execute(
            "SELECT id FROM task WHERE project_id = ? AND parent_id IS NOT NULL ORDER BY wbs_key"
            " LIMIT 1 OFFSET ?",
            (pid, size // 2),
        ).fetchone()[0]
        urls = {
            "page": f"/projects/{code}/plan",
            "svg": f"/projects/{code}/plan.svg",
            "row": f"/projects/{code}/plan/tasks/{leaf}/edit",
        }
        sizes = {}
        for name, url in urls.items():
            response = client.get(url, headers={"HX-Request": "true"} if name == "row" else {})
            assert response.status_code == 200, (url, response.status_code)
            sizes[name] = len(response.content) / 1024
        times = alternating(
            {
                name: (
                    lambda u=url, n=name: client.get(
                        u, headers={"HX-Request": "true"} if n == "row" else {}
                    )
                )
                for name, url in urls.items()
            },
            rounds if size < 2000 else max(5, rounds // 3),
        )
        # The row again on its own: taking turns with a 1-4 MB page, it also pays for
        # collecting the page's garbage, whichever request the collector happens to run in.
        alone = alternating(
            {"row": lambda u=urls["row"]: client.get(u, headers={"HX-Request": "true"})},
            rounds * 2,
        )
        print(
            f"  {size:>5}  {times['page']:8.1f} {sizes['page']:7.1f}  {times['svg']:7.1f} "
            f"{sizes['svg']:6.1f}  {times['row']:7.2f} {alone['row']:6.2f} {sizes['row']:6.1f}"
        )


def scaling_section(ours: str, seeded: dict[str, Any]) -> None:
    token, pid = seeded["token"], seeded["projects"][100][1]
    one_loop, two_loops = busy_loops(1), busy_loops(2)
    sequential = concurrent_rate(lambda: poster(f"{ours}/graphql", token, pid, 100), 1, 3.0)
    ten = concurrent_rate(lambda: poster(f"{ours}/graphql", token, pid, 100), 10, 3.0)
    print("Scaling on two web processes (page of 100 tasks):")
    print(
        f"  two busy loops together did {two_loops / one_loop:.2f}x the work of one"
        " (2.00: both cores free)"
    )
    print(
        f"  1 client: {sequential:.1f} req/s; 10 clients: {ten:.1f} req/s;"
        f" {ten / sequential:.2f}x (goal >= 1.7x)"
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory() as folder:
        database = f"{folder}/reads.sqlite3"
        env = {
            **os.environ,
            "XIETONG_DATA_DIR": folder,
            "DATABASE_URL": f"sqlite://{database}",
            "XIETONG_SECRET_KEY": "bench",
            "PYTHONPATH": str(ROOT),
        }
        os.environ.update(env)
        from server.redis_embedded import EmbeddedRedis

        redis = EmbeddedRedis(Path(folder) / "redis")
        env["REDIS_URL"] = redis.start()
        began = time.perf_counter()
        seeded = asyncio.run(seed(folder))
        print(
            f"seeded {sum(API_SIZES) + sum(PAGE_SIZES)} tasks"
            f" in {time.perf_counter() - began:.1f} s"
        )
        children, ours, raw = start_servers(env, database)
        try:
            api_section(ours, raw, seeded, rounds)
            pages_section(ours, seeded, rounds)
            scaling_section(ours, seeded)
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(15)
            redis.stop()


if __name__ == "__main__":
    main()
