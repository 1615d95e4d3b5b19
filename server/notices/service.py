"""The outbox: notices are rows written with their cause, delivered later by a worker.

Delivery is at-least-once with one known window: a worker killed after the SMTP server (or
chat robot) accepted a message but before the row was marked SENT leaves it SENDING. The
next delivery run on the same host releases it at once (its claimer's process is gone), one
on another host after CLAIM_TIMEOUT, and it is sent again with the same Message-ID, which
mail systems use to drop the copy. Everything else (retries, two workers, a crash before
sending) delivers each notice exactly once. A notice that cannot be built at all is FAILED
with the error, never retried forever and never left SENDING.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import smtplib
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import httpx
from jinja2 import TemplateNotFound
from tortoise.exceptions import OperationalError

from server import clock
from server.auth import Action, Actor, authorize
from server.db import with_related
from server.errors import Invalid, NotFound
from server.notices import chat, preferences
from server.notices.models import Channel, ChatRobot, Notice, NoticeStatus, RobotKind
from server.org.models import User
from server.settings import Settings, get_settings
from server.templating import render

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Longer than one delivery can take (SMTP's 30 s per step: connect, TLS, login, send).
CLAIM_TIMEOUT = timedelta(minutes=3)
HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def claimer() -> str:
    """Names this process in the claims it takes: host, process-id namespace and process id.
    Containers sharing a host name have namespaces of their own, whose process ids mean
    nothing here."""
    return f"{socket.gethostname()[:32]}:{_pid_namespace()}:{os.getpid()}"


@lru_cache(maxsize=1)
def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid").strip("pid:[]")[:16]
    except OSError:
        return "-"


def _process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def one_line(text: str) -> str:
    """A header's text: line breaks and other control characters become single spaces."""
    return HEADER_UNSAFE.sub(" ", text).strip()


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
    attachments: list[dict[str, str]] | None = None,
    status: NoticeStatus = NoticeStatus.PENDING,
    not_before: datetime | None = None,
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
                subject=one_line(subject)[:255],
                body=body,
                html_body=html_body,
                robot=robot,
                mentions=mentions or [],
                attachments=attachments or [],
                project_id=project_id,
                status=status,
                next_attempt_at=not_before or clock.now(),
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
    attachments: list[dict[str, str]] | None = None,
    **context: object,
) -> None:
    """Render `templates/emails/<template>.txt` in the recipient's language and queue it.

    The template's first line is the subject, the rest the body. When
    `emails/<template>.html` exists too, the mail carries that as its HTML part. The
    recipient's preferences decide whether it goes, waits for their daily digest, or waits
    out their quiet hours.
    """
    plan = preferences.plan_mail(recipient, template, clock.now())
    if not plan.send:
        return
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
        attachments=attachments,
        status=NoticeStatus.HELD if plan.held else NoticeStatus.PENDING,
        not_before=plan.not_before,
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
    # Stable per notice: a copy sent again after a crash is recognised and dropped.
    message["Message-ID"] = message_id(notice)
    message.set_content(notice.body)
    if notice.html_body:
        message.add_alternative(notice.html_body, subtype="html")
    for attachment in notice.attachments:
        maintype, _, subtype = attachment["content_type"].partition("/")
        message.add_attachment(
            attachment["content"].encode(),
            maintype=maintype,
            subtype=subtype.split(";")[0],
            filename=attachment["filename"],
        )
    port = url.port or (465 if url.scheme == "smtps" else 25)
    connection_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with connection_class(url.hostname or "localhost", port, timeout=30) as smtp:
        if url.scheme == "smtp+starttls":
            smtp.starttls()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)


def message_id(notice: Notice) -> str:
    """The same for every attempt at one notice, different for every notice."""
    key = hashlib.sha256(notice.dedup_key.encode()).hexdigest()[:16]
    domain = urlparse(get_settings().base_url).hostname or "xietong"
    return f"<notice-{notice.id}.{key}@{domain}>"


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


async def _claim(notice_id: int) -> bool:
    """Take a notice for this worker only; a second worker's claim updates nothing."""
    claimed = await Notice.filter(id=notice_id, status=NoticeStatus.PENDING).update(
        status=NoticeStatus.SENDING, claimed_at=clock.now(), claimed_by=claimer()
    )
    return claimed == 1


async def release_dead_claims() -> int:
    """Give back notices left SENDING by a process that is gone: at once for this host's
    processes, after CLAIM_TIMEOUT for other hosts'."""
    released = await Notice.filter(
        status=NoticeStatus.SENDING, claimed_at__lt=clock.now() - CLAIM_TIMEOUT
    ).update(status=NoticeStatus.PENDING)
    here = claimer().rpartition(":")[0]
    mine = await Notice.filter(
        status=NoticeStatus.SENDING, claimed_by__startswith=f"{here}:"
    ).values_list("id", "claimed_by")
    dead = [
        notice_id
        for notice_id, by in mine
        if str(by).rpartition(":")[2].isdigit()
        and _process_is_gone(int(str(by).rpartition(":")[2]))
    ]
    if dead:
        released += await Notice.filter(id__in=dead, status=NoticeStatus.SENDING).update(
            status=NoticeStatus.PENDING
        )
    return released


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


