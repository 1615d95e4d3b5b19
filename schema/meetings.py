"""Meetings over GraphQL: schedule, report, run live, minutes, and the live meeting events."""

import datetime
from collections.abc import AsyncGenerator
from enum import Enum
from typing import cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.closing import Acceptance, Retrospective
from schema.common import UserError, event_time, from_global_id, refusals_in_payload, to_global_id
from schema.context import Context
from schema.discussion import Discussed
from schema.org import Department, Node, User
from schema.risks import Risk
from server import events
from server.errors import DomainError
from server.meetings import minutes as meeting_minutes
from server.meetings import queries as meeting_queries
from server.meetings import running as meeting_running
from server.meetings import service as meetings
from server.meetings.models import ActionItem as ActionItemRow
from server.meetings.models import Meeting as MeetingRow


@strawberry.enum
class MeetingKind(Enum):
    KICKOFF = "KICKOFF"
    REQUIREMENT_REVIEW = "REQUIREMENT_REVIEW"
    PLAN_REVIEW = "PLAN_REVIEW"
    WEEKLY = "WEEKLY"
    TOPIC = "TOPIC"
    ACCEPTANCE = "ACCEPTANCE"
    RETROSPECTIVE = "RETROSPECTIVE"


@strawberry.enum
class MeetingStatus(Enum):
    SCHEDULED = "SCHEDULED"
    LIVE = "LIVE"
    ENDED = "ENDED"


@strawberry.enum
class Attendance(Enum):
    INVITED = "INVITED"
    PRESENT = "PRESENT"
    ABSENT = "ABSENT"
    EXCUSED = "EXCUSED"


@strawberry.enum
class MinutesState(Enum):
    DUE = "due"
    LATE = "late"
    ON_TIME = "on_time"


@strawberry.type
class Attendee:
    user: User
    attendance: Attendance


@strawberry.type
class AgendaItem:
    title: str
    owner: User | None
    minutes: int
    spent_seconds: int | None


@strawberry.type
class Need:
    id: strawberry.ID
    department: Department
    text: str


@strawberry.type
class DepartmentReport:
    id: strawberry.ID
    department: Department
    done: str
    next_week: str
    submitted_by: User | None
    submitted_at: datetime.datetime
    version: int
    needs: list[Need]


@strawberry.type
class MeetingDecision:
    id: strawberry.ID
    text: str
    recorded_by: User | None
    created_at: datetime.datetime


@strawberry.type
class MeetingQuestion:
    id: strawberry.ID
    question: str
    asked_by: User | None
    answer: str
    answered_by: User | None
    created_at: datetime.datetime


@strawberry.type
class ActionItem:
    id: strawberry.ID
    title: str
    owner: User
    department: Department | None
    due_date: datetime.date
    task_id: strawberry.ID | None
    task_status: str | None
    meeting_id: strawberry.ID


@strawberry.type
class MinutesRevision:
    revision: int
    body: str
    change_note: str
    published_at: datetime.datetime


def _user(row: object | None) -> User | None:
    return User.of(row) if row is not None else None  # type: ignore[arg-type]


def _action_item(item: ActionItemRow) -> ActionItem:
    task = item.task
    return ActionItem(
        id=to_global_id("ActionItem", item.id),
        title=item.title,
        owner=User.of(item.owner),
        department=Department.of(item.department) if item.department else None,
        due_date=item.due_date,
        task_id=to_global_id("Task", task.id) if task else None,
        task_status=task.status.value if task else None,
        meeting_id=to_global_id("Meeting", item.meeting_id),
    )


