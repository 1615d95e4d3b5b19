"""Departments, users, logins, sessions and API tokens."""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from tortoise.expressions import F
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from server import clock
from server.audit.service import record, snapshot
from server.auth import (
    Action,
    Actor,
    authorize,
    hash_password,
    new_secret_token,
    token_digest,
    verify_password,
)
from server.db import Statement, handling_secrets, id_list, readable_columns, with_related
from server.errors import Invalid, NotFound, Throttled, stale
from server.i18n import normalize_language
from server.org.models import (
    ApiToken,
    Department,
    LoginThrottle,
    Session,
    User,
)
from server.projects.models import Project
from server.settings import Settings
from server.validation import CONTROL_CHARACTERS, Checks

USER_FIELDS = [
    "name",
    "email",
    "mobile",
    "department_id",
    "position",
    "heads_department",
    "is_admin",
    "is_active",
]


# --- departments ---------------------------------------------------------------------------


async def list_departments(actor: Actor) -> list[Department]:
    """The department tree is company-wide and every signed-in user may read it."""
    return await Department.all().order_by("name")


async def get_department(actor: Actor, department_id: int) -> Department:
    department = await Department.get_or_none(id=department_id)
    if department is None:
        raise NotFound("No such department.", field="departmentId")
    return department


async def create_department(actor: Actor, *, name: str, parent_id: int | None = None) -> Department:
    await authorize(actor, Action.ADMINISTER)
    checks = Checks()
    name = checks.text("name", name, max_length=100)
    checks.done()
    async with in_transaction():
        if await Department.filter(name=name).exists():
            raise Invalid("A department named %(name)s already exists.", field="name", name=name)
        if parent_id is not None and not await Department.filter(id=parent_id).exists():
            raise NotFound("No such department.", field="parentId")
        department = await Department.create(name=name, parent_id=parent_id)
        await record(
            actor,
            action="department.create",
            object_type="department",
            object_id=department.id,
            summary=name,
            after=snapshot(department, ["name", "parent_id"]),
        )
    return department


# --- users ---------------------------------------------------------------------------------


async def list_users(actor: Actor, *, include_inactive: bool = False) -> list[User]:
    query = with_related(User.all(), "department").order_by("name")
    if not include_inactive:
        query = query.filter(is_active=True)
    return await query


async def get_user(actor: Actor, user_id: int) -> User:
    user = await with_related(User.filter(id=user_id), "department").first()
    if user is None:
        raise NotFound("No such user.", field="userId")
    return user


async def create_user(
    actor: Actor,
    *,
    name: str,
    department_id: int | None = None,
    department_name: str | None = None,
    email: str | None = None,
    mobile: str | None = None,
    password: str | None = None,
    position: str = "",
    heads_department: bool = False,
    is_admin: bool = False,
    language: str = "zh-CN",
    time_zone: str = "Asia/Shanghai",
) -> User:
    """Create a user. A department given by name is created when it does not exist yet."""
    await authorize(actor, Action.ADMINISTER)
    checks = Checks()
    name = checks.text("name", name, max_length=100)
    email = checks.email("email", email)
    mobile = checks.mobile("mobile", mobile)
    position = checks.text("position", position, required=False, max_length=100)
    if not email and not mobile:
        checks.fail("email", "Give an email address or a mobile number.")
    checks.password("password", password, required=False)
    if department_id is None and not (department_name or "").strip():
        checks.fail("departmentId", "This field is required.")
    checks.done()
    async with in_transaction():
        if email and await User.filter(email=email).exists():
            raise Invalid("A user with this email already exists.", field="email")
        if mobile and await User.filter(mobile=mobile).exists():
            raise Invalid("A user with this mobile number already exists.", field="mobile")
        if department_id is not None:
            department = await get_department(actor, department_id)
        else:
            department = await _department_named(actor, (department_name or "").strip())
        user = await User.create(
            name=name,
            email=email,
            mobile=mobile,
            department=department,
            position=position,
            heads_department=heads_department,
            password_hash=hash_password(password) if password else "",
            is_admin=is_admin,
            language=normalize_language(language) or "zh-CN",
            time_zone=time_zone,
        )
        await record(
            actor,
            action="user.create",
            object_type="user",
            object_id=user.id,
            summary=name,
            after=snapshot(user, USER_FIELDS),
        )
    return user


async def _department_named(actor: Actor, name: str) -> Department:
    department = await Department.get_or_none(name=name)
    if department is not None:
        return department
    department = await Department.create(name=name)
    await record(
        actor,
        action="department.create",
        object_type="department",
        object_id=department.id,
        summary=name,
        after={"name": name},
    )
    return department


