"""Meetings (会议): weekly meetings and reviews run live, department reports, decisions,
action items that become tasks, and minutes published within 24 hours of the end."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server import clock, events
from server.audit.service import record
from server.auth import Action, Actor, authorize, may
from server.errors import Conflict, Invalid, NotFound
from server.meetings.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Attendee,
    Decision,
    DepartmentReport,
    Meeting,
    MeetingKind,
    MeetingStatus,
    MinutesRevision,
    ReportNeed,
)
from server.notices import service as notices
from server.org.models import Department, User
from server.planning import service as planning
from server.planning.models import TaskStatus
from server.projects.models import Project, ProjectDepartment, ProjectMember, ProjectStatus, Role
from server.projects.service import get_project
from server.templating import render
from server.validation import Checks

MINUTES_DEADLINE = timedelta(hours=24)
# The initiating department's head hears of late minutes this long after the PM did.
HEAD_ESCALATION_AFTER = timedelta(hours=24)
REMINDER_WINDOW = timedelta(hours=24)
MAX_SERIES = 26
WEEKLY_MINUTES = (30, 60)
ANY_MINUTES = (5, 480)


async def _ids(query: Any, column: str) -> list[int]:
    """One column of ids, as ints (Tortoise types flat value lists loosely)."""
    return [int(value) for value in await query.values_list(column, flat=True)]


# --- reading ------------------------------------------------------------------------------------


async def get_meeting(actor: Actor, *, meeting_id: int, project: Project | None = None) -> Meeting:
    """A meeting of a project the actor may see; someone else's looks like no meeting."""
    meeting = await Meeting.get_or_none(id=meeting_id)
    if meeting is None or (project is not None and meeting.project_id != project.id):  # type: ignore[attr-defined]
        raise NotFound("No such meeting.", field="meetingId")
    try:
        await get_project(actor, project_id=meeting.project_id)  # type: ignore[attr-defined]
    except NotFound:
        raise NotFound("No such meeting.", field="meetingId") from None
    return meeting


async def list_meetings(project_ids: Sequence[int]) -> dict[int, list[Meeting]]:
    result: dict[int, list[Meeting]] = {pid: [] for pid in project_ids}
    for row in await Meeting.filter(project_id__in=list(project_ids)).order_by(
        "scheduled_start", "id"
    ):
        result[row.project_id].append(row)  # type: ignore[attr-defined]
    return result


def minutes_state(meeting: Meeting, now: datetime | None = None) -> str | None:
    """ "due", "late" or "on_time" once the meeting has ended; None before."""
    if meeting.minutes_due_at is None:
        return None
    if meeting.minutes_published_at is not None:
        return "on_time" if meeting.minutes_published_at <= meeting.minutes_due_at else "late"
    return "late" if (now or clock.now()) > meeting.minutes_due_at else "due"


@dataclass
class MeetingView:
    """Everything one meeting page shows, read in a fixed number of queries."""

    meeting: Meeting
    project: Project
    attendees: list[Attendee]
    agenda: list[AgendaItem]
    reports: list[DepartmentReport]
    departments: list[Department]
    decisions: list[Decision]
    action_items: list[ActionItem]
    carried_items: list[ActionItem]
    revisions: list[MinutesRevision]

    @property
    def reported_department_ids(self) -> set[int]:
        return {r.department_id for r in self.reports}  # type: ignore[attr-defined]

    @property
    def missing_departments(self) -> list[Department]:
        return [d for d in self.departments if d.id not in self.reported_department_ids]

    @property
    def current_item(self) -> AgendaItem | None:
        index = self.meeting.current_item
        return self.agenda[index] if 0 <= index < len(self.agenda) else None

    @property
    def open_needs(self) -> list[ReportNeed]:
        """Needs from the reports that no action item has taken up yet."""
        taken = {item.need_id for item in self.action_items}  # type: ignore[attr-defined]
        return [n for r in self.reports for n in r.need_list if n.id not in taken]  # type: ignore[attr-defined]

    @property
    def latest_revision(self) -> MinutesRevision | None:
        return self.revisions[-1] if self.revisions else None