@strawberry.type
class Meeting(Node, Discussed):
    kind: MeetingKind
    title: str
    scheduled_start: datetime.datetime
    duration_minutes: int
    place: str
    status: MeetingStatus
    started_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    minutes_due_at: datetime.datetime | None
    minutes_state: MinutesState | None
    version: int
    pk: strawberry.Private[int]
    project_pk: strawberry.Private[int]
    problem_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: MeetingRow) -> "Meeting":
        state = meeting_queries.minutes_state(row)
        return cls(
            id=to_global_id("Meeting", row.id),
            kind=MeetingKind(row.kind.value),
            title=row.title,
            scheduled_start=row.scheduled_start,
            duration_minutes=row.duration_minutes,
            place=row.place,
            status=MeetingStatus(row.status.value),
            started_at=row.started_at,
            ended_at=row.ended_at,
            minutes_due_at=row.minutes_due_at,
            minutes_state=MinutesState(state) if state else None,
            version=row.version,
            pk=row.id,
            project_pk=row.project_id,
            problem_pk=row.problem_id,
        )

    async def _view(self, info: Info[Context, None]) -> meeting_queries.MeetingView:
        return await info.context.meeting_views.load(self.pk)

    @strawberry.field
    def project_id(self) -> strawberry.ID:
        return to_global_id("Project", self.project_pk)

    @strawberry.field
    async def attendees(self, info: Info[Context, None]) -> list[Attendee]:
        view = await self._view(info)
        return [
            Attendee(user=User.of(a.user), attendance=Attendance(a.attendance.value))
            for a in view.attendees
        ]

    @strawberry.field
    async def agenda(self, info: Info[Context, None]) -> list[AgendaItem]:
        view = await self._view(info)
        return [
            AgendaItem(
                title=a.title,
                owner=_user(a.owner),
                minutes=a.minutes,
                spent_seconds=a.spent_seconds,
            )
            for a in view.agenda
        ]

    @strawberry.field
    async def reports(self, info: Info[Context, None]) -> list[DepartmentReport]:
        view = await self._view(info)
        return [
            DepartmentReport(
                id=to_global_id("DepartmentReport", r.id),
                department=Department.of(r.department),
                done=r.done,
                next_week=r.next_week,
                submitted_by=_user(r.submitted_by),
                submitted_at=r.submitted_at,
                version=r.version,
                needs=[
                    Need(
                        id=to_global_id("Need", n.id),
                        department=Department.of(n.department),
                        text=n.text,
                    )
                    for n in r.need_list  # type: ignore[attr-defined]
                ],
            )
            for r in view.reports
        ]

    @strawberry.field
    async def missing_departments(self, info: Info[Context, None]) -> list[Department]:
        return [Department.of(d) for d in (await self._view(info)).missing_departments]

    @strawberry.field
    async def decisions(self, info: Info[Context, None]) -> list[MeetingDecision]:
        view = await self._view(info)
        return [
            MeetingDecision(
                id=to_global_id("Decision", d.id),
                text=d.text,
                recorded_by=_user(d.recorded_by),
                created_at=d.created_at,
            )
            for d in view.decisions
        ]

    @strawberry.field
    def problem_id(self) -> strawberry.ID | None:
        """The problem a topic meeting was opened for."""
        return to_global_id("Problem", self.problem_pk) if self.problem_pk else None

    @strawberry.field
    async def questions(self, info: Info[Context, None]) -> list[MeetingQuestion]:
        """Questions raised (a kickoff's), with the answer and who answered."""
        return [
            MeetingQuestion(
                id=to_global_id("MeetingQuestion", q.id),
                question=q.question,
                asked_by=_user(q.asked_by),
                answer=q.answer,
                answered_by=_user(q.answered_by),
                created_at=q.created_at,
            )
            for q in (await self._view(info)).questions
        ]

    @strawberry.field
    async def risks_to_review(self, info: Info[Context, None]) -> list[Risk]:
        """A weekly meeting's risks to review: high risks always, others once due."""
        return [Risk.of(r) for r in (await self._view(info)).risks_to_review]

    @strawberry.field
    async def reviewed_risks(self, info: Info[Context, None]) -> list[Risk]:
        """The risks reviewed in this meeting (as they stand now; their history has the
        level each review recorded)."""
        reviewed = {r.risk_id: r.risk for r in (await self._view(info)).risk_reviews}
        return [Risk.of(r) for r in reviewed.values()]

    @strawberry.field
    async def awaiting_acceptance(self, info: Info[Context, None]) -> list[Acceptance]:
        """An acceptance meeting's hand-overs awaiting a decision."""
        return [Acceptance.of(a) for a in (await self._view(info)).awaiting_acceptance]

    @strawberry.field
    async def decided_acceptances(self, info: Info[Context, None]) -> list[Acceptance]:
        """Hand-overs accepted or rejected in this meeting."""
        return [Acceptance.of(a) for a in (await self._view(info)).decided_acceptances]

    @strawberry.field
    async def retrospectives(self, info: Info[Context, None]) -> list[Retrospective]:
        """A retrospective meeting's filed retrospectives, one per department."""
        return [Retrospective.of(r) for r in (await self._view(info)).retrospectives]

    @strawberry.field
    async def reviewed_retrospectives(self, info: Info[Context, None]) -> list[Retrospective]:
        return [Retrospective.of(r) for r in (await self._view(info)).reviewed_retrospectives]

    @strawberry.field
    async def action_items(self, info: Info[Context, None]) -> list[ActionItem]:
        return [_action_item(i) for i in (await self._view(info)).action_items]

    @strawberry.field
    async def carried_action_items(self, info: Info[Context, None]) -> list[ActionItem]:
        """Open action items of earlier weekly meetings, reviewed at the start of this one."""
        return [_action_item(i) for i in (await self._view(info)).carried_items]

    @strawberry.field
    async def minutes(self, info: Info[Context, None]) -> list[MinutesRevision]:
        """Published revisions, oldest first; the last is the current text."""
        return [
            MinutesRevision(
                revision=r.revision,
                body=r.body,
                change_note=r.change_note,
                published_at=r.published_at,
            )
            for r in (await self._view(info)).revisions
        ]

    @strawberry.field
    async def minutes_draft(self, info: Info[Context, None]) -> str | None:
        """The draft being edited, for the PM and co-chairs only."""
        view = await self._view(info)
        return await meeting_minutes.draft_for(info.context.actor, view.meeting, view.project)


