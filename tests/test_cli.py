"""The `xietong` command as a person runs it, in fresh data folders."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

XIETONG = shutil.which("xietong") or str(Path(__file__).resolve().parents[1] / ".venv/bin/xietong")


def clean_env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SMTP_URL", "XIETONG_SECRET_KEY"}
    }
    env["XIETONG_DATA_DIR"] = str(data_dir)
    return env


def xietong(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [XIETONG, *args], env=clean_env(data_dir), capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


def test_migrate_demo_users_tokens_and_jobs(data_dir: Path):
    assert xietong(data_dir, "migrate").returncode == 0
    first = xietong(data_dir, "demo")
    assert first.returncode == 0 and "wangfang@example.com" in first.stdout
    again = xietong(data_dir, "demo")
    assert again.returncode == 0 and "nothing changed" in again.stdout

    bad = xietong(
        data_dir, "user", "create", "not-an-email", "--name", "李雷", "--department", "法务部"
    )
    assert bad.returncode != 0
    assert bad.stderr.strip().count("\n") == 0 and "email" in bad.stderr
    made = xietong(
        data_dir, "user", "create", "lilei@example.com", "--name", "李雷", "--department", "法务部"
    )
    assert made.returncode == 0, made.stderr

    token = xietong(data_dir, "token", "create", "lilei@example.com", "--expires-days", "7")
    assert token.returncode == 0
    last_line = token.stdout.strip().splitlines()[-1]
    assert last_line.startswith("xt_") and " " not in last_line
    limited = xietong(
        data_dir, "token", "create", "wangfang@example.com", "--project", "X1-LAUNCH", "--read-only"
    )
    assert limited.returncode == 0, limited.stderr
    assert limited.stdout.strip().splitlines()[-1].startswith("xt_")
    elsewhere = xietong(data_dir, "token", "create", "lilei@example.com", "--project", "X1-LAUNCH")
    assert elsewhere.returncode != 0 and "X1-LAUNCH" in elsewhere.stderr
    unknown = xietong(data_dir, "token", "create", "nobody@example.com")
    assert unknown.returncode != 0 and "nobody@example.com" in unknown.stderr

    listed = xietong(data_dir, "job", "list")
    assert "deliver-notices" in listed.stdout and "purge-sessions" in listed.stdout
    ran = xietong(data_dir, "job", "run", "deliver-notices")
    assert ran.returncode == 0 and "sent" in ran.stdout
    nope = xietong(data_dir, "job", "run", "no-such-job")
    assert nope.returncode != 0 and "deliver-notices" in nope.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_run_serves_healthz_from_a_fresh_folder_and_stops_everything(data_dir: Path):
    port = free_port()
    process = subprocess.Popen(
        [XIETONG, "run", "--port", str(port)],
        env=clean_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        answer = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    answer = (r.status, r.read().decode())
                    break
            except OSError:
                time.sleep(0.5)
        assert answer == (200, "ok")
        children = psutil.Process(process.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "redis-server" in names and "server.web" in names and "server.cli worker" in names
        assert (data_dir / "redis.sock").exists()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}" in output and "wangfang@example.com" in output
    time.sleep(0.5)
    assert [c.pid for c in children if c.is_running() and c.status() != "zombie"] == []


def test_the_wheel_carries_the_templates_and_static_files(tmp_path: Path):
    """A container is built from the wheel (docs/deploy/Containerfile): pages need these."""
    import zipfile

    root = Path(__file__).resolve().parents[1]
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("xietong-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in (root / "templates").rglob("*"):
        if template.is_file():
            assert f"server/templates/{template.relative_to(root / 'templates')}" in names
    for static in (root / "static").rglob("*"):
        if static.is_file():
            assert f"server/static/{static.relative_to(root / 'static')}" in names
    assert "server/locale/zh_CN/LC_MESSAGES/messages.po" in names


def test_backup_and_restore_from_the_command_line(tmp_path_factory: pytest.TempPathFactory):
    laptop = tmp_path_factory.mktemp("laptop")
    assert xietong(laptop, "migrate").returncode == 0
    made = xietong(
        laptop, "user", "create", "lilei@example.com", "--name", "李雷", "--department", "法务部"
    )
    assert made.returncode == 0, made.stderr
    archive = tmp_path_factory.mktemp("archives") / "xietong.tar.gz"
    backed = xietong(laptop, "backup", str(archive))
    assert backed.returncode == 0, backed.stderr
    assert backed.stdout.startswith(f"backup: {archive} (sqlite, ")

    fresh = tmp_path_factory.mktemp("fresh")
    restored = xietong(fresh, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    # The key file comes back with the data: signatures and sessions stay valid.
    assert (fresh / "secret_key").read_text() == (laptop / "secret_key").read_text()
    assert xietong(fresh, "verify").returncode == 0
    again = xietong(fresh, "restore", str(archive))
    assert again.returncode == 2
    assert again.stderr.startswith("xietong: the target already holds data;")
    assert again.stderr.count("\n") == 1
    missing = xietong(fresh, "restore", str(archive.with_name("nothing.tar.gz")))
    assert missing.returncode == 2 and "no backup at" in missing.stderr
