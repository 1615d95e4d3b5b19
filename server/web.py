"""The web processes: uvicorn serving create_app, each process on a listening socket of its own.

uvicorn's --workers shares one socket among its processes, and the process that wakes first
accepts every connection waiting: 50 phones connecting at once all landed on one of three
processes (bench/updates.py: one at 87 % CPU, the other two at 4 %), and their keep-alive
connections stayed there, so three processes served like one. Here every process listens on
a socket of its own bound with SO_REUSEPORT, and the kernel deals new connections out over
them. The supervisor holds the port (bound, not listening, so it takes no connections) and
refuses to start when anyone else has it; it restarts a process that dies after it has
served, and stops everything when one dies at start, since the next would too.

    python -m server.web [--host H] [--port P] [--workers N] [--proxy-headers] ...
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from server import logs, metrics

APP = "server.app:create_app"
STARTUP_GRACE_SECONDS = 10.0

log = logging.getLogger("xietong.web")


def port_socket(host: str, port: int, *, shared: bool = True) -> socket.socket:
    """A socket bound to host:port; shared: other sockets with SO_REUSEPORT may bind it too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def hold_port(host: str, port: int) -> socket.socket:
    """The port for this server's processes alone: first bound without SO_REUSEPORT, which
    fails when anyone holds it (a second server would otherwise silently share it)."""
    port_socket(host, port, shared=False).close()
    return port_socket(host, port)


def _stop_when_orphaned(supervisor: int) -> None:
    # A supervisor killed outright (SIGKILL, the OOM killer) cannot stop its processes; they
    # would go on holding the port.
    while os.getppid() == supervisor:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def _serve_in_this_process(host: str, port: int, options: dict[str, Any]) -> None:
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    logs.configure(options["log_level"])
    sock = port_socket(host, port)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    def __init__(self, host: str, port: int, workers: int, options: dict[str, Any]) -> None:
        self.host, self.port, self.workers, self.options = host, port, workers, options
        self.context = multiprocessing.get_context("spawn")
        self.stopping = False

    def _start(self) -> tuple[multiprocessing.process.BaseProcess, float]:
        process = self.context.Process(
            target=_serve_in_this_process, args=(self.host, self.port, self.options)
        )
        process.start()
        return process, time.monotonic()

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def run(self) -> int:
        try:
            held = hold_port(self.host, self.port)
        except OSError as exc:
            log.error("cannot serve on %s:%s: %s", self.host, self.port, exc.strerror)
            return 1
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)
        running = [self._start() for _ in range(self.workers)]
        failed = False
        try:
            while not self.stopping and not failed:
                time.sleep(0.2)
                for n, (process, started) in enumerate(running):
                    if process.is_alive():
                        continue
                    if time.monotonic() - started < STARTUP_GRACE_SECONDS:
                        log.error(
                            "web process %s stopped at start (%s)", process.pid, process.exitcode
                        )
                        failed = True
                        break
                    log.warning(
                        "web process %s stopped (%s); starting another",
                        process.pid,
                        process.exitcode,
                    )
                    running[n] = self._start()
        finally:
            for process, _ in running:
                if process.is_alive():
                    process.terminate()
            for process, _ in running:
                process.join(timeout=15)
                if process.is_alive():
                    process.kill()
                    process.join()
            held.close()
        return 1 if failed else 0


def serve(host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    if workers <= 1:
        uvicorn.run(APP, factory=True, host=host, port=port, **options)
        return 0
    return Supervisor(host, port, workers, options).run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m server.web")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--proxy-headers", action="store_true")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", action="store_true")
    # Open live-meeting streams never end by themselves; do not wait long for them.
    parser.add_argument("--timeout-graceful-shutdown", type=int, default=5)
    args = parser.parse_args(argv)
    as_json = logs.configure(args.log_level)
    options: dict[str, Any] = {
        "proxy_headers": args.proxy_headers,
        "log_level": args.log_level,
        # JSON lines: our own request line replaces uvicorn's, and its handlers stay off.
        "access_log": not (args.no_access_log or as_json),
        "timeout_graceful_shutdown": args.timeout_graceful_shutdown,
    }
    if as_json:
        options["log_config"] = None
    if args.workers > 1 and not os.environ.get(metrics.SHARED_FOLDER):
        metrics.prepare_shared_folder(Path(os.environ.get("XIETONG_DATA_DIR", "data")).resolve())
    sys.exit(serve(args.host, args.port, args.workers, options))


if __name__ == "__main__":
    main()
