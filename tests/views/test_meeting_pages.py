"""Meeting pages as people use them: schedule, report, run live, publish, export, subscribe."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime, timedelta

import httpx
import icalendar
from docx import Document

from server import events
from server.meetings import running as meeting_running
from server.meetings.models import Attendance, Attendee, Decision, Meeting, MeetingStatus
from server.notices.models import Notice
from server.org import credentials
from server.planning import service as planning
from tests import factories as f
from tests.server.test_meetings import Team, live, soon, team, weekly
from tests.views.helpers import log_in, post


async def test_the_pm_schedules_a_weekly_meeting_from_the_form(http, db):
    t = await team()
    await log_in(http, t.pm.email)
    code = t.project.code
    local = (soon() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    bad = await post(
        http,
        f"/projects/{code}/meetings",
        {"kind": "WEEKLY", "title": "周例会", "scheduled_start": local, "duration_minutes": "90"},
    )
    assert bad.status_code == 400
    assert 'id="durationMinutes-error"' in bad.text and "30" in bad.text
    assert await Meeting.all().count() == 0
    made = await post(
        http,
        f"/projects/{code}/meetings",
        {
            "kind": "WEEKLY",
            "title": "周例会",
            "scheduled_start": local,
            "duration_minutes": "45",
            "repeat_weeks": "2",
            "agenda_title": "各部门汇报",
            "agenda_minutes": "30",
            "agenda_owner": str(t.rnd_liaison.id),
        },
    )
    assert made.status_code == 303
    meeting = await Meeting.get(id=int(made.headers["location"].rsplit("/", 1)[1]))
    # Typed in the project's time zone (Asia/Shanghai), kept as the instant it means.
    assert meeting.scheduled_start == soon()
    listing = await http.get(f"/projects/{code}/meetings")
    assert listing.text.count("周例会") >= 2
    page = await http.get(made.headers["location"])
    assert "各部门汇报 · 李娜" in page.text and "开始会议" in page.text
    moved = await post(
        http,
        made.headers["location"] + "/reschedule",
        {"version": str(meeting.version), "duration_minutes": "20"},
    )
    assert moved.status_code == 400 and 'id="durationMinutes-error"' in moved.text
    moved = await post(
        http,
        made.headers["location"] + "/reschedule",
        {
            "version": str(meeting.version),
            "place": "5 号会议室",
            "attendee_ids": str(t.engineer.id),
        },
    )
    assert moved.status_code == 303
    page = await http.get(made.headers["location"])
    assert "5 号会议室" in page.text and "孙浩: 已邀请" in page.text


async def test_a_liaison_reports_from_a_phone_form_and_cannot_start_the_meeting(http, db):
    t = await team()
    meeting = await weekly(t)
    await log_in(http, t.rnd_liaison.email)
    url = f"/projects/{t.project.code}/meetings/{meeting.id}"
    page = await http.get(url)
    assert "开始会议" not in page.text
    assert f'<option value="{t.mkt.id}"' in page.text  # a need may name marketing
    sent = await post(
        http,
        url + "/report",
        {
            "department_id": str(t.rnd.id),
            "done": "完成样机",
            "next_week": "开始测试",
            "need_department": str(t.mkt.id),
            "need_text": "提供调研数据",
        },
    )
    assert sent.status_code == 303
    page = await http.get(url)
    assert "完成样机" in page.text and "提供调研数据" in page.text
    refused = await post(http, url + "/report", {"department_id": str(t.mkt.id), "done": "x"})
    assert refused.status_code == 403
    assert (await post(http, url + "/start", {})).status_code == 403
    assert (await Meeting.get(id=meeting.id)).status == MeetingStatus.SCHEDULED


async def test_recording_live_from_the_page_and_publishing_the_minutes(http, db):
    t = await team()
    meeting = await weekly(t)
    await log_in(http, t.pm.email)
    url = f"/projects/{t.project.code}/meetings/{meeting.id}"
    early = await post(http, url + "/decisions", {"text": "定稿"}, htmx=True)
    assert early.status_code == 400 and "会议尚未开始" in early.text
    assert (await post(http, url + "/start", {})).status_code == 303
    # The chair who started it is present; one tap marks the rest, then the exceptions.
    attendance = {a.user_id: a.attendance for a in await Attendee.filter(meeting_id=meeting.id)}
    assert attendance[t.pm.id] == Attendance.PRESENT
    assert {v for k, v in attendance.items() if k != t.pm.id} == {Attendance.INVITED}
    assert (await post(http, url + "/attendance/all", {})).status_code == 303
    assert (
        await post(
            http, url + "/attendance", {"user_id": str(t.mkt_liaison.id), "attendance": "ABSENT"}
        )
    ).status_code == 303
    attendance = {a.user_id: a.attendance for a in await Attendee.filter(meeting_id=meeting.id)}
    assert attendance.pop(t.mkt_liaison.id) == Attendance.ABSENT
    assert set(attendance.values()) == {Attendance.PRESENT}
    empty = await post(http, url + "/decisions", {"text": " "}, htmx=True)
    assert empty.status_code == 400 and 'id="text-error"' in empty.text
    recorded = await post(http, url + "/decisions", {"text": "十二月底冻结需求"}, htmx=True)
    assert recorded.status_code == 200 and 'id="decision-form"' in recorded.text
    due = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    past = await post(
        http,
        url + "/action-items",
        {"title": "补充用例", "owner_id": str(t.engineer.id), "due_date": "2020-01-01"},
        htmx=True,
    )
    assert past.status_code == 400 and 'id="dueDate-error"' in past.text
    added = await post(
        http,
        url + "/action-items",
        {"title": "补充用例", "owner_id": str(t.engineer.id), "due_date": due},
        htmx=True,
    )
    assert added.status_code == 200
    page = await http.get(url)
    assert "十二月底冻结需求" in page.text and "补充用例" in page.text
    assert (await post(http, url + "/end", {})).status_code == 303
    page = await http.get(url)
    assert "会议纪要" in page.text and 'name="minutes"' in page.text
    assert (await post(http, url + "/publish", {})).status_code == 303
    assert await Notice.filter(dedup_key__startswith=f"minutes:{meeting.id}:r1:").count() == 6
    twice = await post(http, url + "/publish", {})
    assert twice.status_code == 400 and "已发布" in twice.text
    # Published minutes read as a document, not as Markdown source (issue 23, item 8).
    published = await http.get(url)
    shown = published.text.split('<div class="minutes">')[1].split("</div>")[0]
    assert "<h2>决议</h2>" in shown and "## 决议" not in shown
    assert "十二月底冻结需求</li>" in shown
    word = await http.get(url + "/minutes.docx")
    assert word.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(word.content)).paragraphs)
    assert "十二月底冻结需求" in text and "补充用例" in text
    markdown = await http.get(url + "/minutes.md")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "## 决议" in markdown.text


async def test_the_calendar_feed_takes_the_session_or_a_feed_token(http, db, app):
    t = await team()
    await weekly(t, repeat_weeks=2)
    await planning.add_milestone(
        f.actor(t.pm), project_id=t.project.id, name="样机评审", due=date(2026, 12, 18)
    )
    feed = f"/projects/{t.project.code}/calendar.ics"
    assert (await http.get(feed)).status_code == 401
    assert (await http.get(feed, params={"token": "1.bad"})).status_code == 401
    answer = await http.get(feed, params={"token": credentials.feed_token(t.rnd_liaison)})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    parsed = icalendar.Calendar.from_ical(answer.content)
    events_in_feed = parsed.walk("VEVENT")
    assert len(events_in_feed) == 3
    milestone = [e for e in events_in_feed if "样机评审" in str(e["summary"])][0]
    assert milestone["dtstart"].dt == date(2026, 12, 18)  # an all-day event
    outsider = await http.get(feed, params={"token": credentials.feed_token(t.outsider)})
    assert outsider.status_code == 404
    await log_in(http, t.pm.email)
    assert (await http.get(feed)).status_code == 200


# --- server-sent events against a running server --------------------------------------------------


async def _subscriber(base: str, t: Team, email: str, url: str, seen: asyncio.Queue[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await log_in(client, email)
        async with client.stream("GET", url) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            await seen.put("open")
            block: list[str] = []
            async for line in response.aiter_lines():
                if line:
                    block.append(line)
                    continue
                if any(line == "event: live" for line in block):
                    await seen.put("\n".join(block))
                block = []


async def test_two_subscribers_both_receive_a_recorded_decision(live_server, db):
    t = await team()
    meeting = await live(t)
    url = f"/projects/{t.project.code}/meetings/{meeting.id}/events"
    queues: list[asyncio.Queue[str]] = [asyncio.Queue(), asyncio.Queue()]
    readers = [
        asyncio.create_task(_subscriber(live_server, t, who.email, url, queue))
        for who, queue in zip((t.pm, t.rnd_liaison), queues, strict=True)
    ]
    try:
        for queue in queues:
            assert await asyncio.wait_for(queue.get(), 10) == "open"
        await meeting_running.record_decision(
            f.actor(t.pm), meeting_id=meeting.id, text="十二月底冻结需求"
        )
        for queue in queues:
            message = await asyncio.wait_for(queue.get(), 5)
            assert "十二月底冻结需求" in message and "id: " in message
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)


async def test_a_reconnect_with_last_event_id_catches_up(live_server, db):
    t = await team()
    meeting = await live(t)
    seen_before = await events.latest_id("meeting", meeting.id)
    await meeting_running.record_decision(
        f.actor(t.pm), meeting_id=meeting.id, text="断线期间的决议"
    )
    url = f"/projects/{t.project.code}/meetings/{meeting.id}/events"
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        await log_in(client, t.rnd_liaison.email)
        headers = {"Last-Event-ID": seen_before}
        async with client.stream("GET", url, headers=headers) as response:
            block: list[str] = []

            async def first_live() -> str:
                async for line in response.aiter_lines():
                    if line:
                        block.append(line)
                    elif "event: live" in block:
                        return "\n".join(block)
                    else:
                        block.clear()
                return ""

            message = await asyncio.wait_for(first_live(), 5)
    assert "断线期间的决议" in message
    assert await Decision.filter(meeting_id=meeting.id).count() == 1


async def test_the_stream_stays_equal_to_a_full_render_while_entries_are_added(live_server, db):
    from views.meetings import _render_live

    t = await team()
    meeting = await live(t)
    url = f"/projects/{t.project.code}/meetings/{meeting.id}/events"
    queue: asyncio.Queue[str] = asyncio.Queue()
    reader = asyncio.create_task(_subscriber(live_server, t, t.pm.email, url, queue))
    try:
        assert await asyncio.wait_for(queue.get(), 10) == "open"
        due = datetime.now(UTC).date() + timedelta(days=3)
        steps = [
            meeting_running.record_decision(
                f.actor(t.pm), meeting_id=meeting.id, text="第一条决议"
            ),
            meeting_running.record_decision(
                f.actor(t.co_chair), meeting_id=meeting.id, text="第二条"
            ),
            meeting_running.set_attendance(
                f.actor(t.pm), meeting_id=meeting.id, user_id=t.mkt_liaison.id, attendance="EXCUSED"
            ),
            meeting_running.add_action_item(
                f.actor(t.pm),
                meeting_id=meeting.id,
                data=meeting_running.ActionItemInput(
                    title="补充用例", owner_id=t.engineer.id, due_date=due
                ),
            ),
        ]
        last = ""
        for step in steps:
            await step
            last = await asyncio.wait_for(queue.get(), 5)
        streamed = next(line[6:] for line in last.splitlines() if line.startswith("data: "))
        fresh = await _render_live(meeting.id, None, [], "zh-CN")
        assert streamed == " ".join(x.strip() for x in fresh.splitlines() if x.strip())
        for expected in ("第一条决议", "第二条", "刘洋: 请假", "补充用例"):
            assert expected in streamed
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
