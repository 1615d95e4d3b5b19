"""A user's own secrets: changing a password, an administrator's reset, and calendar feed
links that the user can rotate."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from tortoise.transactions import in_transaction

from server import clock
from server.audit.service import record
from server.auth import Action, Actor, authorize, hash_password, token_digest, verify_password
from server.errors import Invalid, NotFound, stale
from server.org.models import LoginThrottle, Session, User
from server.org.service import ThrottleRule, password_hash_of, reserve_attempt
from server.settings import get_settings
from server.validation import Checks


def _checked_password(field: str, password: str) -> None:
    checks = Checks()
    checks.password(field, password)
    checks.done()


async def change_password(
    actor: Actor, *, current: str, new: str, keep_session: str | None = None
) -> User:
    """The user's own change: the current password proves it is them. Every other session
    ends, so a stolen session dies with the old password."""
    if actor.user is None:
        raise NotFound("No such user.", field="userId")
    _checked_password("newPassword", new)
    # A stolen session must not guess the current password without limit either.
    throttle = ThrottleRule(f"password:{actor.user.id}", get_settings().login_max_failures)
    await reserve_attempt(get_settings(), [throttle])
    async with in_transaction():
        user = await User.filter(id=actor.user.id).select_for_update().get()
        if not verify_password(await password_hash_of(user.id), current):
            raise Invalid("The current password is not right.", field="currentPassword")
        await LoginThrottle.filter(key=throttle.key).delete()
        user.version += 1
        await User.filter(id=user.id).update(password_hash=hash_password(new), version=user.version)
        sessions = Session.filter(user_id=user.id, revoked_at__isnull=True)
        if keep_session:
            sessions = sessions.exclude(token_hash=token_digest(keep_session))
        await sessions.update(revoked_at=clock.now())
        await record(
            actor,
            action="user.password",
            object_type="user",
            object_id=user.id,
            summary=user.name,
        )
    return user


async def reset_password(actor: Actor, *, user_id: int, new: str, version: int) -> User:
    """An administrator sets a new password (the user forgot theirs); all of the user's
    sessions end."""
    await authorize(actor, Action.ADMINISTER)
    _checked_password("newPassword", new)
    async with in_transaction():
        user = await User.filter(id=user_id).select_for_update().get_or_none()
        if user is None:
            raise NotFound("No such user.", field="userId")
        if user.version != version:
            raise stale(user.version)
        user.version += 1
        await User.filter(id=user.id).update(password_hash=hash_password(new), version=user.version)
        await Session.filter(user_id=user.id, revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )
        await record(
            actor,
            action="user.password_reset",
            object_type="user",
            object_id=user.id,
            summary=user.name,
        )
    return user


# --- calendar feed links -------------------------------------------------------------------


def feed_token(user: User) -> str:
    """A token for calendar apps that cannot log in: it reads feeds only, nothing else.
    Derived from the server's secret and the user's own feed secret, so rotating that secret
    ends every feed link handed out before."""
    key = get_settings().secret_key.encode()
    mac = hmac.new(key, f"feed:{user.id}:{user.feed_secret}".encode(), hashlib.sha256)
    return f"{user.id}.{mac.hexdigest()[:40]}"


async def user_for_feed_token(token: str | None) -> User | None:
    user_part, _, _ = (token or "").partition(".")
    if not user_part.isdigit():
        return None
    user = await User.get_or_none(id=int(user_part))
    if user is None or not user.is_active:
        return None
    return user if hmac.compare_digest(feed_token(user), token or "") else None


async def rotate_feed_token(actor: Actor) -> str:
    """A new feed link for the actor; the old one stops working at once."""
    if actor.user is None:
        raise NotFound("No such user.", field="userId")
    async with in_transaction():
        user = await User.filter(id=actor.user.id).select_for_update().get()
        user.feed_secret = secrets.token_urlsafe(24)
        await user.save(update_fields=["feed_secret"])
        await record(
            actor, action="user.feed_rotate", object_type="user", object_id=user.id, summary=""
        )
    actor.user.feed_secret = user.feed_secret
    return feed_token(user)
