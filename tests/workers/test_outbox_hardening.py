"""A notice that cannot be built fails alone and says why; a dead worker's claims come back at
once; every attempt at one notice carries the same Message-ID."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from server.notices import service as notices
from server.notices.models import Notice, NoticeStatus
from tests import factories as f
from tests.views.helpers import log_in
from tests.workers.test_notice_delivery import run_job_in_worker


async def queue_one(user, key: str, subject: str = "周例会邀请") -> Notice:
    async with in_transaction():
        await notices.queue(dedup_key=key, subject=subject, body="正文\n", recipient=user)
    return await Notice.get(dedup_key=key)


async def test_a_subject_with_line_breaks_is_made_one_line_when_queued(db):
    user = await f.user(email="a@example.com")
    notice = await queue_one(user, "cr-subject", subject="周例会\r邀请\n第二行")
    assert notice.subject == "周例会 邀请 第二行"


async def test_a_notice_that_cannot_be_built_is_failed_with_its_error_and_the_rest_go_out(
    db,
    smtp_server,
    http,
):
    inbox, smtp_url = smtp_server
    settings = replace(db, smtp_url=smtp_url)
    user = await f.user(email="liaison@example.com")
    broken = await queue_one(user, "broken")
    good = await queue_one(user, "good")
    # A row stored before subjects were made one line (no service writes this any more).
    await Notice.filter(id=broken.id).update(subject="周例会\r邀请")

    await run_job_in_worker(settings)
    broken = await Notice.get(id=broken.id)
    assert broken.status == NoticeStatus.FAILED
    assert broken.attempts == 1 and "ValueError" in broken.last_error
    assert (await Notice.get(id=good.id)).status == NoticeStatus.SENT
    assert len(inbox.messages) == 1

    # Run again: the failed one is not picked up again, nothing is sent twice.
    await run_job_in_worker(settings)
    assert (await Notice.get(id=broken.id)).attempts == 1
    assert len(inbox.messages) == 1

    admin = await f.user(is_admin=True)
    await log_in(http, admin.email)
    outbox = await http.get("/admin/outbox?status=FAILED")
    assert "ValueError" in outbox.text


async def test_claims_of_a_dead_process_on_this_host_are_released_at_once(db):
    user = await f.user(email="x@example.com")
    dead = await queue_one(user, "dead-claim")
    alive = await queue_one(user, "alive-claim")
    elsewhere = await queue_one(user, "other-namespace-claim")
    here = notices.claimer().rpartition(":")[0]
    host = here.partition(":")[0]
    now = datetime.now(UTC)
    # Claimed a moment ago by a process id that no longer exists, by this live process, and
    # by a process of another container on this host (its ids mean nothing here).
    claims = {
        dead.id: f"{here}:{2**22 + 12345}",
        alive.id: notices.claimer(),
        elsewhere.id: f"{host}:other-ns:{2**22 + 12345}",
    }
    for notice_id, by in claims.items():
        await Notice.filter(id=notice_id).update(
            status=NoticeStatus.SENDING, claimed_at=now, claimed_by=by
        )
    assert notices.claimer().endswith(f":{os.getpid()}")
    assert await notices.release_dead_claims() == 1
    assert (await Notice.get(id=dead.id)).status == NoticeStatus.PENDING
    assert (await Notice.get(id=alive.id)).status == NoticeStatus.SENDING
    assert (await Notice.get(id=elsewhere.id)).status == NoticeStatus.SENDING


async def test_every_attempt_at_a_notice_carries_the_same_message_id(db, smtp_server):
    inbox, smtp_url = smtp_server
    settings = replace(db, smtp_url=smtp_url)
    user = await f.user(email="head@example.com")
    notice = await queue_one(user, "resent")
    await run_job_in_worker(settings)
    # As if the worker died after the server accepted it: released and sent again.
    await Notice.filter(id=notice.id).update(status=NoticeStatus.PENDING)
    await run_job_in_worker(settings)
    other = await queue_one(user, "another")
    await run_job_in_worker(settings)
    ids = [message["Message-ID"] for _, message in inbox.messages]
    assert ids[0] == ids[1] == notices.message_id(notice)
    assert ids[2] == notices.message_id(other) != ids[0]