async def meeting_view(meeting: Meeting) -> MeetingView:
    return (await meeting_views([meeting]))[0]


def _grouped(rows: Sequence[Any], key: str) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(getattr(row, key), []).append(row)
    return grouped


async def meeting_views_by_id(ids: Sequence[int]) -> list[MeetingView]:
    """Views in the order of `ids` (a DataLoader's batch); the caller has scoped the ids."""
    rows = await Meeting.filter(id__in=list(ids))
    views = {v.meeting.id: v for v in await meeting_views(rows)}
    return [views[i] for i in ids]


async def meeting_views(rows: Sequence[Meeting]) -> list[MeetingView]:
    """Views of several meetings in ten queries, however many meetings and entries."""
    ids = [m.id for m in rows]
    project_ids = list({m.project_id for m in rows})  # type: ignore[attr-defined]
    projects = {p.id: p for p in await Project.filter(id__in=project_ids)}
    attendees = _grouped(
        await Attendee.filter(meeting_id__in=ids).select_related("user"), "meeting_id"
    )
    agenda = _grouped(
        await AgendaItem.filter(meeting_id__in=ids).select_related("owner"), "meeting_id"
    )
    reports = await DepartmentReport.filter(meeting_id__in=ids).select_related(
        "department", "submitted_by"
    )
    needs = _grouped(
        await ReportNeed.filter(report__meeting_id__in=ids).select_related("department"),
        "report_id",
    )
    for report in reports:
        report.need_list = needs.get(report.id, [])
    participations = await ProjectDepartment.filter(project_id__in=project_ids).select_related(
        "department"
    )
    departments: dict[int, list[Department]] = {}
    for row in sorted(participations, key=lambda r: r.department.name):
        departments.setdefault(row.project_id, []).append(row.department)  # type: ignore[attr-defined]
    decisions = _grouped(
        await Decision.filter(meeting_id__in=ids).select_related("recorded_by"), "meeting_id"
    )
    items = _grouped(
        await ActionItem.filter(meeting_id__in=ids).select_related("owner", "department", "task"),
        "meeting_id",
    )
    revisions = _grouped(
        await MinutesRevision.filter(meeting_id__in=ids).order_by("revision"), "meeting_id"
    )
    carried = await _open_weekly_items(project_ids)
    return [
        MeetingView(
            meeting=m,
            project=projects[m.project_id],  # type: ignore[attr-defined]
            attendees=attendees.get(m.id, []),
            agenda=agenda.get(m.id, []),
            reports=[r for r in reports if r.meeting_id == m.id],  # type: ignore[attr-defined]
            departments=departments.get(m.project_id, []),  # type: ignore[attr-defined]
            decisions=decisions.get(m.id, []),
            action_items=items.get(m.id, []),
            carried_items=_carried(m, carried),
            revisions=revisions.get(m.id, []),
        )
        for m in rows
    ]


async def view_with_additions(
    view: MeetingView, *, decision_ids: Sequence[int], action_item_ids: Sequence[int]
) -> MeetingView:
    """The view with decisions and action items recorded since, in two queries at most.

    Rows the view already holds are not added twice (it may have been read after them).
    """
    decisions = list(view.decisions)
    have = {d.id for d in decisions}
    new_decisions = [i for i in decision_ids if i not in have]
    if new_decisions:
        decisions += await Decision.filter(
            id__in=new_decisions, meeting_id=view.meeting.id
        ).select_related("recorded_by")
    items = list(view.action_items)
    have = {i.id for i in items}
    new_items = [i for i in action_item_ids if i not in have]
    if new_items:
        items += await ActionItem.filter(
            id__in=new_items, meeting_id=view.meeting.id
        ).select_related("owner", "department", "task")
    decisions.sort(key=lambda d: d.id)
    items.sort(key=lambda i: i.id)
    return replace(view, decisions=decisions, action_items=items)


