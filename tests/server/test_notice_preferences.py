"""Notice preferences: kinds turned off by mail or chat (escalations always go), one daily
digest instead of single mails, quiet hours, the demo's local group chat, and the people no
notice can reach."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server import clock
from server.audit.models import AuditEntry
from server.discussion import service as discussion
from server.discussion.models import SubjectKind
from server.errors import Conflict, Invalid
from server.notices import digests, preferences
from server.notices import service as notices
from server.notices.models import Channel, Notice, NoticeStatus
from server.org.models import User
from server.planning import service as planning
from server.projects import chat_robots
from server.projects import service as projects
from server.projects.chat_robots import RobotInput
from server.projects.models import Role
from server.settings import get_settings
from tests import factories as f

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


@pytest.fixture(autouse=True)
def at_noon():
    with clock.travel_to(NOON):
        yield


# --- quiet hours, pure --------------------------------------------------------------------------


@given(
    start=st.integers(0, 23),
    end=st.integers(0, 23),
    minutes=st.integers(0, 7 * 24 * 60),
)
def test_quiet_hours_hold_mail_until_their_end_and_never_otherwise(start, end, minutes):
    user = User(quiet_from=start, quiet_until=end, time_zone="Asia/Shanghai")
    now = datetime(2026, 12, 7, tzinfo=SHANGHAI) + timedelta(minutes=minutes)
    until = preferences.quiet_end(user, now)
    hour = now.hour
    inside = start != end and (start <= hour < end if start < end else hour >= start or hour < end)
    if not inside:
        assert until is None
        return
    assert until is not None and until > now
    assert until.astimezone(SHANGHAI).hour == end and until.minute == 0
    assert until - now <= timedelta(hours=24)
    # Every hour between now and the end lies inside the window.
    probe = now.replace(minute=0) + timedelta(hours=1)
    while probe < until:
        h = probe.hour
        assert (start <= h < end) if start < end else (h >= start or h < end)
        probe += timedelta(hours=1)


def test_a_night_window_runs_over_midnight():
    user = User(quiet_from=22, quiet_until=7, time_zone="Asia/Shanghai")
    late = datetime(2026, 12, 7, 23, 30, tzinfo=SHANGHAI)
    assert preferences.quiet_end(user, late) == datetime(2026, 12, 8, 7, 0, tzinfo=SHANGHAI)
    early = datetime(2026, 12, 8, 6, 0, tzinfo=SHANGHAI)
    assert preferences.quiet_end(user, early) == datetime(2026, 12, 8, 7, 0, tzinfo=SHANGHAI)
    assert preferences.quiet_end(user, datetime(2026, 12, 8, 12, tzinfo=SHANGHAI)) is None


# --- setting them -------------------------------------------------------------------------------


async def test_a_person_sets_their_own_and_escalations_cannot_be_turned_off(db):
    person = await f.user(name="李娜")
    with pytest.raises(Invalid) as refused:
        await preferences.set_preferences(
            f.actor(person),
            version=1,
            data=preferences.PreferencesInput(
                email_off=["ESCALATIONS"], chat_off=[], digest_mode=False
            ),
        )
    assert refused.value.field == "emailOff"
    with pytest.raises(Invalid) as half:
        await preferences.set_preferences(
            f.actor(person),
            version=1,
            data=preferences.PreferencesInput(
                email_off=[], chat_off=[], digest_mode=False, quiet_from=22
            ),
        )
    assert half.value.field == "quietUntil"
    saved = await preferences.set_preferences(
        f.actor(person),
        version=1,
        data=preferences.PreferencesInput(
            email_off=["MEETINGS", "MENTIONS", "MENTIONS"],
            chat_off=["MENTIONS"],
            digest_mode=True,
            quiet_from="22",
            quiet_until="7",
        ),
    )
    assert saved.email_off == ["MEETINGS", "MENTIONS"] and saved.version == 2
    assert (saved.quiet_from, saved.quiet_until, saved.digest_mode) == (22, 7, True)
    with pytest.raises(Conflict):
        await preferences.set_preferences(
            f.actor(person),
            version=1,
            data=preferences.PreferencesInput(email_off=[], chat_off=[], digest_mode=False),
        )
    entry = await AuditEntry.get(action="user.notice_preferences")
    assert entry.before["digest_mode"] is False and entry.after["digest_mode"] is True


# --- what they change ---------------------------------------------------------------------------


async def team():
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd], code="PREF")
    liaison = await f.user(name="李娜", dept=rnd, mobile="13800000001")
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(name="模具开发", planned_start=date(2026, 12, 7), duration_days=3),
    )
    subject = await discussion.get_subject(f.actor(pm), kind=SubjectKind.TASK, subject_id=task.id)
    return project, pm, liaison, subject


async def choose(person: User, **fields) -> User:
    data = preferences.PreferencesInput(email_off=[], chat_off=[], digest_mode=False)
    for name, value in fields.items():
        setattr(data, name, value)
    return await preferences.set_preferences(f.actor(person), version=person.version, data=data)


async def test_mentions_turned_off_send_no_mail_and_no_at_but_escalations_still_go(db):
    project, pm, liaison, subject = await team()
    await chat_robots.add_robot(
        f.system(),
        RobotInput(kind="LOCAL", name="项目群", url="", project_code=project.code),
    )
    await choose(liaison, email_off=["MENTIONS"], chat_off=["MENTIONS"])
    await discussion.add_comment(f.actor(pm), subject=subject, body="@李娜 请看")
    assert not await Notice.filter(dedup_key__startswith="mention:").exists()
    liaison = await User.get(id=liaison.id)
    assert liaison.email_off == ["MENTIONS"]
    for template in ("escalation", "gap_approval", "minutes_late", "integrity_alert"):
        plan = preferences.plan_mail(liaison, template, clock.now())
        assert plan.send and not plan.held
    assert not preferences.plan_mail(liaison, "mention", clock.now()).send
    assert preferences.plan_mail(liaison, "minutes_published", clock.now()).send


async def test_a_daily_digest_holds_single_mails_and_sends_them_together(db):
    project, pm, liaison, subject = await team()
    await choose(liaison, digest_mode=True)
    await discussion.add_comment(f.actor(pm), subject=subject, body="@李娜 第一条")
    await discussion.add_comment(f.actor(pm), subject=subject, body="@李娜 第二条")
    held = await Notice.filter(recipient_id=liaison.id, status=NoticeStatus.HELD)
    assert len(held) == 2
    # Not at the digest hour: nothing moves. At 08:00 in Shanghai: one mail with both.
    assert await digests.queue_notice_digests(only_at_hour=8) == 0
    at_eight = datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
    assert await digests.queue_notice_digests(now=at_eight, only_at_hour=8) == 1
    [bundle] = await Notice.filter(dedup_key__startswith="notice-digest:")
    assert bundle.status == NoticeStatus.PENDING and bundle.recipient_id == liaison.id
    assert "2" in bundle.subject and "第一条" in bundle.body and "第二条" in bundle.body
    assert not await Notice.filter(status=NoticeStatus.HELD).exists()
    assert {n.delivered_via for n in await Notice.filter(id__in=[n.id for n in held])} == {"digest"}
    assert await digests.queue_notice_digests(now=at_eight, only_at_hour=8) == 0


async def test_quiet_hours_delay_mail_to_their_end(db):
    project, pm, liaison, subject = await team()
    await choose(liaison, quiet_from=11, quiet_until=14)
    await discussion.add_comment(f.actor(pm), subject=subject, body="@李娜 午休后看")
    mail = await Notice.get(dedup_key__startswith="mention:", channel=Channel.EMAIL)
    assert mail.next_attempt_at == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 14:00 Shanghai
    report = await notices.deliver_pending(get_settings())
    assert report.failed == 0 and (await Notice.get(id=mail.id)).status == NoticeStatus.PENDING


async def test_the_local_group_chat_is_kept_in_the_mailbox(db):
    project, pm, liaison, subject = await team()
    await chat_robots.add_robot(
        f.system(), RobotInput(kind="LOCAL", name="项目群", url="", project_code=project.code)
    )
    await discussion.add_comment(f.actor(pm), subject=subject, body="@李娜 看群")
    await notices.deliver_pending(get_settings())
    chat = await Notice.get(channel=Channel.WEBHOOK)
    assert (chat.status, chat.delivered_via, chat.mentions) == (
        NoticeStatus.SENT,
        "mailbox",
        ["13800000001"],
    )
    mailbox = await notices.list_mailbox(f.system())
    assert chat.id in [n.id for n in mailbox]


async def test_people_no_notice_can_reach_are_named_for_the_administrator(db):
    project, pm, liaison, subject = await team()
    rnd = await f.department("生产部")
    silent = await f.user(name="老陈", dept=rnd, email="", mobile="13800000078")
    phone_only = await f.user(name="小王", dept=rnd, email="", mobile="13800000077")
    rnd_of_project = await f.department("质量部")
    await projects.update_project(
        f.actor(pm),
        project_id=project.id,
        version=project.version,
        data=projects.ProjectInput(department_ids=[liaison.department_id, rnd_of_project.id]),
    )
    await f.member(pm, project, phone_only, Role.MEMBER, rnd_of_project)
    names = [u.name for u in await chat_robots.unreachable_people(f.system())]
    assert sorted(names) == sorted(["小王", "老陈"])
    await chat_robots.add_robot(
        f.system(), RobotInput(kind="LOCAL", name="项目群", url="", project_code=project.code)
    )
    assert [u.name for u in await chat_robots.unreachable_people(f.system())] == ["老陈"]
    assert silent.email is None
