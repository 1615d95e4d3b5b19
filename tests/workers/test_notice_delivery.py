"""A real arq worker in burst mode delivers the outbox to a real SMTP server, once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from arq.connections import create_pool
from tortoise.transactions import in_transaction

from server.notices import service as notices
from server.notices.models import Notice, NoticeStatus
from server.projects.models import Role
from tests import factories as f
from tests.conftest import free_port
from workers.settings import build_worker, redis_settings


async def run_job_in_worker(settings, name: str = "deliver_notices") -> None:
    pool = await create_pool(redis_settings(settings))
    try:
        await pool.enqueue_job(name)
        worker = build_worker(settings, burst=True, database_ready=True, poll_delay=0.05)
        worker.cron_jobs = []  # only the job enqueued here, not the schedule
        await worker.async_run()
        await worker.close()
    finally:
        await pool.aclose()


async def test_a_worker_delivers_a_new_members_welcome_once(db, smtp_server):
    inbox, smtp_url = smtp_server
    settings = replace(db, smtp_url=smtp_url)
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd], name="智能保温杯")
    newcomer = await f.user(dept=rnd, email="sunhao@example.com")
    member = await f.member(pm, project, newcomer, Role.LIAISON)

    await run_job_in_worker(settings)
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["sunhao@example.com"]
    assert "智能保温杯" in message["Subject"] and "部门接口人" in message.get_content()
    notice = await Notice.get(dedup_key=f"member-added:{member.id}")
    assert notice.status == NoticeStatus.SENT and notice.delivered_via == "smtp"

    await run_job_in_worker(settings)
    assert len(inbox.messages) == 1


async def test_a_failed_send_is_kept_for_a_later_retry(db):
    closed_port = free_port()
    settings = replace(db, smtp_url=f"smtp://127.0.0.1:{closed_port}")
    u = await f.user(email="head@example.com")
    async with in_transaction():
        await notices.queue(dedup_key="reminder:1", subject="请签署章程", body="…", recipient=u)
    await run_job_in_worker(settings)
    notice = await Notice.get(dedup_key="reminder:1")
    assert notice.status == NoticeStatus.PENDING and notice.attempts == 1
    assert notice.next_attempt_at > datetime.now(UTC)
    assert "ConnectionRefusedError" in notice.last_error
    report = await notices.deliver_pending(settings)
    assert report.sent == 0  # not due yet: backoff


async def test_two_workers_at_once_send_each_notice_once(db, smtp_server):
    inbox, smtp_url = smtp_server
    settings = replace(db, smtp_url=smtp_url)
    people = [await f.user(email=f"p{i}@example.com") for i in range(6)]
    async with in_transaction():
        for i, person in enumerate(people):
            await notices.queue(dedup_key=f"k{i}", subject=f"s{i}", body="b", recipient=person)
    reports = await asyncio.gather(
        notices.deliver_pending(settings), notices.deliver_pending(settings)
    )
    assert sum(r.sent for r in reports) == 6
    assert sorted(m[0][0] for m in inbox.messages) == sorted(p.email for p in people)


async def test_heads_get_the_signing_request_by_email_once(db, smtp_server):
    from server.signoffs import queries as signoff_queries
    from server.signoffs import service as signoffs
    from server.signoffs import signers as signoff_signers
    from server.signoffs.models import DocumentKind

    inbox, smtp_url = smtp_server
    settings = replace(db, smtp_url=smtp_url)
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd], name="智能保温杯", code="X1")
    for dept, email in ((rnd, "zhangwei@example.com"), (None, "lina@example.com")):
        head = await f.user(dept=dept or await pm.department, email=email)
        await f.member(pm, project, head, Role.DEPARTMENT_HEAD)
    await Notice.all().delete()  # the welcome emails are tested above
    charter = await signoff_queries.open_document(
        f.actor(pm), project_id=project.id, kind=DocumentKind.CHARTER
    )
    await signoffs.request_signatures(f.actor(pm), document_id=charter.id)
    await signoff_signers.remind_missing_signers(f.actor(pm), document_id=charter.id)

    await run_job_in_worker(settings)
    requests = [(r, m) for r, m in inbox.messages if m["Subject"].startswith("请签署")]
    assert sorted(r[0] for r, _ in requests) == ["lina@example.com", "zhangwei@example.com"]
    body = requests[0][1].get_content()
    assert "智能保温杯" in body and "/projects/X1/charter/sign" in body and "内容指纹" in body
    reminders = [m for _, m in inbox.messages if m["Subject"].startswith("提醒")]
    assert len(reminders) == 2
    await run_job_in_worker(settings)
    assert len(inbox.messages) == 4
