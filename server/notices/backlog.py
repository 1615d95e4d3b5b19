"""The outbox as an operator sees it: how many notices wait, how many failed for good, and
how long the oldest has waited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from tortoise.functions import Count

from server import clock
from server.notices.models import Notice, NoticeStatus

WAITING = (NoticeStatus.PENDING, NoticeStatus.SENDING)


@dataclass(frozen=True)
class Backlog:
    by_status: dict[str, int]
    oldest_waiting_seconds: float


async def outbox_backlog() -> Backlog:
    rows = await Notice.annotate(n=Count("id")).group_by("status").values("status", "n")
    by_status = {status.value: 0 for status in NoticeStatus}
    by_status.update({str(row["status"]): int(row["n"]) for row in rows})
    first = (
        await Notice.filter(status__in=WAITING)
        .order_by("created_at")
        .first()
        .values_list("created_at", flat=True)
    )
    waited = (clock.now() - cast(datetime, first)).total_seconds() if first else 0.0
    return Backlog(by_status=by_status, oldest_waiting_seconds=max(0.0, waited))
