from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from server.auth import token_digest
from server.errors import Forbidden, Invalid, InvalidFields, Throttled, each_error
from server.org import service as org
from server.org.models import ApiToken, Department, Session, User
from tests import factories as f


async def test_duplicate_department_name_is_refused_on_the_name_field(db):
    await f.department("研发部")
    with pytest.raises(Invalid) as refused:
        await f.department("研发部")
    assert refused.value.field == "name"
    assert await Department.filter(name="研发部").count() == 1


async def test_only_an_admin_creates_departments_and_users(db):
    someone = await f.user()
    with pytest.raises(Forbidden):
        await org.create_department(f.actor(someone), name="法务部")
    with pytest.raises(Forbidden):
        await org.create_user(f.actor(someone), name="张三", email="z@example.com", department_id=1)
    assert not await Department.filter(name="法务部").exists()


async def test_bad_user_input_is_refused_field_by_field(db):
    with pytest.raises(InvalidFields) as refused:
        await org.create_user(
            f.system(), name="", email="not-an-email", mobile="abc", department_name="研发部"
        )
    assert {e.field for e in each_error(refused.value)} == {"name", "email", "mobile"}
    assert await User.all().count() == 0
    assert await Department.all().count() == 0


async def test_a_user_may_have_only_a_mobile_number_and_the_department_is_made(db):
    worker = await org.create_user(
        f.system(), name="吴刚", mobile="13800000032", department_name="生产部"
    )
    assert worker.email is None
    assert (await Department.get(id=worker.department_id)).name == "生产部"
    with pytest.raises(Invalid) as duplicate:
        await org.create_user(f.system(), name="吴刚2", mobile="13800000032", department_id=1)
    assert duplicate.value.field == "mobile"


async def test_login_by_email_or_mobile_and_throttling_after_failures(db):
    settings = replace(db, login_max_failures=3)
    u = await f.user(email="pm@example.com", mobile="13900000000")
    assert (
        await org.authenticate(settings, identifier="PM@example.com", password=f.PASSWORD)
    ).id == u.id
    assert (
        await org.authenticate(settings, identifier="13900000000", password=f.PASSWORD)
    ).id == u.id
    for _ in range(3):
        with pytest.raises(Invalid) as wrong:
            await org.authenticate(settings, identifier="pm@example.com", password="guess")
        assert wrong.value.field == "password"
    with pytest.raises(Throttled):
        await org.authenticate(settings, identifier="pm@example.com", password=f.PASSWORD)


async def test_sessions_are_stored_hashed_and_logout_revokes(db):
    u = await f.user()
    token = await org.start_session(db, user=u)
    assert not await Session.filter(token_hash=token).exists()
    assert await Session.filter(token_hash=token_digest(token)).exists()
    assert (await org.user_for_session(token)).id == u.id
    await org.end_session(token)
    assert await org.user_for_session(token) is None


async def test_api_tokens_are_shown_once_looked_up_by_hash_and_revocable(db):
    u = await f.user()
    issued = await org.create_api_token(f.actor(u), name="手机客户端", expires_days=30)
    row = await ApiToken.get(id=issued.token.id)
    assert row.token_hash == token_digest(issued.secret) and issued.secret not in row.token_hash
    assert (await org.user_for_api_token(issued.secret)).id == u.id
    assert await org.user_for_api_token(issued.secret + "x") is None
    await org.revoke_api_token(f.actor(u), token_id=row.id)
    assert await org.user_for_api_token(issued.secret) is None


async def test_expired_tokens_and_deactivated_users_are_refused(db):
    u = await f.user()
    issued = await org.create_api_token(f.actor(u), name="cli")
    await ApiToken.filter(id=issued.token.id).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert await org.user_for_api_token(issued.secret) is None
    other = await org.create_api_token(f.actor(u), name="cli2")
    session = await org.start_session(db, user=u)
    await org.set_user_active(f.system(), user_id=u.id, active=False, version=u.version)
    assert await org.user_for_api_token(other.secret) is None
    assert await org.user_for_session(session) is None
    with pytest.raises(Invalid):
        await org.authenticate(db, identifier=u.email, password=f.PASSWORD)


async def test_someone_elses_token_cannot_be_revoked(db):
    owner = await f.user()
    stranger = await f.user()
    issued = await org.create_api_token(f.actor(owner), name="mine")
    with pytest.raises(org.NotFound):
        await org.revoke_api_token(f.actor(stranger), token_id=issued.token.id)
    assert await org.user_for_api_token(issued.secret) is not None


async def test_language_choice_is_remembered(db):
    u = await f.user()
    me = f.actor(u)
    await org.set_language(me, language="en-US")
    assert (await User.get(id=u.id)).language == "en"
    with pytest.raises(Invalid):
        await org.set_language(me, language="klingon")
