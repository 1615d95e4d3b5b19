"""server/web.py: several web processes, each listening on a socket of its own."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def listening(server: psutil.Process, port: int) -> list[psutil.Process]:
    return [
        process
        for process in [server, *server.children(recursive=True)]
        if any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port
            for c in process.net_connections(kind="tcp")
        )
    ]


def connected(process: psutil.Process, port: int) -> int:
    return sum(
        1
        for c in process.net_connections(kind="tcp")
        if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
    )


async def test_connections_are_dealt_out_over_the_web_processes_and_sigterm_stops_them(db):
    port = free_port()
    env = dict(os.environ) | {
        "DATABASE_URL": db.database_url,
        "REDIS_URL": db.redis_url or "",
        "XIETONG_DATA_DIR": str(db.data_dir),
    }
    command = [sys.executable, "-m", "server.web", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(  # noqa: S603, ASYNC220 - our own module, started once
        [*command, "--log-level", "warning"], cwd=ROOT, env=env
    )
    supervisor = psutil.Process(server.pid)
    try:
        deadline = time.monotonic() + 60
        while len(listening(supervisor, port)) < 2 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        web = listening(supervisor, port)
        assert len(web) == 2 and supervisor not in web

        # A second server on the same port is refused at once, not silently let in.
        taken = subprocess.run(  # noqa: S603, ASYNC221
            [*command, "--log-level", "critical"], cwd=ROOT, env=env, timeout=60, check=False
        )
        assert taken.returncode != 0

        # 20 phones connecting at once: the kernel deals their connections to both
        # processes (all 20 on one would happen with probability 2 in a million).
        phones = [
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) for _ in range(20)
        ]
        try:
            answers = await asyncio.gather(*(phone.get("/healthz") for phone in phones))
            assert [answer.status_code for answer in answers] == [200] * 20
            held = [connected(process, port) for process in web]
            assert sum(held) == 20 and min(held) > 0, held
        finally:
            await asyncio.gather(*(phone.aclose() for phone in phones))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0
    assert not any(process.is_running() for process in web)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # the port is free again


async def test_web_processes_stop_when_their_supervisor_is_killed(db):
    port = free_port()
    env = dict(os.environ) | {"DATABASE_URL": db.database_url, "XIETONG_DATA_DIR": str(db.data_dir)}
    server = subprocess.Popen(  # noqa: S603, ASYNC220 - our own module, started once
        [sys.executable, "-m", "server.web", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
    )
    supervisor = psutil.Process(server.pid)
    deadline = time.monotonic() + 60
    while len(listening(supervisor, port)) < 2 and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    web = listening(supervisor, port)
    assert len(web) == 2
    server.kill()
    server.wait(timeout=10)
    gone, alive = psutil.wait_procs(web, timeout=20)
    assert not alive and len(gone) == 2
