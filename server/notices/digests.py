"""One mail a day instead of many, for people who asked for it: the notices held for their
digest go out together at the digest hour, in their own time zone."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server import clock
from server.db import with_related
from server.notices import service as notices
from server.notices.models import Notice, NoticeStatus
from server.settings import get_settings
from server.templating import render


async def queue_notice_digests(
    *, now: datetime | None = None, only_at_hour: int | None = None
) -> int:
    """Bundle each person's held notices into one mail; the held ones are then done (sent by
    way of the digest). The cron passes only_at_hour (local); `job run digest` sends now."""
    now = now or clock.now()
    held = await with_related(Notice.filter(status=NoticeStatus.HELD), "recipient").order_by("id")
    by_person: dict[int, list[Notice]] = defaultdict(list)
    for notice in held:
        person = notice.recipient
        if person is None:
            continue
        local = now.astimezone(ZoneInfo(person.time_zone or "Asia/Shanghai"))
        if only_at_hour is None or local.hour == only_at_hour:
            by_person[person.id].append(notice)
    for bundle in by_person.values():
        await _send_bundle(bundle, now)
    return len(by_person)


async def _send_bundle(bundle: list[Notice], now: datetime) -> None:
    person = bundle[0].recipient
    assert person is not None
    text = render(
        "emails/notice_digest.txt",
        person.language,
        recipient=person,
        notices=bundle,
        base_url=get_settings().base_url,
    )
    subject, _, body = text.strip().partition("\n")
    async with in_transaction():
        await notices.queue(
            dedup_key=f"notice-digest:u{person.id}:n{bundle[-1].id}",
            subject=subject.strip(),
            body=body.strip() + "\n",
            recipient=person,
        )
        await Notice.filter(id__in=[n.id for n in bundle], status=NoticeStatus.HELD).update(
            status=NoticeStatus.SENT, delivered_via="digest", sent_at=now
        )