async def load_meeting(info: Info[Context, None], pk: int) -> Meeting:
    return Meeting.of(await meeting_queries.get_meeting(info.context.actor, meeting_id=pk))


# --- mutations ----------------------------------------------------------------------------------


@strawberry.input
class AgendaItemInput:
    title: str
    minutes: int
    owner_id: strawberry.ID | None = None


@strawberry.input
class CreateMeetingInput:
    project_id: strawberry.ID
    kind: MeetingKind
    title: str
    scheduled_start: datetime.datetime
    duration_minutes: int
    attendee_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    place: str | None = None
    agenda: list[AgendaItemInput] = strawberry.field(default_factory=list)
    repeat_weeks: int = 1
    problem_id: strawberry.ID | None = strawberry.field(
        default=None, description="A topic meeting opened for this problem."
    )


@strawberry.input
class RecordQuestionInput:
    meeting_id: strawberry.ID
    question: str
    answer: str | None = None
    asked_by_id: strawberry.ID | None = None
    answered_by_id: strawberry.ID | None = None


@strawberry.input
class NeedInput:
    department_id: strawberry.ID
    text: str


@strawberry.input
class SubmitDepartmentReportInput:
    meeting_id: strawberry.ID
    department_id: strawberry.ID
    done: str
    next_week: str
    needs: list[NeedInput] = strawberry.field(default_factory=list)
    version: int | None = None


@strawberry.input
class RecordDecisionInput:
    meeting_id: strawberry.ID
    text: str


@strawberry.input
class AddActionItemInput:
    meeting_id: strawberry.ID
    title: str
    owner_id: strawberry.ID
    due_date: datetime.date
    department_id: strawberry.ID | None = None
    need_id: strawberry.ID | None = None


@strawberry.input
class MeetingIdInput:
    meeting_id: strawberry.ID
    # publishMinutes only: what a correction (a second or later revision) changes.
    change_note: str | None = None


@strawberry.input
class EditMinutesInput:
    meeting_id: strawberry.ID
    version: int
    minutes: str = strawberry.field(description="The whole draft, Markdown.")


@strawberry.input
class RescheduleMeetingInput:
    meeting_id: strawberry.ID
    version: int
    scheduled_start: datetime.datetime | None = None
    duration_minutes: int | None = None
    place: str | None = None
    add_attendee_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class SetAttendanceInput:
    meeting_id: strawberry.ID
    user_id: strawberry.ID
    attendance: Attendance


@strawberry.type
class MeetingPayload:
    meeting: Meeting | None
    errors: list[UserError]


def _meeting_pk(value: strawberry.ID) -> int:
    return from_global_id(value, "Meeting", field="meetingId")


def _pk(value: strawberry.ID | None, kind: str, field: str) -> int | None:
    return from_global_id(value, kind, field=field) if value else None


async def _payload(info: Info[Context, None], meeting_pk: int) -> "MeetingPayload":
    return MeetingPayload(meeting=await load_meeting(info, meeting_pk), errors=[])