async def set_user_active(actor: Actor, *, user_id: int, active: bool, version: int) -> User:
    """Users are deactivated, never deleted: their history stays theirs."""
    await authorize(actor, Action.ADMINISTER)
    async with in_transaction():
        user = await User.filter(id=user_id).select_for_update().get_or_none()
        if user is None:
            raise NotFound("No such user.", field="userId")
        if user.version != version:
            raise stale(user.version)
        if actor.user_id == user.id and not active:
            raise Invalid("You cannot deactivate yourself.", field="userId")
        before = snapshot(user, ["is_active"])
        user.is_active = active
        user.deactivated_at = None if active else clock.now()
        user.version += 1
        await user.save(update_fields=["is_active", "deactivated_at", "version"])
        if not active:
            await Session.filter(user_id=user.id, revoked_at__isnull=True).update(
                revoked_at=clock.now()
            )
            await ApiToken.filter(user_id=user.id, revoked_at__isnull=True).update(
                revoked_at=clock.now()
            )
        await record(
            actor,
            action="user.activate" if active else "user.deactivate",
            object_type="user",
            object_id=user.id,
            summary=user.name,
            before=before,
            after=snapshot(user, ["is_active"]),
        )
    return user


async def set_language(actor: Actor, *, language: str) -> User:
    """Remember the interface language the user chose."""
    chosen = normalize_language(language)
    if actor.user is None or chosen is None:
        raise Invalid("Unknown language.", field="language")
    async with in_transaction():
        await User.filter(id=actor.user.id).update(language=chosen)
        actor.user.language = chosen
        actor.language = chosen
    return actor.user


# --- passwords and sessions ----------------------------------------------------------------


@dataclass(frozen=True)
class ThrottleRule:
    key: str
    limit: int


def _back_off(settings: Settings, over: int) -> timedelta:
    """30 s after reaching the limit, doubling with each further failure, capped."""
    cap = timedelta(minutes=settings.login_lock_minutes)
    return min(timedelta(seconds=30 * 2 ** min(over, 16)), cap)


async def reserve_attempt(settings: Settings, rules: list[ThrottleRule]) -> None:
    """Count this attempt as a failure before the password is checked, one attempt at a
    time per key (the row is locked), so parallel guesses cannot all pass the check."""
    now = clock.now()
    quiet = timedelta(minutes=settings.login_lock_minutes)
    async with in_transaction():
        await LoginThrottle.bulk_create(
            [LoginThrottle(key=rule.key) for rule in rules], ignore_conflicts=True
        )
        rows = {
            row.key: row
            for row in await LoginThrottle.select_for_update().filter(
                key__in=[rule.key for rule in rules]
            )
        }
        for rule in rules:
            # A success elsewhere may have removed the row between the two statements.
            row = rows.get(rule.key) or await LoginThrottle.create(key=rule.key)
            rows[rule.key] = row
            if row.last_failure_at is not None and now - row.last_failure_at > quiet:
                row.failures = 0
            if row.failures >= rule.limit and row.next_allowed_at and now < row.next_allowed_at:
                seconds = int((row.next_allowed_at - now).total_seconds()) + 1
                raise Throttled(
                    "Too many failed attempts. Try again in %(seconds)s seconds.",
                    field="email",
                    seconds=seconds,
                )
        for rule in rules:
            row = rows[rule.key]
            row.failures += 1
            row.last_failure_at = now
            if row.failures >= rule.limit:
                row.next_allowed_at = now + _back_off(settings, row.failures - rule.limit)
            await row.save()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


async def password_hash_of(user_id: int) -> str:
    """The one read of a password hash: login and the password changes check against it."""
    with handling_secrets():  # past User's manager, which leaves the hash out
        query = QuerySet(User).filter(id=user_id)
        stored = await query.values_list("password_hash", flat=True)
    return str(stored[0]) if stored else ""


async def authenticate(
    settings: Settings, *, identifier: str, password: str, client_address: str = ""
) -> User:
    """Check a login by email or mobile. Failures back off per (login, address) and per
    address; an unknown login costs the same time as a known one."""
    identifier = (identifier or "").strip().lower()[:254]
    if CONTROL_CHARACTERS.search(identifier):
        raise Invalid("Wrong email or password.", field="password")
    address = CONTROL_CHARACTERS.sub("", client_address or "unknown")[:64]
    await reserve_attempt(
        settings,
        [
            ThrottleRule(f"login:{identifier}|{address}", settings.login_max_failures),
            ThrottleRule(f"address:{address}", settings.login_max_failures_per_address),
        ],
    )
    user = await User.get_or_none(email=identifier) or await User.get_or_none(mobile=identifier)
    if user is None or not user.is_active:
        # The same work as a real check, so the answer's timing does not tell who exists.
        verify_password(_dummy_hash(), password)
        raise Invalid("Wrong email or password.", field="password")
    if not verify_password(await password_hash_of(user.id), password):
        raise Invalid("Wrong email or password.", field="password")
    # The pair's count starts again. The address's loses only this attempt's count: one's
    # own account must not reset the limit on guessing others', nor an office behind one
    # address lock itself out by logging in.
    async with in_transaction():
        await LoginThrottle.filter(key=f"login:{identifier}|{address}").delete()
        await LoginThrottle.filter(key=f"address:{address}", failures__gt=0).update(
            failures=F("failures") - 1
        )
    return user


