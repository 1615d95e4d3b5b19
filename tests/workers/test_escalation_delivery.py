"""Escalations and chat robots end to end: real arq workers, real Redis, a real SMTP server
(aiosmtpd) and a local HTTP receiver standing in for DingTalk, Feishu and WeCom."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from aiosmtpd.controller import Controller
from arq.connections import create_pool
from tortoise.transactions import in_transaction

from server.notices import service as notices
from server.notices.models import Channel, Notice, NoticeStatus, RobotKind
from server.planning import service as planning
from server.projects import chat_robots
from server.projects.chat_robots import RobotInput
from server.projects.models import Role
from server.risks.models import Escalation
from tests import factories as f
from tests.conftest import free_port
from tests.workers.conftest import Inbox
from tests.workers.test_notice_delivery import run_job_in_worker
from workers.settings import build_worker, redis_settings

ROOT = Path(__file__).resolve().parents[2]
_mobiles = itertools.count(13900000000)
# By the time these tests run the task (due Fri 6 Nov 2026) is more than 4 × 2 working days
# late and on the critical path: levels 1–4 are reached; nobody holds level 3 or 4 here, so the
# mail goes to owner + liaison (level 1) and the PM (level 2).
LEVELS_REACHED = 4
MAILS_PER_PROJECT = 3


class ScriptedInbox(Inbox):
    """Answers DATA with the scripted replies first (e.g. 451 twice), then 250."""

    def __init__(self, replies: list[str]) -> None:
        super().__init__()
        self.replies = list(replies)
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.attempts += 1
        if self.replies:
            return self.replies.pop(0)
        return await super().handle_DATA(server, session, envelope)


def smtp(inbox: Inbox):
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, f"smtp://127.0.0.1:{controller.port}"


async def make_due_now() -> None:
    """Time control: the backoff has passed."""
    await Notice.filter(status=NoticeStatus.PENDING).update(
        next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)
    )


async def one_notice(email: str = "head@example.com") -> Notice:
    person = await f.user(email=email)
    async with in_transaction():
        await notices.queue(dedup_key="esc:1", subject="任务逾期", body="…", recipient=person)
    return await Notice.get(dedup_key="esc:1")


async def test_smtp_451_twice_then_250_is_delivered_once(db):
    inbox = ScriptedInbox(["451 4.3.0 try again later", "451 4.3.0 try again later"])
    controller, url = smtp(inbox)
    try:
        settings = replace(db, smtp_url=url)
        notice = await one_notice()
        for _ in range(3):
            await run_job_in_worker(settings)
            await make_due_now()
        await run_job_in_worker(settings)
    finally:
        controller.stop()
    assert inbox.attempts == 3
    assert len(inbox.messages) == 1
    notice = await Notice.get(id=notice.id)
    assert notice.status == NoticeStatus.SENT and notice.attempts == 3


async def test_smtp_550_is_marked_failed_and_not_retried(db, http):
    inbox = ScriptedInbox(["550 5.1.1 no such mailbox"] * 5)
    controller, url = smtp(inbox)
    try:
        settings = replace(db, smtp_url=url)
        notice = await one_notice()
        await run_job_in_worker(settings)
        await make_due_now()
        await run_job_in_worker(settings)
    finally:
        controller.stop()
    assert inbox.attempts == 1
    notice = await Notice.get(id=notice.id)
    assert notice.status == NoticeStatus.FAILED and notice.attempts == 1
    assert "550" in notice.last_error
    # Visible to administrators on the outbox page.
    from tests.views.helpers import log_in

    admin = await f.user(is_admin=True)
    await log_in(http, admin.email)
    page = await http.get("/admin/outbox?status=FAILED")
    assert page.status_code == 200
    assert "任务逾期" in page.text and "550" in page.text


class Receiver:
    """A local HTTP server standing in for the chat robots' webhook endpoints."""

    def __init__(self, *, slow_first: float = 0.0) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.slow_first = slow_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                first = not receiver.requests
                receiver.requests.append((self.path, body))
                if first and receiver.slow_first:
                    time.sleep(receiver.slow_first)
                answer = json.dumps({"errcode": 0, "code": 0}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except BrokenPipeError:
                    pass  # the sender gave up waiting (the timeout case)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def dingtalk_sign_ok(path: str, secret: str) -> bool:
    query = parse_qs(urlparse(path).query)
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    fresh = abs(int(timestamp) - time.time() * 1000) < 3_600_000
    return fresh and query["sign"][0] == expected


def feishu_sign_ok(body: dict, secret: str) -> bool:
    key = f"{body['timestamp']}\n{secret}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return body["sign"] == expected


async def late_project(code: str = "X1"):
    """A project whose one task (due Fri 6 Nov) is late; owner and liaison have mobiles."""
    rnd = await f.department(f"研发部-{code}")
    # Nobody here logs in: no password, no slow hashing.
    pm = await f.user(name="王芳", mobile=str(next(_mobiles)), password=None)
    project = await f.project(pm, departments=[rnd], code=code)
    owner = await f.user(name="孙浩", dept=rnd, mobile=str(next(_mobiles)), password=None)
    liaison = await f.user(name="李娜", dept=rnd, mobile=None, password=None)
    await f.member(pm, project, owner, Role.MEMBER, rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="样机测试",
            planned_start=date(2026, 11, 2),
            duration_days=5,
            owner_id=owner.id,
            department_id=rnd.id,
        ),
    )
    return project, rnd, owner, pm


