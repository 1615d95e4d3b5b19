"""Meetings (会议): weekly meetings and reviews run live, department reports, decisions,
action items that become tasks, and minutes published within 24 hours of the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server import events
from server.audit.service import record
from server.auth import Action, Actor, authorize
from server.db import ids_in
from server.errors import Invalid, stale
from server.meetings.models import (
    AgendaItem,
    Attendee,
    DepartmentReport,
    Meeting,
    MeetingKind,
    MeetingStatus,
    ReportNeed,
)
from server.meetings.queries import get_meeting
from server.notices import service as notices
from server.org.models import User
from server.projects.models import Project, ProjectDepartment, ProjectMember, Role
from server.projects.service import get_project
from server.risks.models import Problem
from server.validation import Checks

MAX_SERIES = 26
WEEKLY_MINUTES = (30, 60)
ANY_MINUTES = (5, 480)


# --- creating -----------------------------------------------------------------------------------


@dataclass
class AgendaInput:
    title: str | None = None
    owner_id: int | None = None
    minutes: int | None = None


@dataclass
class MeetingInput:
    kind: str | None = None
    title: str | None = None
    # An aware datetime, or "YYYY-MM-DDTHH:MM" in the project's time zone (a form field).
    scheduled_start: datetime | str | None = None
    duration_minutes: int | None = None
    place: str | None = None
    attendee_ids: list[int] = field(default_factory=list)
    agenda: list[AgendaInput] = field(default_factory=list)
    repeat_weeks: int = 1
    # A topic meeting opened from a problem.
    problem_id: int | None = None


def _parse_start(checks: Checks, value: datetime | str | None, zone: str) -> datetime | None:
    if value is None or value == "":
        checks.fail("scheduledStart", "This field is required.")
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            checks.fail("scheduledStart", "Enter a date and time as YYYY-MM-DD HH:MM.")
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(UTC)


def _check_duration(checks: Checks, kind: MeetingKind | None, duration: int | None) -> None:
    if duration is None:
        checks.fail("durationMinutes", "This field is required.")
    elif kind == MeetingKind.WEEKLY and not WEEKLY_MINUTES[0] <= duration <= WEEKLY_MINUTES[1]:
        checks.fail("durationMinutes", "A weekly meeting lasts 30 to 60 minutes.")
    elif not ANY_MINUTES[0] <= duration <= ANY_MINUTES[1]:
        checks.fail("durationMinutes", "A meeting lasts 5 to 480 minutes.")


async def _active_member_ids(project_id: int) -> set[int]:
    return set(
        await ids_in(ProjectMember.filter(project_id=project_id, left_at__isnull=True), "user_id")
    )


async def _checked_meeting(project: Project, data: MeetingInput) -> dict[str, Any]:
    checks = Checks()
    kind: MeetingKind | None = None
    try:
        kind = MeetingKind(data.kind or "")
    except ValueError:
        checks.fail("kind", "Choose one of: %(choices)s.", choices=", ".join(MeetingKind))
    title = checks.text("title", data.title, max_length=200)
    start = _parse_start(checks, data.scheduled_start, project.time_zone)
    high = (WEEKLY_MINUTES if kind == MeetingKind.WEEKLY else ANY_MINUTES)[1]
    duration = data.duration_minutes
    _check_duration(checks, kind, duration)
    if data.repeat_weeks != 1 and kind != MeetingKind.WEEKLY:
        checks.fail("repeatWeeks", "Only a weekly meeting repeats.")
    elif not 1 <= data.repeat_weeks <= MAX_SERIES:
        checks.fail("repeatWeeks", "Repeat 1 to %(max)s weeks.", max=MAX_SERIES)
    members = await _active_member_ids(project.id)
    if any(uid not in members for uid in data.attendee_ids):
        checks.fail("attendeeIds", "Every attendee must be a member of the project.")
    agenda = []
    for index, item in enumerate(data.agenda):
        name = f"agenda.{index}"
        item_title = checks.text(f"{name}.title", item.title, max_length=200)
        if item.minutes is None or not 1 <= item.minutes <= high:
            checks.fail(f"{name}.minutes", "Give the item 1 to %(max)s minutes.", max=high)
        if item.owner_id is not None and item.owner_id not in members:
            checks.fail(f"{name}.ownerId", "The owner must be a member of the project.")
        agenda.append((item_title, item.owner_id, item.minutes or 0))
    if duration is not None and sum(m for _, _, m in agenda) > duration:
        checks.fail("agenda", "The agenda's time boxes add up to more than the meeting.")
    place = checks.text("place", data.place, required=False, max_length=500)
    problem = data.problem_id
    if problem is not None and not await Problem.filter(id=problem, project_id=project.id).exists():
        checks.fail("problemId", "No such problem in this project.")
    checks.done()
    return {
        "kind": kind,
        "title": title,
        "scheduled_start": start,
        "duration_minutes": duration,
        "place": place,
        "agenda": agenda,
    }


async def _default_attendees(project_id: int) -> list[int]:
    """Without a list: the PM, the co-chairs and every department's liaison."""
    rows = await ids_in(
        ProjectMember.filter(
            project_id=project_id,
            left_at__isnull=True,
            role__in=[Role.MANAGER, Role.CO_CHAIR, Role.LIAISON],
        ),
        "user_id",
    )
    return list(dict.fromkeys(rows))


