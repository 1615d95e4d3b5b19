"""Minutes and invitations leave through a real arq worker to a real SMTP server, once each."""

from __future__ import annotations

from dataclasses import replace

import icalendar

from server.meetings import minutes as meeting_minutes
from tests import factories as f
from tests.server.test_meetings import run_a_weekly_meeting, team
from tests.workers.test_notice_delivery import run_job_in_worker


async def test_minutes_reach_each_recipient_once_even_when_delivery_runs_twice(db, smtp_server):
    inbox, smtp_url = smtp_server
    settings = replace(db, smtp_url=smtp_url)
    t = await team()
    meeting = await run_a_weekly_meeting(t)
    await run_job_in_worker(settings)  # welcome mails of the new members and the invitations
    invitations = [m for m in inbox.messages if "会议邀请" in m[1]["Subject"]]
    assert len(invitations) == 4
    _, invitation = invitations[0]
    calendar_parts = [
        p for p in invitation.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    assert len(calendar_parts) == 1
    event = icalendar.Calendar.from_ical(calendar_parts[0].get_content()).walk("VEVENT")[0]
    assert event["dtstart"].dt == meeting.scheduled_start
    inbox.messages.clear()

    await meeting_minutes.publish_minutes(f.actor(t.pm), meeting_id=meeting.id)
    await run_job_in_worker(settings)
    await run_job_in_worker(settings)
    recipients = sorted(rcpt for rcpts, _ in inbox.messages for rcpt in rcpts)
    expected = sorted(
        u.email for u in (t.pm, t.co_chair, t.rnd_liaison, t.mkt_liaison, t.pmo_head, t.rnd_head)
    )
    assert recipients == expected
    _, mail = inbox.messages[0]
    assert "会议纪要" in mail["Subject"]
    assert "十二月底冻结需求" in mail.get_body(("plain",)).get_content()
    assert f"/meetings/{meeting.id}" in mail.get_body(("html",)).get_content()