async def _send_webhook(notice: Notice, settings: Settings) -> str:
    robot = await ChatRobot.get_or_none(id=notice.robot_id)
    if robot is None or not robot.active:
        raise PermanentFailure("the chat robot was removed or switched off")
    if robot.kind == RobotKind.LOCAL:
        return "mailbox"  # the demo's group chat: read on the mailbox page
    url, body = chat.build_request(
        robot.kind,
        url=robot.url,
        secret=robot.secret,
        subject=notice.subject,
        text=notice.body,
        mentions=list(notice.mentions or []),
        now_ms=int(time.time() * 1000),
    )
    async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds) as client:
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
            via = await _send_webhook(notice, settings)
        else:
            via = await _send_email(notice, settings)
    except PermanentFailure as error:
        await _fail(notice, attempts, str(error))
        log.warning("notice %s refused for good: %s", notice.id, error)
        report.failed += 1
        return
    except (OSError, smtplib.SMTPException, httpx.HTTPError, OperationalError) as error:
        final = attempts >= MAX_ATTEMPTS
        await Notice.filter(id=notice.id).update(
            status=NoticeStatus.FAILED if final else NoticeStatus.PENDING,
            attempts=attempts,
            next_attempt_at=clock.now() + _backoff(attempts),
            last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        log.warning("notice %s not delivered (attempt %s): %s", notice.id, attempts, error)
        if final:
            report.failed += 1
        else:
            report.retried += 1
        return
    except Exception as error:  # noqa: BLE001 - a notice that cannot be built fails alone
        # Retrying cannot help a message that cannot be built; the outbox page shows why.
        await _fail(notice, attempts, f"{type(error).__name__}: {error}")
        log.exception("notice %s could not be built", notice.id)
        report.failed += 1
        return
    await Notice.filter(id=notice.id).update(
        status=NoticeStatus.SENT, delivered_via=via, sent_at=clock.now(), attempts=attempts
    )
    report.sent += 1


async def _fail(notice: Notice, attempts: int, error: str) -> None:
    await Notice.filter(id=notice.id).update(
        status=NoticeStatus.FAILED, attempts=attempts, last_error=error[:2000]
    )


async def deliver_pending(
    settings: Settings, *, batch: int = 100, budget: timedelta = timedelta(seconds=50)
) -> DeliveryReport:
    """Deliver due notices once each, batch after batch until none is due or the time budget
    is spent (the next run goes on); release claims a crashed worker left behind."""
    report = DeliveryReport()
    await release_dead_claims()
    started = clock.now()
    after_id = 0
    while clock.now() - started < budget:
        due = (
            await Notice.filter(
                status=NoticeStatus.PENDING, next_attempt_at__lte=started, id__gt=after_id
            )
            .order_by("id")
            .limit(batch)
        )
        if not due:
            break
        for notice in due:
            after_id = notice.id
            if await _claim(notice.id):
                await _deliver_one(notice, settings, report)
    return report


async def list_mailbox(actor: Actor, *, limit: int = 100) -> list[Notice]:
    """Mail kept in the app when no SMTP server is configured (admins only)."""
    await authorize(actor, Action.ADMINISTER)
    return (
        await with_related(Notice.filter(delivered_via="mailbox"), "recipient")
        .order_by("-id")
        .limit(limit)
    )


async def list_outbox(actor: Actor, *, status: str | None = None, limit: int = 200) -> list[Notice]:
    """Every outgoing notice with its delivery state; failures stay here until retried."""
    await authorize(actor, Action.ADMINISTER)
    query = Notice.all()
    if status is not None and status in NoticeStatus.__members__:
        query = query.filter(status=NoticeStatus(status))
    return await with_related(query, "recipient", "robot").order_by("-id").limit(limit)


async def count_by_status(actor: Actor) -> dict[str, int]:
    await authorize(actor, Action.ADMINISTER)
    counts = {status.value: 0 for status in NoticeStatus}
    for status in NoticeStatus:
        counts[status.value] = await Notice.filter(status=status).count()
    return counts


async def retry_notice(actor: Actor, *, notice_id: int) -> Notice:
    """Send a failed notice again (after the address or robot was fixed)."""
    await authorize(actor, Action.ADMINISTER)
    notice = await Notice.get_or_none(id=notice_id)
    if notice is None:
        raise NotFound("No such notice.", field="noticeId")
    if notice.status != NoticeStatus.FAILED:
        raise Invalid("Only a failed notice can be sent again.", field="noticeId")
    await Notice.filter(id=notice.id, status=NoticeStatus.FAILED).update(
        status=NoticeStatus.PENDING, next_attempt_at=clock.now(), attempts=0
    )
    return await Notice.get(id=notice.id)
