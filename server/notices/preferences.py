"""What each person wants to hear and how: kinds of notice by mail and by an @ in group
chats, one daily digest instead of single mails, and quiet hours during which mail waits.
Escalations are the ladder's promise and always reach their people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server.audit.service import record
from server.auth import Actor
from server.errors import Forbidden, stale
from server.notices.models import NoticeKind
from server.org.models import User
from server.validation import Checks

TEMPLATE_KINDS: dict[str, NoticeKind] = {
    "mention": NoticeKind.MENTIONS,
    "signature_requested": NoticeKind.SIGN_OFFS,
    "signature_reminder": NoticeKind.SIGN_OFFS,
    "document_outcome": NoticeKind.SIGN_OFFS,
    "change_approval_requested": NoticeKind.SIGN_OFFS,
    "change_waiting": NoticeKind.ESCALATIONS,
    "meeting_invitation": NoticeKind.MEETINGS,
    "report_reminder": NoticeKind.MEETINGS,
    "minutes_published": NoticeKind.MEETINGS,
    "member_added": NoticeKind.TEAM,
    "daily_digest": NoticeKind.DIGEST,
    "escalation": NoticeKind.ESCALATIONS,
    "gap_approval": NoticeKind.ESCALATIONS,
    "minutes_late": NoticeKind.ESCALATIONS,
    "integrity_alert": NoticeKind.ESCALATIONS,
    "notice_digest": NoticeKind.DIGEST,
}
ALWAYS_SENT = frozenset({NoticeKind.ESCALATIONS})
# Kinds a daily digest may hold back; invitations carry their calendar file and go at once.
DIGESTIBLE_TEMPLATES = frozenset(
    {"mention", "signature_reminder", "document_outcome", "minutes_published", "member_added"}
)
# Kinds that @ people in group chats.
CHAT_KINDS = (NoticeKind.MENTIONS, NoticeKind.ESCALATIONS)


@dataclass(frozen=True)
class MailPlan:
    send: bool
    held: bool
    not_before: datetime


def plan_mail(user: User, template: str, now: datetime) -> MailPlan:
    """Whether a mail of this template goes to this person, waits for their digest, or waits
    out their quiet hours. Pure."""
    kind = TEMPLATE_KINDS.get(template, NoticeKind.ESCALATIONS)
    if kind not in ALWAYS_SENT and kind.value in (user.email_off or []):
        return MailPlan(send=False, held=False, not_before=now)
    held = bool(user.digest_mode) and template in DIGESTIBLE_TEMPLATES
    return MailPlan(send=True, held=held, not_before=quiet_end(user, now) or now)


def wants_chat(user: User, kind: NoticeKind) -> bool:
    return kind in ALWAYS_SENT or kind.value not in (user.chat_off or [])


def quiet_end(user: User, now: datetime) -> datetime | None:
    """The instant the person's quiet hours end, when `now` falls inside them. A window may
    run over midnight (22 → 7). Pure."""
    start, end = user.quiet_from, user.quiet_until
    if start is None or end is None or start == end:
        return None
    zone = ZoneInfo(user.time_zone or "Asia/Shanghai")
    local = now.astimezone(zone)
    hour = local.hour
    inside = start <= hour < end if start < end else hour >= start or hour < end
    if not inside:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    return datetime.combine(day, time(end), zone)


@dataclass
class PreferencesInput:
    email_off: list[str]
    chat_off: list[str]
    digest_mode: bool
    quiet_from: int | str | None = None
    quiet_until: int | str | None = None


async def set_preferences(actor: Actor, *, version: int, data: PreferencesInput) -> User:
    """A person's own choices; nobody sets them for someone else."""
    if actor.user is None:
        raise Forbidden("You may not do this.")
    checks = Checks()
    email_off = _kinds(checks, "emailOff", data.email_off)
    chat_off = _kinds(checks, "chatOff", data.chat_off)
    quiet = [
        None if value in (None, "") else checks.whole_number(name, value, low=0, high=23)
        for name, value in (("quietFrom", data.quiet_from), ("quietUntil", data.quiet_until))
    ]
    if (quiet[0] is None) != (quiet[1] is None):
        checks.fail("quietUntil", "Give both ends of the quiet hours, or neither.")
    checks.done()
    async with in_transaction():
        user = await User.filter(id=actor.user.id).select_for_update().get()
        if user.version != version:
            raise stale(user.version)
        before = _snapshot(user)
        user.email_off, user.chat_off = email_off, chat_off
        user.digest_mode = data.digest_mode
        user.quiet_from, user.quiet_until = quiet
        user.version += 1
        await user.save(
            update_fields=[
                "email_off",
                "chat_off",
                "digest_mode",
                "quiet_from",
                "quiet_until",
                "version",
            ]
        )
        await record(
            actor,
            action="user.notice_preferences",
            object_type="user",
            object_id=user.id,
            summary=user.name,
            before=before,
            after=_snapshot(user),
        )
    return user


def _kinds(checks: Checks, field_name: str, values: list[str]) -> list[str]:
    chosen = []
    for value in values:
        try:
            kind = NoticeKind(value)
        except ValueError:
            checks.fail(field_name, "Choose one of: %(choices)s.", choices=", ".join(NoticeKind))
            continue
        if kind in ALWAYS_SENT:
            checks.fail(field_name, "Escalations always reach the people they name.")
        elif kind.value not in chosen:
            chosen.append(kind.value)
    return sorted(chosen)


def _snapshot(user: User) -> dict[str, object]:
    return {
        "email_off": list(user.email_off or []),
        "chat_off": list(user.chat_off or []),
        "digest_mode": user.digest_mode,
        "quiet_from": user.quiet_from,
        "quiet_until": user.quiet_until,
    }