async def test_escalations_reach_dingtalk_feishu_and_wecom_signed(db, receiver):
    project, rnd, owner, pm = await late_project()
    for kind, secret in (
        (RobotKind.DINGTALK, "SECdingtalk"),
        (RobotKind.FEISHU, "feishu-secret"),
        (RobotKind.WECOM, ""),
    ):
        await chat_robots.add_robot(
            f.system(),
            RobotInput(
                kind=kind.value,
                name=kind.value,
                url=f"{receiver.url}/{kind.value.lower()}?access_token=abc",
                secret=secret,
                project_code=project.code,
            ),
        )
    await run_job_in_worker(db, "escalations")
    await run_job_in_worker(db)
    by_kind = {urlparse(path).path.strip("/"): (path, body) for path, body in receiver.requests}
    assert set(by_kind) == {"dingtalk", "feishu", "wecom"}
    path, ding = by_kind["dingtalk"]
    assert dingtalk_sign_ok(path, "SECdingtalk")
    assert ding["msgtype"] == "text" and "样机测试" in ding["text"]["content"]
    # Levels 1–4 reached in this one run: one message, mentioning the owner and the PM (the
    # liaison has no mobile number on record).
    assert ding["at"]["atMobiles"] == [owner.mobile, pm.mobile]
    _, feishu = by_kind["feishu"]
    assert feishu_sign_ok(feishu, "feishu-secret") and feishu["msg_type"] == "text"
    _, wecom = by_kind["wecom"]
    assert wecom["text"]["mentioned_mobile_list"] == [owner.mobile, pm.mobile]
    sent = await Notice.filter(channel=Channel.WEBHOOK, status=NoticeStatus.SENT).count()
    assert sent == 3
    # Delivering again sends nothing more.
    await run_job_in_worker(db)
    assert len(receiver.requests) == 3


async def test_a_robot_that_times_out_is_retried_then_delivered(db):
    slow = Receiver(slow_first=1.5)
    try:
        settings = replace(db, webhook_timeout_seconds=0.5)
        project, rnd, owner, pm = await late_project()
        await chat_robots.add_robot(
            f.system(),
            RobotInput(
                kind="WECOM", name="研发部群", url=f"{slow.url}/wecom", department_id=rnd.id
            ),
        )
        await run_job_in_worker(settings, "escalations")
        await run_job_in_worker(settings)
        chat = await Notice.get(channel=Channel.WEBHOOK)
        assert chat.status == NoticeStatus.PENDING and "Timeout" in chat.last_error
        await make_due_now()
        await run_job_in_worker(settings)
        chat = await Notice.get(id=chat.id)
        assert chat.status == NoticeStatus.SENT and chat.attempts == 2
        assert len(slow.requests) == 2
    finally:
        slow.close()