async def create_meeting(actor: Actor, *, project_id: int, data: MeetingInput) -> Meeting:
    """Schedule a meeting (a weekly one may repeat); attendees get one invitation with an .ics."""
    project = await get_project(actor, project_id=project_id)
    async with in_transaction():
        project = await Project.filter(id=project.id).select_for_update().get()
        await authorize(actor, Action.RUN_MEETINGS, project)
        checked = await _checked_meeting(project, data)
        attendee_ids = list(dict.fromkeys(data.attendee_ids)) or await _default_attendees(
            project.id
        )
        if actor.user_id is not None and actor.user_id not in attendee_ids:
            attendee_ids.insert(0, actor.user_id)
        occurrences: list[Meeting] = []
        for week in range(data.repeat_weeks):
            meeting = await Meeting.create(
                project=project,
                kind=checked["kind"],
                title=checked["title"],
                scheduled_start=checked["scheduled_start"] + timedelta(weeks=week),
                duration_minutes=checked["duration_minutes"],
                place=checked["place"],
                series_key=occurrences[0].id if occurrences else None,
                created_by_id=actor.user_id,
                problem_id=data.problem_id,
            )
            if week == 0 and data.repeat_weeks > 1:
                meeting.series_key = meeting.id
                await meeting.save(update_fields=["series_key"])
            await Attendee.bulk_create(
                [Attendee(meeting=meeting, user_id=uid) for uid in attendee_ids]
            )
            await AgendaItem.bulk_create(
                [
                    AgendaItem(meeting=meeting, position=i, title=t, owner_id=o, minutes=m)
                    for i, (t, o, m) in enumerate(checked["agenda"])
                ]
            )
            occurrences.append(meeting)
        first = occurrences[0]
        await record(
            actor,
            action="meeting.create",
            object_type="meeting",
            object_id=first.id,
            project_id=project.id,
            summary=f"{first.title} ×{len(occurrences)}",
        )
        await _queue_invitations(project, occurrences, attendee_ids)
    await events.publish("project", project.id, "meeting.created", meetingId=first.id)
    return first


async def _queue_invitations(
    project: Project, occurrences: list[Meeting], attendee_ids: list[int], *, changed: bool = False
) -> None:
    from server.meetings.exports import invitation_ics

    first = occurrences[0]
    ics = invitation_ics(project, occurrences)
    # A change goes out again under the meeting's new version: calendars replace the event.
    version = f":v{first.version}" if changed else ""
    for user in await User.filter(id__in=attendee_ids, deactivated_at__isnull=True):
        await notices.queue_email(
            recipient=user,
            template="meeting_invitation",
            dedup_key=f"meeting-invite:{first.id}{version}:u{user.id}",
            project_id=project.id,
            attachments=[
                {
                    "filename": "invite.ics",
                    "content_type": "text/calendar; method=REQUEST",
                    "content": ics,
                }
            ],
            project=project,
            meeting=first,
            occurrences=len(occurrences),
            changed=changed,
            path=f"/projects/{project.code}/meetings/{first.id}",
        )


@dataclass
class RescheduleInput:
    scheduled_start: datetime | str | None = None
    duration_minutes: int | None = None
    place: str | None = None
    add_attendee_ids: list[int] = field(default_factory=list)


async def reschedule_meeting(
    actor: Actor, *, meeting_id: int, version: int, data: RescheduleInput
) -> Meeting:
    """Move a meeting that has not started, or invite more people; everyone gets the new .ics."""
    async with in_transaction():
        project, meeting = await lock_for_run(actor, meeting_id)
        if meeting.status != MeetingStatus.SCHEDULED:
            raise Invalid("Only a meeting that has not started can be changed.", field="meetingId")
        checks = Checks()
        start = (
            _parse_start(checks, data.scheduled_start, project.time_zone)
            if data.scheduled_start not in (None, "")
            else meeting.scheduled_start
        )
        duration = data.duration_minutes or meeting.duration_minutes
        _check_duration(checks, meeting.kind, duration)
        members = await _active_member_ids(project.id)
        if any(uid not in members for uid in data.add_attendee_ids):
            checks.fail("attendeeIds", "Every attendee must be a member of the project.")
        place = checks.text("place", data.place, required=False, max_length=500)
        checks.done()
        if meeting.version != version:
            raise stale(meeting.version)
        assert start is not None
        meeting.scheduled_start = start
        meeting.duration_minutes = duration
        if data.place is not None:
            meeting.place = place
        meeting.version += 1
        await meeting.save()
        invited = set(await ids_in(Attendee.filter(meeting_id=meeting.id), "user_id"))
        await Attendee.bulk_create(
            [
                Attendee(meeting=meeting, user_id=uid)
                for uid in dict.fromkeys(data.add_attendee_ids)
                if uid not in invited
            ]
        )
        await record_action(actor, meeting, project, "meeting.reschedule")
        everyone = await ids_in(Attendee.filter(meeting_id=meeting.id), "user_id")
        await _queue_invitations(project, [meeting], everyone, changed=True)
    await events.publish("meeting", meeting.id, "meeting.changed")
    return meeting