async def start_session(settings: Settings, *, user: User) -> str:
    """Open a session and return the cookie value; only its hash is stored."""
    token = new_secret_token("xs")
    async with in_transaction():
        await Session.create(
            token_hash=token_digest(token),
            user=user,
            expires_at=clock.now() + timedelta(days=settings.session_days),
        )
    return token


async def user_for_session(token: str | None) -> User | None:
    if not token:
        return None
    found = await _user_by_live_session().fetch(token_digest(token))
    if not found:
        return None
    user = found[0]
    expires_at = Session._meta.fields_map["expires_at"].to_python_value(
        user.session_expires_at  # type: ignore[attr-defined]
    )
    return user if expires_at > clock.now() else None


async def end_session(token: str | None) -> None:
    if token:
        await Session.filter(token_hash=token_digest(token), revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )


# --- API tokens ----------------------------------------------------------------------------


@dataclass
class IssuedToken:
    token: ApiToken
    secret: str


async def create_api_token(
    actor: Actor,
    *,
    name: str,
    expires_days: int | None = None,
    user_id: int | None = None,
    project_codes: Sequence[str] = (),
    read_only: bool = False,
) -> IssuedToken:
    """Issue a token for the actor (an admin may issue for another user). Shown once.

    `project_codes` limits the token to those projects (none: every project of its user);
    `read_only` lets it read and nothing else.
    """
    await authorize(actor, Action.MANAGE_TOKENS)
    owner_id = user_id or actor.user_id
    if owner_id != actor.user_id:
        await authorize(actor, Action.ADMINISTER)
    if owner_id is None:
        raise Invalid("No such user.", field="userId")
    checks = Checks()
    name = checks.text("name", name, max_length=100)
    if expires_days is not None:
        checks.whole_number("expiresDays", expires_days, low=1, high=3650)
    checks.done()
    secret = new_secret_token("xt")
    async with in_transaction():
        owner = await User.get_or_none(id=owner_id, is_active=True)
        if owner is None:
            raise NotFound("No such user.", field="userId")
        project_ids = await _token_projects(owner, project_codes)
        token = await ApiToken.create(
            user=owner,
            name=name,
            token_hash=token_digest(secret),
            prefix=secret[:10],
            expires_at=clock.now() + timedelta(days=expires_days) if expires_days else None,
            project_ids=project_ids,
            read_only=read_only,
        )
        await record(
            actor,
            action="token.create",
            object_type="api_token",
            object_id=token.id,
            summary=name,
            after={
                "name": name,
                "user_id": owner.id,
                "prefix": token.prefix,
                "project_ids": project_ids,
                "read_only": read_only,
            },
        )
    return IssuedToken(token=token, secret=secret)


async def _token_projects(owner: User, codes: Sequence[str]) -> list[int] | None:
    """The ids of the projects named, each one the owner may see; None when none is named."""
    wanted = sorted({code.strip().upper() for code in codes if code.strip()})
    if not wanted:
        return None
    found = Project.filter(code__in=wanted)
    if not owner.is_admin:
        found = found.filter(members__user_id=owner.id, members__left_at__isnull=True)
    rows = dict(await found.distinct().values_list("code", "id"))
    unknown = [code for code in wanted if code not in rows]
    if unknown:
        raise Invalid("No such project: %(codes)s.", field="projectCodes", codes=", ".join(unknown))
    return sorted(int(i) for i in rows.values())


@dataclass(frozen=True)
class TokenScope:
    projects: list[Project]
    read_only: bool


async def token_scopes(tokens: Sequence[ApiToken]) -> dict[int, TokenScope]:
    """Each token's projects (empty: all of its user's) and access, in one query."""
    ids = {int(i) for t in tokens for i in (t.project_ids or [])}
    by_id = {p.id: p for p in await Project.filter(id__in=sorted(ids)).order_by("code")}
    return {
        t.id: TokenScope(
            [by_id[int(i)] for i in (t.project_ids or []) if int(i) in by_id], t.read_only
        )
        for t in tokens
    }


async def list_api_tokens(actor: Actor) -> list[ApiToken]:
    return await ApiToken.filter(user_id=actor.user_id).order_by("-created_at")