async def test_two_workers_running_the_escalations_at_once_queue_each_notice_once(db):
    for n in range(3):
        await late_project(code=f"P{n}")
    pool = await create_pool(redis_settings(db))
    try:
        await pool.enqueue_job("escalations", _job_id="escalations-a")
        await pool.enqueue_job("escalations", _job_id="escalations-b")
        workers = []
        for _ in range(2):
            worker = build_worker(db, burst=True, database_ready=True, poll_delay=0.05)
            worker.cron_jobs = []
            workers.append(worker)
        await asyncio.gather(*(w.async_run() for w in workers))
        for w in workers:
            await w.close()
    finally:
        await pool.aclose()
    assert await Escalation.all().count() == 3 * LEVELS_REACHED
    keys = await Notice.filter(dedup_key__startswith="escalation:").values_list(
        "dedup_key", flat=True
    )
    assert len(keys) == 3 * MAILS_PER_PROJECT == len(set(keys))


async def test_a_worker_killed_mid_run_delivers_everything_once_after_restart(db, tmp_path):
    projects = 60
    for n in range(projects):
        await late_project(code=f"K{n}")
    inbox = Inbox()
    controller, smtp_url = smtp(inbox)
    env = dict(os.environ) | {
        "DATABASE_URL": db.database_url,
        "REDIS_URL": db.redis_url or "",
        "SMTP_URL": smtp_url,
        "XIETONG_DATA_DIR": str(db.data_dir),
    }
    pool = await create_pool(redis_settings(db))
    try:
        worker = subprocess.Popen(  # noqa: S603, ASYNC220 - our own CLI, started once
            [sys.executable, "-m", "server.cli", "worker"], cwd=ROOT, env=env
        )
        await pool.enqueue_job("escalations", _job_id="escalations-before-kill")
        started = time.monotonic()
        deadline = started + 60
        while time.monotonic() < deadline:
            done = await Escalation.all().count()
            if done:
                break
            await asyncio.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        partial = await Escalation.all().count()
        assert 0 < partial < projects * LEVELS_REACHED, "the kill must land mid-run"
        # Restart: the next run (here enqueued by hand, as the next cron would) finishes it.
        restarted = subprocess.Popen(  # noqa: S603, ASYNC220
            [sys.executable, "-m", "server.cli", "worker"], cwd=ROOT, env=env
        )
        try:
            await pool.enqueue_job("escalations", _job_id="escalations-after-restart")
            expected = projects * MAILS_PER_PROJECT
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                sent = await Notice.filter(
                    dedup_key__startswith="escalation:", status=NoticeStatus.SENT
                ).count()
                if sent == expected:
                    break
                await asyncio.sleep(0.2)
        finally:
            restarted.send_signal(signal.SIGTERM)
            restarted.wait(timeout=20)
    finally:
        # arq would run the killed job again once its in-progress mark expires (the job
        # timeout); drop it so it does not wait for later tests' workers.
        await pool.zrem("arq:queue", "escalations-before-kill")
        await pool.delete(
            "arq:job:escalations-before-kill", "arq:in-progress:escalations-before-kill"
        )
        await pool.aclose()
        controller.stop()
    assert await Escalation.all().count() == projects * LEVELS_REACHED
    escalation_mail = [m for m in inbox.messages if "样机测试" in str(m[1]["Subject"])]
    assert len(escalation_mail) == projects * MAILS_PER_PROJECT
    delivered = [(tuple(to), str(m["Subject"])) for to, m in escalation_mail]
    assert len(delivered) == len(set(delivered))