@strawberry.type
class MeetingMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def create_meeting(
        self, info: Info[Context, None], input: CreateMeetingInput
    ) -> MeetingPayload:
        row = await meetings.create_meeting(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            data=meetings.MeetingInput(
                kind=input.kind.value,
                title=input.title,
                scheduled_start=input.scheduled_start,
                duration_minutes=input.duration_minutes,
                place=input.place,
                attendee_ids=[
                    from_global_id(i, "User", field="attendeeIds") for i in input.attendee_ids
                ],
                agenda=[
                    meetings.AgendaInput(
                        title=a.title,
                        minutes=a.minutes,
                        owner_id=_pk(a.owner_id, "User", "agenda.ownerId"),
                    )
                    for a in input.agenda
                ],
                repeat_weeks=input.repeat_weeks,
                problem_id=_pk(input.problem_id, "Problem", "problemId"),
            ),
        )
        return MeetingPayload(meeting=Meeting.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def submit_department_report(
        self, info: Info[Context, None], input: SubmitDepartmentReportInput
    ) -> MeetingPayload:
        meeting_pk = _meeting_pk(input.meeting_id)
        await meetings.submit_department_report(
            info.context.actor,
            meeting_id=meeting_pk,
            data=meetings.ReportInput(
                department_id=from_global_id(
                    input.department_id, "Department", field="departmentId"
                ),
                done=input.done,
                next_week=input.next_week,
                needs=[
                    meetings.NeedInput(
                        department_id=from_global_id(
                            n.department_id, "Department", field="needs.departmentId"
                        ),
                        text=n.text,
                    )
                    for n in input.needs
                ],
                version=input.version,
            ),
        )
        return await _payload(info, meeting_pk)

    @strawberry.mutation
    @refusals_in_payload
    async def start_meeting(
        self, info: Info[Context, None], input: MeetingIdInput
    ) -> MeetingPayload:
        row = await meeting_running.start_meeting(
            info.context.actor, meeting_id=_meeting_pk(input.meeting_id)
        )
        return MeetingPayload(meeting=Meeting.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def reschedule_meeting(
        self, info: Info[Context, None], input: RescheduleMeetingInput
    ) -> MeetingPayload:
        """Move a meeting that has not started or invite more; attendees get the new .ics."""
        row = await meetings.reschedule_meeting(
            info.context.actor,
            meeting_id=_meeting_pk(input.meeting_id),
            version=input.version,
            data=meetings.RescheduleInput(
                scheduled_start=input.scheduled_start,
                duration_minutes=input.duration_minutes,
                place=input.place,
                add_attendee_ids=[
                    from_global_id(i, "User", field="addAttendeeIds")
                    for i in input.add_attendee_ids
                ],
            ),
        )
        return MeetingPayload(meeting=Meeting.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def set_attendance(
        self, info: Info[Context, None], input: SetAttendanceInput
    ) -> MeetingPayload:
        meeting_pk = _meeting_pk(input.meeting_id)
        await meeting_running.set_attendance(
            info.context.actor,
            meeting_id=meeting_pk,
            user_id=from_global_id(input.user_id, "User", field="userId"),
            attendance=input.attendance.value,
        )
        return await _payload(info, meeting_pk)

    @strawberry.mutation
    @refusals_in_payload
    async def record_decision(
        self, info: Info[Context, None], input: RecordDecisionInput
    ) -> MeetingPayload:
        meeting_pk = _meeting_pk(input.meeting_id)
        await meeting_running.record_decision(
            info.context.actor, meeting_id=meeting_pk, text=input.text
        )
        return await _payload(info, meeting_pk)

    @strawberry.mutation
    @refusals_in_payload
    async def record_meeting_question(
        self, info: Info[Context, None], input: RecordQuestionInput
    ) -> MeetingPayload:
        meeting_pk = _meeting_pk(input.meeting_id)
        await meeting_running.record_question(
            info.context.actor,
            meeting_id=meeting_pk,
            data=meeting_running.QuestionInput(
                question=input.question,
                answer=input.answer,
                asked_by_id=_pk(input.asked_by_id, "User", "askedById"),
                answered_by_id=_pk(input.answered_by_id, "User", "answeredById"),
            ),
        )
        return await _payload(info, meeting_pk)

    @strawberry.mutation
    @refusals_in_payload
    async def add_action_item(
        self, info: Info[Context, None], input: AddActionItemInput
    ) -> MeetingPayload:
        """The action item becomes a task in the plan, owned by its owner."""
        meeting_pk = _meeting_pk(input.meeting_id)
        await meeting_running.add_action_item(
            info.context.actor,
            meeting_id=meeting_pk,
            data=meeting_running.ActionItemInput(
                title=input.title,
                owner_id=from_global_id(input.owner_id, "User", field="ownerId"),
                due_date=input.due_date,
                department_id=_pk(input.department_id, "Department", "departmentId"),
                need_id=_pk(input.need_id, "Need", "needId"),
            ),
        )
        return await _payload(info, meeting_pk)

    @strawberry.mutation
    @refusals_in_payload
    async def end_meeting(self, info: Info[Context, None], input: MeetingIdInput) -> MeetingPayload:
        row = await meeting_running.end_meeting(
            info.context.actor, meeting_id=_meeting_pk(input.meeting_id)
        )
        return MeetingPayload(meeting=Meeting.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def publish_minutes(
        self, info: Info[Context, None], input: MeetingIdInput
    ) -> MeetingPayload:
        """Sends the minutes to attendees and department heads; a later call is a correction."""
        meeting_pk = _meeting_pk(input.meeting_id)
        await meeting_minutes.publish_minutes(
            info.context.actor, meeting_id=meeting_pk, change_note=input.change_note
        )
        return await _payload(info, meeting_pk)

    @strawberry.mutation
    @refusals_in_payload
    async def edit_minutes(
        self, info: Info[Context, None], input: EditMinutesInput
    ) -> MeetingPayload:
        """Replace the minutes draft of an ended meeting before (or between) publishing."""
        meeting_pk = _meeting_pk(input.meeting_id)
        await meeting_minutes.edit_minutes(
            info.context.actor, meeting_id=meeting_pk, version=input.version, body=input.minutes
        )
        return await _payload(info, meeting_pk)

    @strawberry.mutation
    @refusals_in_payload
    async def next_agenda_item(
        self, info: Info[Context, None], input: MeetingIdInput
    ) -> MeetingPayload:
        """Close the current agenda item (its time is kept) and open the next one."""
        meeting_pk = _meeting_pk(input.meeting_id)
        await meeting_running.next_agenda_item(info.context.actor, meeting_id=meeting_pk)
        return await _payload(info, meeting_pk)

    @strawberry.mutation
    @refusals_in_payload
    async def mark_all_present(
        self, info: Info[Context, None], input: MeetingIdInput
    ) -> MeetingPayload:
        """Everyone still marked invited becomes present; exceptions are then set one by one."""
        meeting_pk = _meeting_pk(input.meeting_id)
        await meeting_running.mark_all_present(info.context.actor, meeting_id=meeting_pk)
        return await _payload(info, meeting_pk)


@strawberry.type
class MeetingQuery:
    @strawberry.field
    async def meeting(self, info: Info[Context, None], id: strawberry.ID) -> Meeting | None:
        try:
            return await load_meeting(info, from_global_id(id, "Meeting", field="id"))
        except DomainError:
            return None


# --- live events --------------------------------------------------------------------------------


@strawberry.type
class MeetingEvent:
    """Something happened in a meeting: started, a decision or action item, a report, ended."""

    id: str
    kind: str
    decision_id: strawberry.ID | None
    action_item_id: strawberry.ID | None
    data: JSON = strawberry.field(description="The event's own fields.")
    at: datetime.datetime | None


def meeting_event(event: events.Event) -> MeetingEvent:
    decision = event.data.get("decisionId")
    item = event.data.get("actionItemId")
    return MeetingEvent(
        id=event.id,
        kind=event.kind,
        decision_id=to_global_id("Decision", int(decision)) if decision else None,
        action_item_id=to_global_id("ActionItem", int(item)) if item else None,
        data=cast(JSON, event.data),
        at=event_time(event),
    )


@strawberry.type
class MeetingSubscription:
    @strawberry.subscription
    async def meeting_events(
        self, info: Info[Context, None], meeting_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[MeetingEvent, None]:
        """Events of a meeting the viewer may see, from now on (or after the event id given)."""
        pk = from_global_id(meeting_id, "Meeting", field="meetingId")
        meeting = await meeting_queries.get_meeting(info.context.actor, meeting_id=pk)
        async for event in events.follow("meeting", meeting.id, last_id=after):
            yield meeting_event(event)
