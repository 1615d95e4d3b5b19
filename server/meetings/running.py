"""Running a meeting live: start, agenda, attendance, decisions, action items that become
tasks, end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server import clock, events
from server.audit.service import record
from server.auth import Action, Actor, authorize
from server.errors import Invalid, NotFound
from server.i18n import N_
from server.meetings.minutes import draft_minutes
from server.meetings.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Attendee,
    Decision,
    Meeting,
    MeetingQuestion,
    MeetingStatus,
    ReportNeed,
)
from server.meetings.queries import get_meeting
from server.meetings.service import lock_for_run, record_action
from server.planning import service as planning
from server.projects.checks import check_member
from server.projects.models import Project, ProjectDepartment, ProjectMember, Role
from server.validation import Checks

MINUTES_DEADLINE = timedelta(hours=24)


def _must_be_live(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.SCHEDULED:
        raise Invalid("The meeting has not started yet.", field="meetingId")
    if meeting.status == MeetingStatus.ENDED:
        raise Invalid("The meeting has ended; nothing more can be recorded.", field="meetingId")


async def start_meeting(actor: Actor, *, meeting_id: int) -> Meeting:
    async with in_transaction():
        project, meeting = await lock_for_run(actor, meeting_id)
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
        # Whoever opens the meeting is in the room.
        await Attendee.filter(
            meeting_id=meeting.id, user_id=actor.user_id, attendance=Attendance.INVITED
        ).update(attendance=Attendance.PRESENT)
        await record_action(actor, meeting, project, "meeting.start")
    await events.publish("meeting", meeting.id, "meeting.started")
    return meeting


async def next_agenda_item(actor: Actor, *, meeting_id: int) -> Meeting:
    """Close the current item's timer and start the next one's."""
    async with in_transaction():
        project, meeting = await lock_for_run(actor, meeting_id)
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
        project, meeting = await lock_for_run(actor, meeting_id)
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


async def mark_all_present(actor: Actor, *, meeting_id: int) -> int:
    """Everyone still marked invited is present: one tap, then the exceptions one by one."""
    async with in_transaction():
        project, meeting = await lock_for_run(actor, meeting_id)
        if meeting.status == MeetingStatus.ENDED:
            raise Invalid("The meeting has ended.", field="meetingId")
        marked = await Attendee.filter(meeting_id=meeting.id, attendance=Attendance.INVITED).update(
            attendance=Attendance.PRESENT
        )
    await events.publish("meeting", meeting.id, "attendance", everyone=True)
    return int(marked)


async def _lock_for_recording(actor: Actor, meeting_id: int) -> tuple[Project, Meeting]:
    meeting = await get_meeting(actor, meeting_id=meeting_id)
    project = await Project.filter(id=meeting.project_id).select_for_update().get()
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
            data.department_id = data.department_id or need.department_id
        checked = await _checked_action_item(project, data)
        item = await _create_action_item(actor, project, meeting, checked, need)
    await events.publish("meeting", meeting.id, "action.added", actionItemId=item.id)
    await events.publish("project", project.id, "task.created", taskId=item.task_id)
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
        project, meeting = await lock_for_run(actor, meeting_id)
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
        await record_action(actor, meeting, project, "meeting.end")
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
        owner_id = liaisons.get(need.department_id) or actor.user_id
        if owner_id is None:
            continue
        checked = {
            "title": f"{need.report.department.name}: {need.text}"[:200],
            "owner_id": owner_id,
            "department_id": need.department_id,
            "due_date": max(due, clock.local_today(project)),
        }
        await _create_action_item(actor, project, meeting, checked, need)


@dataclass
class QuestionInput:
    question: str | None = None
    answer: str | None = None
    asked_by_id: int | None = None
    answered_by_id: int | None = None


async def record_question(actor: Actor, *, meeting_id: int, data: QuestionInput) -> MeetingQuestion:
    """A question raised in the meeting (a kickoff's "questions raised"), its answer and who
    answered, recorded live by the chair like a decision."""
    checks = Checks()
    question = checks.text("question", data.question, max_length=2000, multiline=True)
    answer = checks.long_text("answer", data.answer)
    async with in_transaction():
        project, meeting = await _lock_for_recording(actor, meeting_id)
        for field_name, user_id in (
            ("askedById", data.asked_by_id),
            ("answeredById", data.answered_by_id),
        ):
            await check_member(
                checks, project.id, user_id, field_name, N_("Choose a member of the project.")
            )
        checks.done()
        row = await MeetingQuestion.create(
            meeting=meeting,
            question=question,
            answer=answer,
            asked_by_id=data.asked_by_id,
            answered_by_id=data.answered_by_id,
            recorded_by_id=actor.user_id,
        )
        await record(
            actor,
            action="meeting.question",
            object_type="meeting_question",
            object_id=row.id,
            project_id=project.id,
            summary=question[:200],
        )
    await events.publish("meeting", meeting.id, "question.recorded", questionId=row.id)
    return row
