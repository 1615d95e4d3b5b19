"""The outbox: notices are rows written with their cause, delivered later by a worker."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlparse

import httpx
from jinja2 import TemplateNotFound

from server.auth import Action, Actor, authorize
from server.notices import chat
from server.notices.models import Channel, ChatRobot, Notice, NoticeStatus
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
    html_body: str = "",
    robot: ChatRobot | None = None,
    mentions: list[str] | None = None,
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
                html_body=html_body,
                robot=robot,
                mentions=mentions or [],
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

    The template's first line is the subject, the rest the body. When
    `emails/<template>.html` exists too, the mail carries that as its HTML part.
    """
    context = {"recipient": recipient, "base_url": get_settings().base_url, **context}
    text = render(f"emails/{template}.txt", recipient.language, **context)
    subject, _, body = text.strip().partition("\n")
    try:
        html_body = render(f"emails/{template}.html", recipient.language, **context)
    except TemplateNotFound:
        html_body = ""
    await queue(
        dedup_key=dedup_key,
        subject=subject.strip(),
        body=body.strip() + "\n",
        html_body=html_body,
        recipient=recipient,
        project_id=project_id,
    )


async def queue_chat(
    *,
    robot: ChatRobot,
    template: str,
    dedup_key: str,
    mentions: list[str],
    project_id: int | None = None,
    **context: object,
) -> None:
    """Render `templates/chat/<template>.txt` for a group chat and queue it for its robot.

    Group chats get the company's default language; the people concerned are @-mentioned
    by mobile number where the chat app supports it.
    """
    settings = get_settings()
    text = render(
        f"chat/{template}.txt",
        settings.default_language,
        base_url=settings.base_url,
        **context,
    )
    subject, _, body = text.strip().partition("\n")
    await queue(
        dedup_key=dedup_key,
        subject=subject.strip(),
        body=body.strip(),
        channel=Channel.WEBHOOK,
        address=robot.name,
        robot=robot,
        mentions=mentions,
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
    if notice.html_body:
        message.add_alternative(notice.html_body, subtype="html")
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


class PermanentFailure(Exception):
    """The other side refused for good (SMTP 5xx, webhook 4xx): retrying cannot help."""


def _smtp_refusal_is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


async def _send_email(notice: Notice, settings: Settings) -> str:
    if not settings.smtp_url:
        return "mailbox"
    try:
        await asyncio.to_thread(_send_smtp, settings.smtp_url, settings.mail_from, notice)
    except smtplib.SMTPException as error:
        if _smtp_refusal_is_permanent(error):
            raise PermanentFailure(f"{type(error).__name__}: {error}") from error
        raise
    return "smtp"


WEBHOOK_TIMEOUT = 10.0


async def _send_webhook(notice: Notice) -> str:
    robot = await ChatRobot.get_or_none(id=notice.robot_id)  # type: ignore[attr-defined]
    if robot is None or not robot.active:
        raise PermanentFailure("the chat robot was removed or switched off")
    url, body = chat.build_request(
        robot.kind,
        url=robot.url,
        secret=robot.secret,
        subject=notice.subject,
        text=notice.body,
        mentions=list(notice.mentions or []),
        now_ms=int(time.time() * 1000),
    )
    async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT) as client:
        response = await client.post(url, json=body)
    answer: Any = None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if chat.accepted(robot.kind, response.status_code, answer):
        return "webhook"
    detail = f"HTTP {response.status_code}: {response.text[:300]}"
    if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
        raise PermanentFailure(detail)
    raise OSError(detail)


async def _deliver_one(notice: Notice, settings: Settings, report: DeliveryReport) -> None:
    if notice.channel == Channel.EMAIL and not notice.address:
        # Many production and service staff have no email; chat robots reach them instead.
        await Notice.filter(id=notice.id).update(status=NoticeStatus.SKIPPED)
        report.skipped += 1
        return
    attempts = notice.attempts + 1
    try:
        if notice.channel == Channel.WEBHOOK:
            via = await _send_webhook(notice)
        else:
            via = await _send_email(notice, settings)
    except PermanentFailure as error:
        await Notice.filter(id=notice.id).update(
            status=NoticeStatus.FAILED, attempts=attempts, last_error=str(error)[:2000]
        )
        log.warning("notice %s refused for good: %s", notice.id, error)
        report.failed += 1
        return
    except (OSError, smtplib.SMTPException, httpx.HTTPError) as error:
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
        status=NoticeStatus.SENT, delivered_via=via, sent_at=_now(), attempts=attempts
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
