"""The outbox: notices are rows written with their cause, delivered later by a worker."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from server.auth import Action, Actor, authorize
from server.notices.models import Channel, Notice, NoticeStatus
from server.org.models import User
from server.settings import Settings, get_settings
from server.templating import render

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_TIMEOUT = timedelta(minutes=15)


def _now() -> datetime:
    return datetime.now(UTC)


async def queue(
    *,
    dedup_key: str,
    subject: str,
    body: str,
    recipient: User | None = None,
    address: str | None = None,
    channel: Channel = Channel.EMAIL,
    project_id: int | None = None,
) -> None:
    """Add a notice to the outbox inside the caller's transaction.

    A notice whose dedup key is already there is dropped silently: the same escalation,
    reminder or welcome goes out once however often its cause is retried.
    """
    if address is None and recipient is not None:
        address = recipient.email or ""
    await Notice.bulk_create(
        [
            Notice(
                dedup_key=dedup_key[:255],
                channel=channel,
                recipient=recipient,
                address=address or "",
                subject=subject[:255],
                body=body,
                project_id=project_id,
                next_attempt_at=_now(),
            )
        ],
        ignore_conflicts=True,
    )


async def queue_email(
    *,
    recipient: User,
    template: str,
    dedup_key: str,
    project_id: int | None = None,
    **context: object,
) -> None:
    """Render `templates/emails/<template>.txt` in the recipient's language and queue it.

    The template's first line is the subject, the rest the body.
    """
    text = render(
        f"emails/{template}.txt",
        recipient.language,
        recipient=recipient,
        base_url=get_settings().base_url,
        **context,
    )
    subject, _, body = text.strip().partition("\n")
    await queue(
        dedup_key=dedup_key,
        subject=subject.strip(),
        body=body.strip() + "\n",
        recipient=recipient,
        project_id=project_id,
    )


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, to retry {self.retried}, "
            f"failed {self.failed}, skipped {self.skipped}"
        )


def _send_smtp(smtp_url: str, mail_from: str, notice: Notice) -> None:
    url = urlparse(smtp_url)
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = notice.address
    message["Subject"] = notice.subject
    message["Message-ID"] = f"<notice-{notice.id}@xietong>"
    message.set_content(notice.body)
    port = url.port or (465 if url.scheme == "smtps" else 25)
    connection_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with connection_class(url.hostname or "localhost", port, timeout=30) as smtp:
        if url.scheme == "smtp+starttls":
            smtp.starttls()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


async def _claim(notice_id: int) -> bool:
    """Take a notice for this worker only; a second worker's claim updates nothing."""
    claimed = await Notice.filter(id=notice_id, status=NoticeStatus.PENDING).update(
        status=NoticeStatus.SENDING, claimed_at=_now()
    )
    return claimed == 1


async def _deliver_one(notice: Notice, settings: Settings, report: DeliveryReport) -> None:
    if notice.channel == Channel.EMAIL and not notice.address:
        # Many production and service staff have no email; chat robots reach them instead.
        await Notice.filter(id=notice.id).update(status=NoticeStatus.SKIPPED)
        report.skipped += 1
        return
    try:
        if settings.smtp_url:
            await asyncio.to_thread(_send_smtp, settings.smtp_url, settings.mail_from, notice)
            via = "smtp"
        else:
            via = "mailbox"
    except (OSError, smtplib.SMTPException) as error:
        attempts = notice.attempts + 1
        final = attempts >= MAX_ATTEMPTS
        await Notice.filter(id=notice.id).update(
            status=NoticeStatus.FAILED if final else NoticeStatus.PENDING,
            attempts=attempts,
            next_attempt_at=_now() + _backoff(attempts),
            last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        log.warning("notice %s not delivered (attempt %s): %s", notice.id, attempts, error)
        if final:
            report.failed += 1
        else:
            report.retried += 1
        return
    await Notice.filter(id=notice.id).update(
        status=NoticeStatus.SENT, delivered_via=via, sent_at=_now(), attempts=notice.attempts + 1
    )
    report.sent += 1


async def deliver_pending(settings: Settings, *, limit: int = 100) -> DeliveryReport:
    """Deliver due notices once each; release claims a crashed worker left behind."""
    report = DeliveryReport()
    await Notice.filter(status=NoticeStatus.SENDING, claimed_at__lt=_now() - CLAIM_TIMEOUT).update(
        status=NoticeStatus.PENDING
    )
    due = (
        await Notice.filter(status=NoticeStatus.PENDING, next_attempt_at__lte=_now())
        .order_by("id")
        .limit(limit)
    )
    for notice in due:
        if await _claim(notice.id):
            await _deliver_one(notice, settings, report)
    return report


async def list_mailbox(actor: Actor, *, limit: int = 100) -> list[Notice]:
    """Mail kept in the app when no SMTP server is configured (admins only)."""
    await authorize(actor, Action.ADMINISTER)
    return (
        await Notice.filter(delivered_via="mailbox")
        .select_related("recipient")
        .order_by("-id")
        .limit(limit)
    )


async def list_outbox(actor: Actor, *, limit: int = 100) -> list[Notice]:
    await authorize(actor, Action.ADMINISTER)
    return await Notice.all().select_related("recipient").order_by("-id").limit(limit)
