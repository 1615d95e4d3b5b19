from __future__ import annotations

from tortoise.transactions import in_transaction

from server.notices import service as notices
from server.notices.models import Notice, NoticeStatus
from tests import factories as f


async def test_the_same_dedup_key_queues_one_notice(db):
    u = await f.user()
    async with in_transaction():
        await notices.queue(
            dedup_key="escalation:1:2", subject="延期", body="任务延期", recipient=u
        )
    async with in_transaction():
        await notices.queue(
            dedup_key="escalation:1:2", subject="延期", body="任务延期", recipient=u
        )
    assert await Notice.filter(dedup_key="escalation:1:2").count() == 1


async def test_a_rolled_back_cause_leaves_no_notice(db):
    u = await f.user()
    try:
        async with in_transaction():
            await notices.queue(dedup_key="k", subject="s", body="b", recipient=u)
            raise RuntimeError("the cause failed")
    except RuntimeError:
        pass
    assert not await Notice.filter(dedup_key="k").exists()


async def test_without_smtp_mail_goes_to_the_mailbox_once(db):
    u = await f.user(email="liaison@example.com")
    async with in_transaction():
        await notices.queue(dedup_key="k1", subject="提醒", body="请更新进度", recipient=u)
    first = await notices.deliver_pending(db)
    second = await notices.deliver_pending(db)
    assert (first.sent, second.sent) == (1, 0)
    mailbox = await notices.list_mailbox(f.system())
    assert [(n.address, n.subject) for n in mailbox] == [("liaison@example.com", "提醒")]


async def test_people_without_email_are_skipped_not_retried_forever(db):
    worker = await f.user(email="", mobile="13800000099")
    async with in_transaction():
        await notices.queue(dedup_key="k2", subject="s", body="b", recipient=worker)
    report = await notices.deliver_pending(db)
    assert report.skipped == 1
    assert (await Notice.get(dedup_key="k2")).status == NoticeStatus.SKIPPED