async def _open_weekly_items(project_ids: Sequence[int]) -> list[ActionItem]:
    rows = await ActionItem.filter(
        meeting__project_id__in=list(project_ids), meeting__kind=MeetingKind.WEEKLY
    ).select_related("owner", "department", "task", "meeting")
    return [
        item
        for item in rows
        if item.task is None or item.task.status not in (TaskStatus.DONE, TaskStatus.CANCELLED)
    ]


def _carried(meeting: Meeting, open_items: list[ActionItem]) -> list[ActionItem]:
    """Open action items of the project's earlier weekly meetings, listed at this one's start."""
    if meeting.kind != MeetingKind.WEEKLY:
        return []
    return [
        item
        for item in open_items
        if item.meeting.project_id == meeting.project_id  # type: ignore[attr-defined]
        and item.meeting.scheduled_start < meeting.scheduled_start
    ]


async def carried_action_items(meeting: Meeting) -> list[ActionItem]:
    return _carried(meeting, await _open_weekly_items([meeting.project_id]))  # type: ignore[attr-defined]


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
        await _ids(ProjectMember.filter(project_id=project_id, left_at__isnull=True), "user_id")
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
    rows = await _ids(
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
        project, meeting = await _lock_for_run(actor, meeting_id)
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
            raise Conflict(
                "Someone else changed this meeting in the meantime (now version %(version)s). "
                "Reload and try again.",
                field="version",
                version=meeting.version,
            )
        assert start is not None
        meeting.scheduled_start = start
        meeting.duration_minutes = duration
        if data.place is not None:
            meeting.place = place
        meeting.version += 1
        await meeting.save()
        invited = set(await _ids(Attendee.filter(meeting_id=meeting.id), "user_id"))
        await Attendee.bulk_create(
            [
                Attendee(meeting=meeting, user_id=uid)
                for uid in dict.fromkeys(data.add_attendee_ids)
                if uid not in invited
            ]
        )
        await _record(actor, meeting, project, "meeting.reschedule")
        everyone = await _ids(Attendee.filter(meeting_id=meeting.id), "user_id")
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
        await _ids(ProjectDepartment.filter(project_id=project.id), "department_id")
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
        project = await Project.filter(id=meeting.project_id).select_for_update().get()  # type: ignore[attr-defined]
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
                raise Conflict(
                    "Someone else changed this report in the meantime (now version "
                    "%(version)s). Reload and try again.",
                    field="version",
                    version=report.version,
                )
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


# --- running the meeting ------------------------------------------------------------------------


async def _lock_for_run(actor: Actor, meeting_id: int) -> tuple[Project, Meeting]:
    """Project and meeting rows locked for this transaction, the PM's or a co-chair's right."""
    meeting = await get_meeting(actor, meeting_id=meeting_id)
    project = await Project.filter(id=meeting.project_id).select_for_update().get()  # type: ignore[attr-defined]
    meeting = await Meeting.filter(id=meeting.id).select_for_update().get()
    await authorize(actor, Action.RUN_MEETINGS, project)
    return project, meeting


def _must_be_live(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.SCHEDULED:
        raise Invalid("The meeting has not started yet.", field="meetingId")
    if meeting.status == MeetingStatus.ENDED:
        raise Invalid("The meeting has ended; nothing more can be recorded.", field="meetingId")


async def start_meeting(actor: Actor, *, meeting_id: int) -> Meeting:
    async with in_transaction():
        project, meeting = await _lock_for_run(actor, meeting_id)
        if meeting.status == MeetingStatus.LIVE:
            raise Invalid("The meeting is already live.", field="meetingId")
        if meeting.status == MeetingStatus.ENDED:
            raise Invalid("The meeting has ended.", field="meetingId")
        now = clock.now()
        meeting.status = MeetingStatus.LIVE
        meeting.started_at = now
        meeting.current_item = 0
        meeting.item_started_at = now
        meeting.version += 1
        await meeting.save()
        await _record(actor, meeting, project, "meeting.start")
    await events.publish("meeting", meeting.id, "meeting.started")
    return meeting


async def _record(actor: Actor, meeting: Meeting, project: Project, action: str) -> None:
    await record(
        actor,
        action=action,
        object_type="meeting",
        object_id=meeting.id,
        project_id=project.id,
        summary=meeting.title,
    )


async def next_agenda_item(actor: Actor, *, meeting_id: int) -> Meeting:
    """Close the current item's timer and start the next one's."""
    async with in_transaction():
        project, meeting = await _lock_for_run(actor, meeting_id)
        _must_be_live(meeting)
        await _close_current_item(meeting)
        meeting.current_item += 1
        meeting.item_started_at = clock.now()
        meeting.version += 1
        await meeting.save()
    await events.publish("meeting", meeting.id, "agenda.next", item=meeting.current_item)
    return meeting


async def _close_current_item(meeting: Meeting) -> None:
    if meeting.item_started_at is None:
        return
    spent = int((clock.now() - meeting.item_started_at).total_seconds())
    items = await AgendaItem.filter(meeting_id=meeting.id).order_by("position", "id")
    if 0 <= meeting.current_item < len(items):
        await AgendaItem.filter(id=items[meeting.current_item].id).update(spent_seconds=spent)


async def set_attendance(
    actor: Actor, *, meeting_id: int, user_id: int, attendance: str
) -> Attendee:
    async with in_transaction():
        project, meeting = await _lock_for_run(actor, meeting_id)
        if meeting.status == MeetingStatus.ENDED:
            raise Invalid("The meeting has ended.", field="meetingId")
        try:
            value = Attendance(attendance)
        except ValueError:
            raise Invalid(
                "Choose one of: %(choices)s.", field="attendance", choices=", ".join(Attendance)
            ) from None
        attendee = await Attendee.get_or_none(meeting_id=meeting.id, user_id=user_id)
        if attendee is None:
            raise NotFound("This person is not invited to the meeting.", field="userId")
        attendee.attendance = value
        await attendee.save(update_fields=["attendance"])
    await events.publish("meeting", meeting.id, "attendance", userId=user_id, value=value.value)
    return attendee


async def _lock_for_recording(actor: Actor, meeting_id: int) -> tuple[Project, Meeting]:
    meeting = await get_meeting(actor, meeting_id=meeting_id)
    project = await Project.filter(id=meeting.project_id).select_for_update().get()  # type: ignore[attr-defined]
    meeting = await Meeting.get(id=meeting.id)
    await authorize(actor, Action.RECORD_IN_MEETING, project)
    _must_be_live(meeting)
    return project, meeting


async def record_decision(actor: Actor, *, meeting_id: int, text: str | None) -> Decision:
    checks = Checks()
    cleaned = checks.text("text", text, max_length=5000, multiline=True)
    async with in_transaction():
        project, meeting = await _lock_for_recording(actor, meeting_id)
        checks.done()
        decision = await Decision.create(
            meeting=meeting, text=cleaned, recorded_by_id=actor.user_id
        )
        await record(
            actor,
            action="meeting.decision",
            object_type="decision",
            object_id=decision.id,
            project_id=project.id,
            summary=cleaned[:200],
        )
    await events.publish("meeting", meeting.id, "decision.recorded", decisionId=decision.id)
    return decision


@dataclass
class ActionItemInput:
    title: str | None = None
    owner_id: int | None = None
    due_date: date | str | None = None
    department_id: int | None = None
    need_id: int | None = None


async def _checked_action_item(project: Project, data: ActionItemInput) -> dict[str, Any]:
    checks = Checks()
    title = checks.text("title", data.title, max_length=200)
    due = checks.day("dueDate", data.due_date)
    if due is not None and due < clock.local_today(project):
        checks.fail("dueDate", "The due date cannot be in the past.")
    members = await ProjectMember.filter(project_id=project.id, left_at__isnull=True).values_list(
        "user_id", "department_id"
    )
    departments_of: dict[int, int] = {}
    for user_id, department_id in members:
        departments_of.setdefault(int(user_id), int(department_id))
    if data.owner_id is None:
        checks.fail("ownerId", "This field is required.")
    elif data.owner_id not in departments_of:
        checks.fail("ownerId", "The owner must be a member of the project.")
    department_id = data.department_id
    if department_id is not None:
        takes_part = await ProjectDepartment.filter(
            project_id=project.id, department_id=department_id
        ).exists()
        if not takes_part:
            checks.fail("departmentId", "This department does not take part in the project.")
    checks.done()
    assert data.owner_id is not None and due is not None
    return {
        "title": title,
        "owner_id": data.owner_id,
        "due_date": due,
        "department_id": department_id or departments_of[data.owner_id],
    }


async def add_action_item(actor: Actor, *, meeting_id: int, data: ActionItemInput) -> ActionItem:
    """An agreed to-do; it becomes a task in the plan owned by its owner, linked back here."""
    async with in_transaction():
        project, meeting = await _lock_for_recording(actor, meeting_id)
        need = None
        if data.need_id is not None:
            need = await ReportNeed.get_or_none(
                id=data.need_id, report__meeting_id=meeting.id
            ).select_related("department")
            if need is None:
                raise NotFound("No such need in this meeting.", field="needId")
            if await ActionItem.filter(need_id=need.id).exists():
                raise Invalid("This need already has an action item.", field="needId")
            # Taken up from a need: its words and its department unless the form says otherwise.
            data.title = data.title or need.text
            data.department_id = data.department_id or need.department_id  # type: ignore[attr-defined]
        checked = await _checked_action_item(project, data)
        item = await _create_action_item(actor, project, meeting, checked, need)
    await events.publish("meeting", meeting.id, "action.added", actionItemId=item.id)
    await events.publish("project", project.id, "task.created", taskId=item.task_id)  # type: ignore[attr-defined]
    return item


async def _create_action_item(
    actor: Actor,
    project: Project,
    meeting: Meeting,
    checked: dict[str, Any],
    need: ReportNeed | None,
) -> ActionItem:
    today = clock.local_today(project)
    task = await planning.add_follow_up_task(
        actor,
        project=project,
        name=checked["title"],
        owner_id=checked["owner_id"],
        department_id=checked["department_id"],
        start=today,
        finish=checked["due_date"],
        deliverable=f"/projects/{project.code}/meetings/{meeting.id}",
    )
    item = await ActionItem.create(
        meeting=meeting,
        title=checked["title"],
        owner_id=checked["owner_id"],
        department_id=checked["department_id"],
        due_date=checked["due_date"],
        task=task,
        need=need,
        recorded_by_id=actor.user_id,
    )
    await record(
        actor,
        action="meeting.action_item",
        object_type="action_item",
        object_id=item.id,
        project_id=project.id,
        summary=item.title,
    )
    return item


async def end_meeting(actor: Actor, *, meeting_id: int) -> Meeting:
    """Stop the clock, turn open needs into action items and draft the minutes (due in 24 h)."""
    async with in_transaction():
        project, meeting = await _lock_for_run(actor, meeting_id)
        _must_be_live(meeting)
        await _close_current_item(meeting)
        await _needs_to_action_items(actor, project, meeting)
        now = clock.now()
        meeting.status = MeetingStatus.ENDED
        meeting.ended_at = now
        meeting.minutes_due_at = now + MINUTES_DEADLINE
        meeting.item_started_at = None
        meeting.minutes_draft = await draft_minutes(meeting, actor.language)
        meeting.version += 1
        await meeting.save()
        await _record(actor, meeting, project, "meeting.end")
    await events.publish("meeting", meeting.id, "meeting.ended")
    return meeting


async def _needs_to_action_items(actor: Actor, project: Project, meeting: Meeting) -> None:
    """Each need not yet taken up goes to the liaison of the department that must act."""
    open_needs = await ReportNeed.filter(
        report__meeting_id=meeting.id, action_item__isnull=True
    ).select_related("report__department")
    if not open_needs:
        return
    liaisons = dict(
        await ProjectMember.filter(
            project_id=project.id, role=Role.LIAISON, left_at__isnull=True
        ).values_list("department_id", "user_id")
    )
    next_one = (
        await Meeting.filter(
            project_id=project.id, kind=meeting.kind, scheduled_start__gt=meeting.scheduled_start
        )
        .order_by("scheduled_start")
        .first()
    )
    zone = ZoneInfo(project.time_zone)
    due = (
        next_one.scheduled_start.astimezone(zone).date()
        if next_one
        else clock.local_today(project) + timedelta(days=7)
    )
    for need in open_needs:
        owner_id = liaisons.get(need.department_id) or actor.user_id  # type: ignore[attr-defined]
        if owner_id is None:
            continue
        checked = {
            "title": f"{need.report.department.name}: {need.text}"[:200],
            "owner_id": owner_id,
            "department_id": need.department_id,  # type: ignore[attr-defined]
            "due_date": max(due, clock.local_today(project)),
        }
        await _create_action_item(actor, project, meeting, checked, need)


# --- minutes ------------------------------------------------------------------------------------


async def draft_minutes(meeting: Meeting, language: str) -> str:
    view = await meeting_view(meeting)
    return render("meetings/minutes.md", language, view=view, meeting=meeting).strip() + "\n"


async def draft_for(actor: Actor, meeting: Meeting, project: Project) -> str | None:
    """The unpublished draft, for those who write the minutes (the PM and co-chairs) only."""
    if meeting.minutes_draft and await may(actor, Action.RUN_MEETINGS, project):
        return meeting.minutes_draft
    return None


async def minutes_text(actor: Actor, *, meeting_id: int) -> tuple[Project, Meeting, str]:
    """The minutes to read or export: the latest published revision, else the draft for its
    writers; nothing for anyone else until it is published."""
    meeting = await get_meeting(actor, meeting_id=meeting_id)
    project = await Project.get(id=meeting.project_id)  # type: ignore[attr-defined]
    latest = await MinutesRevision.filter(meeting_id=meeting.id).order_by("-revision").first()
    if latest is not None:
        return project, meeting, latest.body
    draft = await draft_for(actor, meeting, project)
    if draft is None:
        raise NotFound("The minutes are not published yet.", field="meetingId")
    return project, meeting, draft


async def department_reports_allowed(
    actor: Actor, project: Project, departments: Sequence[Department]
) -> list[Department]:
    """The departments whose report this actor may file (a liaison: their own)."""
    return [
        d
        for d in departments
        if await may(actor, Action.SUBMIT_REPORT, project, department_id=d.id)
    ]


async def edit_minutes(actor: Actor, *, meeting_id: int, version: int, body: str | None) -> Meeting:
    checks = Checks()
    text = checks.text("minutes", body, max_length=100_000, multiline=True)
    async with in_transaction():
        project, meeting = await _lock_for_run(actor, meeting_id)
        if meeting.status != MeetingStatus.ENDED:
            raise Invalid("Minutes are written once the meeting has ended.", field="meetingId")
        checks.done()
        if meeting.version != version:
            raise Conflict(
                "Someone else changed these minutes in the meantime (now version %(version)s). "
                "Reload and try again.",
                field="version",
                version=meeting.version,
            )
        meeting.minutes_draft = text
        meeting.version += 1
        await meeting.save()
        await _record(actor, meeting, project, "meeting.minutes_edit")
    return meeting


async def publish_minutes(
    actor: Actor, *, meeting_id: int, change_note: str | None = None
) -> MinutesRevision:
    """Freeze the draft as the next revision and send it to attendees and department heads."""
    async with in_transaction():
        project, meeting = await _lock_for_run(actor, meeting_id)
        if meeting.status != MeetingStatus.ENDED:
            raise Invalid("Minutes are published once the meeting has ended.", field="meetingId")
        latest = await MinutesRevision.filter(meeting_id=meeting.id).order_by("-revision").first()
        note = (change_note or "").strip()
        if latest is not None and latest.body == meeting.minutes_draft:
            raise Invalid(
                "These minutes are already published. Edit them to publish a correction.",
                field="minutes",
            )
        if latest is not None and not note:
            raise Invalid("Say what this correction changes.", field="changeNote")
        if not meeting.minutes_draft.strip():
            raise Invalid("The minutes are empty.", field="minutes")
        revision = await MinutesRevision.create(
            meeting=meeting,
            revision=(latest.revision + 1) if latest else 1,
            body=meeting.minutes_draft,
            change_note=note[:2000],
            published_by_id=actor.user_id,
        )
        if meeting.minutes_published_at is None:
            meeting.minutes_published_at = revision.published_at
            meeting.version += 1
            await meeting.save()
        await _record(actor, meeting, project, "meeting.minutes_publish")
        await _queue_minutes(project, meeting, revision, latest)
    await events.publish("meeting", meeting.id, "minutes.published", revision=revision.revision)
    return revision


async def minutes_recipients(project: Project, meeting: Meeting) -> list[User]:
    """Every attendee and the head of every department taking part, each once."""
    attendee_ids = await _ids(Attendee.filter(meeting_id=meeting.id), "user_id")
    departments = await _ids(ProjectDepartment.filter(project_id=project.id), "department_id")
    head_ids = await _ids(
        ProjectMember.filter(
            project_id=project.id,
            role=Role.DEPARTMENT_HEAD,
            department_id__in=departments,
            left_at__isnull=True,
        ),
        "user_id",
    )
    ids = list(dict.fromkeys(attendee_ids + head_ids))
    users = {u.id: u for u in await User.filter(id__in=ids, deactivated_at__isnull=True)}
    return [users[i] for i in ids if i in users]


async def _queue_minutes(
    project: Project,
    meeting: Meeting,
    revision: MinutesRevision,
    previous: MinutesRevision | None,
) -> None:
    changes = []
    if previous is not None:
        changes = [
            line
            for line in difflib.unified_diff(
                previous.body.splitlines(), revision.body.splitlines(), lineterm="", n=0
            )
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ][:40]
    for user in await minutes_recipients(project, meeting):
        await notices.queue_email(
            recipient=user,
            template="minutes_published",
            dedup_key=f"minutes:{meeting.id}:r{revision.revision}:u{user.id}",
            project_id=project.id,
            project=project,
            meeting=meeting,
            revision=revision,
            changes=changes,
            path=f"/projects/{project.code}/meetings/{meeting.id}",
        )


# --- jobs ---------------------------------------------------------------------------------------


@dataclass
class DeadlineReport:
    meetings: int = 0
    notices: int = 0
    levels: dict[int, int] = field(default_factory=dict)

    def __str__(self) -> str:
        by_level = ", ".join(f"L{k}: {v}" for k, v in sorted(self.levels.items())) or "none"
        return f"{self.meetings} meetings with late minutes, {self.notices} notices ({by_level})"


def deadline_level(meeting: Meeting, now: datetime) -> int:
    """0 before the deadline, 1 (the PM) after it, 2 (initiating head) a day later."""
    if meeting.minutes_due_at is None or meeting.minutes_published_at is not None:
        return 0
    if now <= meeting.minutes_due_at:
        return 0
    return 2 if now > meeting.minutes_due_at + HEAD_ESCALATION_AFTER else 1


async def run_minutes_deadlines(*, now: datetime | None = None) -> DeadlineReport:
    """Escalate unpublished minutes past end + 24 h: one notice per level and person."""
    now = now or clock.now()
    report = DeadlineReport()
    candidates = await _ids(
        Meeting.filter(
            status=MeetingStatus.ENDED,
            minutes_published_at__isnull=True,
            minutes_due_at__lt=now,
            minutes_escalation_level__lt=2,
            project__status__in=[ProjectStatus.PLANNING, ProjectStatus.ACTIVE],
        ),
        "id",
    )
    for meeting_id in candidates:
        told = await _escalate_minutes(meeting_id, now)
        if told:
            report.meetings += 1
        for level, count in told.items():
            report.notices += count
            report.levels[level] = report.levels.get(level, 0) + count
    return report


async def _escalate_minutes(meeting_id: int, now: datetime) -> dict[int, int]:
    told: dict[int, int] = {}
    async with in_transaction():
        meeting = await Meeting.filter(id=meeting_id).select_for_update().get()
        reached = deadline_level(meeting, now)
        if reached <= meeting.minutes_escalation_level:
            return told
        project = await Project.get(id=meeting.project_id)  # type: ignore[attr-defined]
        for level in range(meeting.minutes_escalation_level + 1, reached + 1):
            query = ProjectMember.filter(project_id=project.id, left_at__isnull=True)
            if level == 1:
                query = query.filter(role=Role.MANAGER)
            else:
                query = query.filter(
                    role=Role.DEPARTMENT_HEAD,
                    department_id=project.initiating_department_id,  # type: ignore[attr-defined]
                )
            people = {m.user.id: m.user for m in await query.select_related("user")}
            for user in people.values():
                if user.deactivated_at is not None:
                    continue
                await notices.queue_email(
                    recipient=user,
                    template="minutes_late",
                    dedup_key=f"minutes-late:{meeting.id}:L{level}:u{user.id}",
                    project_id=project.id,
                    project=project,
                    meeting=meeting,
                    level=level,
                    path=f"/projects/{project.code}/meetings/{meeting.id}",
                )
                told[level] = told.get(level, 0) + 1
        meeting.minutes_escalation_level = reached
        await meeting.save(update_fields=["minutes_escalation_level"])
    return told


@dataclass
class ReminderReport:
    meetings: int = 0
    reminders: int = 0

    def __str__(self) -> str:
        return f"{self.meetings} weekly meetings within a day, {self.reminders} reminders queued"


async def run_report_reminders(*, now: datetime | None = None) -> ReminderReport:
    """The day before a weekly meeting, each department that has not reported is reminded once."""
    now = now or clock.now()
    report = ReminderReport()
    meetings = await Meeting.filter(
        kind=MeetingKind.WEEKLY,
        status=MeetingStatus.SCHEDULED,
        scheduled_start__gt=now,
        scheduled_start__lte=now + REMINDER_WINDOW,
        project__status__in=[ProjectStatus.PLANNING, ProjectStatus.ACTIVE],
    ).select_related("project")
    for meeting in meetings:
        report.meetings += 1
        reported = set(await _ids(DepartmentReport.filter(meeting_id=meeting.id), "department_id"))
        liaisons = await ProjectMember.filter(
            project_id=meeting.project.id, role=Role.LIAISON, left_at__isnull=True
        ).select_related("user", "department")
        async with in_transaction():
            for member in liaisons:
                if member.department_id in reported or member.user.deactivated_at:  # type: ignore[attr-defined]
                    continue
                await notices.queue_email(
                    recipient=member.user,
                    template="report_reminder",
                    dedup_key=f"report-reminder:{meeting.id}:d{member.department_id}",  # type: ignore[attr-defined]
                    project_id=meeting.project.id,
                    project=meeting.project,
                    meeting=meeting,
                    department=member.department,
                    path=f"/projects/{meeting.project.code}/meetings/{meeting.id}",
                )
                report.reminders += 1
    return report