async def revoke_api_token(actor: Actor, *, token_id: int) -> ApiToken:
    await authorize(actor, Action.MANAGE_TOKENS)
    async with in_transaction():
        token = await ApiToken.get_or_none(id=token_id, user_id=actor.user_id)
        if token is None:
            raise NotFound("No such token.", field="tokenId")
        if token.revoked_at is None:
            token.revoked_at = clock.now()
            await token.save(update_fields=["revoked_at"])
            await record(
                actor,
                action="token.revoke",
                object_type="api_token",
                object_id=token.id,
                summary=token.name,
            )
    return token


async def actor_for_api_token(secret: str | None, language: str | None = None) -> Actor | None:
    """The actor a Bearer token speaks for, limited to the token's scope; None if not live."""
    user = await user_for_api_token(secret)
    if user is None:
        return None
    actor = Actor.for_user(user, language)
    scoped = user.token_project_ids  # type: ignore[attr-defined]
    if scoped is not None:
        ids = scoped if isinstance(scoped, list) else json.loads(scoped)
        actor.project_ids = frozenset(int(i) for i in ids) if ids is not None else None
    actor.read_only = bool(user.token_read_only)  # type: ignore[attr-defined]
    return actor


async def user_for_api_token(secret: str | None) -> User | None:
    if not secret:
        return None
    # Every API call starts here: one fixed statement instead of a QuerySet
    # (server.db.Statement).
    found = await _user_by_live_token().fetch(token_digest(secret))
    if not found:
        return None
    user = found[0]
    expires_at, last_used_at = (
        ApiToken._meta.fields_map[name].to_python_value(getattr(user, f"token_{name}"))
        for name in ("expires_at", "last_used_at")
    )
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        return None
    if last_used_at is None or now - last_used_at > timedelta(minutes=5):
        # Coarse on purpose: a write per request would serialize every API call on SQLite.
        await ApiToken.filter(id=user.token_id).update(last_used_at=now)  # type: ignore[attr-defined]
    return user


@functools.cache
def _user_by_live_token() -> Statement[User]:
    # Every API call starts here: one fixed statement (the columns are known once the
    # models are), never the password hash.
    return Statement(
        User,
        f"""
        SELECT {_user_select("u")}, t.id AS token_id, t.expires_at AS token_expires_at,
               t.last_used_at AS token_last_used_at, t.project_ids AS token_project_ids,
               t.read_only AS token_read_only
        FROM api_token t JOIN app_user u ON u.id = t.user_id
        WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.is_active
        """,  # noqa: S608 - column names from the model, values bound
        extra=[
            "token_id",
            "token_expires_at",
            "token_last_used_at",
            "token_project_ids",
            "token_read_only",
        ],
    )


@functools.cache
def _user_by_live_session() -> Statement[User]:
    # Every page starts here.
    return Statement(
        User,
        f"""
        SELECT {_user_select("u")}, s.expires_at AS session_expires_at
        FROM session s JOIN app_user u ON u.id = s.user_id
        WHERE s.token_hash = ? AND s.revoked_at IS NULL AND u.is_active
        """,  # noqa: S608 - column names from the model, values bound
        extra=["session_expires_at"],
    )


@functools.cache
def _users_by_ids() -> Statement[User]:
    # Owners, authors and members of every list the API pages through.
    columns = _user_select("u")
    return Statement(
        User,
        f"SELECT {columns} FROM app_user u WHERE u.id IN (SELECT value FROM json_each(?))"  # noqa: S608
        " ORDER BY u.id",
        postgres=f"SELECT {columns} FROM app_user u WHERE u.id = ANY(?::bigint[]) ORDER BY u.id",  # noqa: S608
    )


def _user_select(alias: str) -> str:
    return ", ".join(f'{alias}."{name}"' for name in readable_columns(User))


async def purge_sessions(*, keep_days: int = 30) -> int:
    """Forget sessions that ended long ago and old failed logins; returns rows removed."""
    cutoff = clock.now() - timedelta(days=keep_days)
    async with in_transaction():
        expired = await Session.filter(expires_at__lt=cutoff).delete()
        revoked = await Session.filter(revoked_at__lt=cutoff).delete()
        failures = await LoginThrottle.filter(
            last_failure_at__lt=clock.now() - timedelta(days=1)
        ).delete()
    return expired + revoked + failures


async def users_by_ids(ids: list[int]) -> dict[int, User]:
    """Users by id in one query, for DataLoaders (callers reached them through a visible row)."""
    return {u.id: u for u in await _users_by_ids().fetch(id_list(ids))}


async def departments_by_ids(ids: list[int]) -> dict[int, Department]:
    return {d.id: d for d in await Department.filter(id__in=ids)}