# --- department reports -------------------------------------------------------------------------


@dataclass
class NeedInput:
    department_id: int | None = None
    text: str | None = None


@dataclass
class ReportInput:
    department_id: int | None = None
    done: str | None = None
    next_week: str | None = None
    needs: list[NeedInput] = field(default_factory=list)
    version: int | None = None


async def _checked_report(project: Project, data: ReportInput) -> dict[str, Any]:
    checks = Checks()
    participating = set(
        await ids_in(ProjectDepartment.filter(project_id=project.id), "department_id")
    )
    if data.department_id is None:
        checks.fail("departmentId", "This field is required.")
    elif data.department_id not in participating:
        checks.fail("departmentId", "This department does not take part in the project.")
    done = checks.text("done", data.done, max_length=5000, multiline=True)
    next_week = checks.text("nextWeek", data.next_week, max_length=5000, multiline=True)
    needs = []
    for index, need in enumerate(data.needs):
        text = checks.text(f"needs.{index}.text", need.text, max_length=500, multiline=True)
        if need.department_id is None or need.department_id not in participating:
            checks.fail(
                f"needs.{index}.departmentId",
                "Name a department of the project that must act.",
            )
        elif need.department_id == data.department_id:
            checks.fail(
                f"needs.{index}.departmentId", "A need names another department than your own."
            )
        needs.append((need.department_id, text))
    checks.done()
    return {"done": done, "next_week": next_week, "needs": needs}


async def submit_department_report(
    actor: Actor, *, meeting_id: int, data: ReportInput
) -> DepartmentReport:
    """A liaison's report for their own department (the PM may file one for anybody)."""
    meeting = await get_meeting(actor, meeting_id=meeting_id)
    async with in_transaction():
        project = await Project.filter(id=meeting.project_id).select_for_update().get()
        meeting = await Meeting.get(id=meeting.id)
        await authorize(actor, Action.SUBMIT_REPORT, project, department_id=data.department_id)
        if meeting.status == MeetingStatus.ENDED:
            raise Invalid("The meeting has ended; its reports are closed.", field="meetingId")
        checked = await _checked_report(project, data)
        report = await DepartmentReport.get_or_none(
            meeting_id=meeting.id, department_id=data.department_id
        )
        if report is None:
            report = await DepartmentReport.create(
                meeting=meeting,
                department_id=data.department_id,
                done=checked["done"],
                next_week=checked["next_week"],
                submitted_by_id=actor.user_id,
            )
        else:
            if data.version is not None and data.version != report.version:
                raise stale(report.version)
            report.done = checked["done"]
            report.next_week = checked["next_week"]
            report.submitted_by_id = actor.user_id
            report.version += 1
            await report.save()
            # Needs already turned into action items stay; the rest are replaced.
            await ReportNeed.filter(report_id=report.id, action_item__isnull=True).delete()
        await ReportNeed.bulk_create(
            [ReportNeed(report=report, department_id=d, text=t) for d, t in checked["needs"]]
        )
        await record(
            actor,
            action="meeting.report",
            object_type="department_report",
            object_id=report.id,
            project_id=project.id,
            summary=meeting.title,
        )
    await events.publish("meeting", meeting.id, "report.submitted", departmentId=data.department_id)
    return report


async def lock_for_run(actor: Actor, meeting_id: int) -> tuple[Project, Meeting]:
    """Project and meeting rows locked for this transaction, the PM's or a co-chair's right."""
    meeting = await get_meeting(actor, meeting_id=meeting_id)
    project = await Project.filter(id=meeting.project_id).select_for_update().get()
    meeting = await Meeting.filter(id=meeting.id).select_for_update().get()
    await authorize(actor, Action.RUN_MEETINGS, project)
    return project, meeting


async def record_action(actor: Actor, meeting: Meeting, project: Project, action: str) -> None:
    await record(
        actor,
        action=action,
        object_type="meeting",
        object_id=meeting.id,
        project_id=project.id,
        summary=meeting.title,
    )
