"""Password guessing backs off per (login, address) and per address, counted before the
password is checked; nobody can lock another person out; timing does not tell who exists."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import replace

import pytest

from server.errors import Invalid, Throttled
from server.org import credentials
from server.org import service as org
from server.org.models import LoginThrottle
from tests import factories as f


async def attempt(settings, identifier, password, address):
    try:
        await org.authenticate(
            settings, identifier=identifier, password=password, client_address=address
        )
    except Invalid:
        return "checked"
    except Throttled:
        return "throttled"
    return "ok"


async def test_a_burst_of_thirty_parallel_guesses_checks_at_most_five(db):
    await f.user(email="pm@example.com")
    outcomes = await asyncio.gather(
        *(attempt(db, "pm@example.com", f"guess-{i}", "203.0.113.7") for i in range(30))
    )
    assert outcomes.count("checked") == 5
    assert outcomes.count("throttled") == 25
    # The right password from the guessing address waits too...
    assert await attempt(db, "pm@example.com", f.PASSWORD, "203.0.113.7") == "throttled"
    # ...but the owner, elsewhere, is not locked out.
    assert await attempt(db, "pm@example.com", f.PASSWORD, "198.51.100.20") == "ok"


async def test_the_wait_doubles_and_ends_and_a_success_starts_the_count_again(db):
    settings = replace(db, login_max_failures=2)
    await f.user(email="pm@example.com")
    for _ in range(2):
        assert await attempt(settings, "pm@example.com", "nope", "a") == "checked"
    with pytest.raises(Throttled) as first:
        await org.authenticate(
            settings, identifier="pm@example.com", password="x", client_address="a"
        )
    assert first.value.params["seconds"] <= 31
    row = await LoginThrottle.get(key="login:pm@example.com|a")
    # The back-off passes (as if 30 s went by): one more check is allowed, then a longer wait.
    await LoginThrottle.filter(id=row.id).update(next_allowed_at=row.last_failure_at)
    assert await attempt(settings, "pm@example.com", "nope", "a") == "checked"
    row = await LoginThrottle.get(key="login:pm@example.com|a")
    assert (row.next_allowed_at - row.last_failure_at).total_seconds() == 60
    await LoginThrottle.filter(id=row.id).update(next_allowed_at=row.last_failure_at)
    assert await attempt(settings, "pm@example.com", f.PASSWORD, "a") == "ok"
    assert not await LoginThrottle.filter(key="login:pm@example.com|a").exists()


async def test_one_address_guessing_many_logins_is_throttled_too(db):
    settings = replace(db, login_max_failures_per_address=10)
    outcomes = [
        await attempt(settings, f"user{i}@example.com", "guess", "192.0.2.55") for i in range(12)
    ]
    assert outcomes[:10] == ["checked"] * 10
    assert outcomes[10:] == ["throttled"] * 2
    assert await attempt(settings, "user99@example.com", "guess", "192.0.2.56") == "checked"


async def test_unknown_and_known_logins_take_the_same_time(db):
    await f.user(email="known@example.com")

    async def timed(identifier: str, n: int) -> float:
        started = time.perf_counter()
        await attempt(db, identifier, "wrong-password", f"198.18.{n // 250}.{n % 250}")
        return time.perf_counter() - started

    known, unknown = [], []
    for n in range(50):
        known.append(await timed("known@example.com", 2 * n))
        unknown.append(await timed("nobody@example.com", 2 * n + 1))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.8 <= ratio <= 1.25, (statistics.median(known), statistics.median(unknown))


async def test_feed_links_rotate_and_password_changes_end_other_sessions(db):
    u = await f.user(email="liaison@example.com")
    before = credentials.feed_token(u)
    assert (await credentials.user_for_feed_token(before)).id == u.id
    after = await credentials.rotate_feed_token(f.actor(u))
    assert after != before
    assert await credentials.user_for_feed_token(before) is None
    assert (await credentials.user_for_feed_token(after)).id == u.id

    here = await org.start_session(db, user=u)
    elsewhere = await org.start_session(db, user=u)
    with pytest.raises(Invalid) as wrong:
        await credentials.change_password(f.actor(u), current="guess", new="new-password-1")
    assert wrong.value.field == "currentPassword"
    with pytest.raises(Invalid) as short:
        await credentials.change_password(f.actor(u), current=f.PASSWORD, new="short")
    assert short.value.field == "newPassword"
    await credentials.change_password(
        f.actor(u), current=f.PASSWORD, new="new-password-1", keep_session=here
    )
    assert (await org.user_for_session(here)).id == u.id
    assert await org.user_for_session(elsewhere) is None
    assert await attempt(db, "liaison@example.com", "new-password-1", "x") == "ok"
    assert await attempt(db, "liaison@example.com", f.PASSWORD, "x") == "checked"


async def test_logins_that_succeed_do_not_use_up_the_address_limit(db):
    settings = replace(db, login_max_failures_per_address=3)
    await f.user(email="office@example.com")
    outcomes = [
        await attempt(settings, "office@example.com", f.PASSWORD, "198.51.100.1") for _ in range(6)
    ]
    assert outcomes == ["ok"] * 6


async def test_a_login_name_with_control_characters_is_refused_without_touching_the_database(db):
    assert await attempt(db, "pm\x00@example.com", "x", "a") == "checked"
    assert await LoginThrottle.all().count() == 0


async def test_guessing_the_current_password_when_changing_it_backs_off(db):
    u = await f.user(email="stolen@example.com")
    for _ in range(5):
        with pytest.raises(Invalid):
            await credentials.change_password(f.actor(u), current="guess", new="new-password-1")
    with pytest.raises(Throttled):
        await credentials.change_password(f.actor(u), current=f.PASSWORD, new="new-password-1")
