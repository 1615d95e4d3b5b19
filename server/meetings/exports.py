"""Meetings out of Xietong: iCalendar (RFC 5545) invitations and feeds, minutes as Word."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, timedelta

from docx import Document
from icalendar import Calendar, Event, vCalAddress, vText

from server import clock
from server.meetings.models import Meeting, MeetingStatus
from server.planning.models import Task
from server.projects.models import Project
from server.settings import get_settings

PRODUCT_ID = "-//Xietong//Meetings//ZH"


def _event(project: Project, meeting: Meeting, *, organizer_email: str = "") -> Event:
    settings = get_settings()
    url = f"{settings.base_url}/projects/{project.code}/meetings/{meeting.id}"
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@xietong")
    event.add("dtstamp", clock.now())
    event.add("dtstart", meeting.scheduled_start.astimezone(UTC))
    event.add(
        "dtend",
        meeting.scheduled_start.astimezone(UTC) + timedelta(minutes=meeting.duration_minutes),
    )
    event.add("summary", f"[{project.code}] {meeting.title}")
    event.add("description", url)
    event.add("url", url)
    if meeting.place:
        event.add("location", meeting.place)
    if organizer_email:
        organizer = vCalAddress(f"mailto:{organizer_email}")
        organizer.params["cn"] = vText(project.name)
        event["organizer"] = organizer
    # A meeting's sequence rises with every change, so calendars replace the old copy.
    event.add("sequence", meeting.version)
    if meeting.status == MeetingStatus.ENDED:
        event.add("status", "CONFIRMED")
    return event


def _calendar(name: str, *, method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    if method:
        calendar.add("method", method)
    return calendar


def invitation_ics(project: Project, occurrences: Sequence[Meeting]) -> str:
    """The .ics attached to an invitation: every occurrence of the series as its own event."""
    calendar = _calendar(project.name, method="REQUEST")
    for meeting in occurrences:
        calendar.add_component(_event(project, meeting, organizer_email=get_settings().mail_from))
    ical: bytes = calendar.to_ical()
    return ical.decode()


def project_calendar(
    project: Project, meetings: Sequence[Meeting], milestones: Sequence[tuple[Task, date]] = ()
) -> bytes:
    """The subscribable feed of a project's meetings, and its milestones as all-day events on
    the day the schedule forecasts."""
    calendar = _calendar(f"{project.code} {project.name}")
    for meeting in meetings:
        calendar.add_component(_event(project, meeting))
    base_url = get_settings().base_url
    for milestone, day in milestones:
        event = Event()
        event.add("uid", f"milestone-{milestone.id}@xietong")
        event.add("dtstamp", clock.now())
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", f"[{project.code}] ◆ {milestone.name}")
        event.add("url", f"{base_url}/projects/{project.code}/plan")
        event.add("transp", "TRANSPARENT")
        event.add("sequence", milestone.version)
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical


def minutes_docx(title: str, markdown: str) -> bytes:
    """The minutes (会议纪要) as Word: headings, bullets and paragraphs of the Markdown text."""
    document = Document()
    document.add_heading(title, level=0)
    for line in markdown.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            level = min(len(stripped) - len(stripped.lstrip("#")), 3)
            text = stripped.lstrip("#").strip()
            if level == 1 and text == title:
                continue
            document.add_heading(text, level=level)
        elif stripped.startswith(("- ", "* ")):
            document.add_paragraph(stripped[2:], style="List Bullet")
        else:
            document.add_paragraph(stripped)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
