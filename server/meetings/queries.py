"""What the meeting pages and the API read: meetings, their views and carried action items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from server import clock
from server.auth import Actor
from server.closing.models import Acceptance, AcceptanceStatus, Retrospective
from server.db import with_related
from server.errors import Invalid, NotFound
from server.meetings.models import (
    ActionItem,
    AgendaItem,
    Attendee,
    Decision,
    DepartmentReport,
    Meeting,
    MeetingKind,
    MeetingQuestion,
    MeetingStatus,
    MinutesRevision,
    ReportNeed,
)
from server.org.models import Department
from server.planning.models import TaskStatus
from server.projects.models import Project, ProjectDepartment
from server.projects.service import get_project
from server.risks import queries as risk_queries
from server.risks.models import Risk, RiskAssessment

# --- reading ------------------------------------------------------------------------------------


async def get_meeting(actor: Actor, *, meeting_id: int, project: Project | None = None) -> Meeting:
    """A meeting of a project the actor may see; someone else's looks like no meeting."""
    meeting = await Meeting.get_or_none(id=meeting_id)
    if meeting is None or (project is not None and meeting.project_id != project.id):
        raise NotFound("No such meeting.", field="meetingId")
    try:
        await get_project(actor, project_id=meeting.project_id)
    except NotFound:
        raise NotFound("No such meeting.", field="meetingId") from None
    return meeting


async def list_meetings(project_ids: Sequence[int]) -> dict[int, list[Meeting]]:
    result: dict[int, list[Meeting]] = {pid: [] for pid in project_ids}
    for row in await Meeting.filter(project_id__in=list(project_ids)).order_by(
        "scheduled_start", "id"
    ):
        result[row.project_id].append(row)
    return result


async def live_meeting_of(project_id: int, meeting_id: int) -> Meeting:
    """The running meeting of this project something is recorded in; refused on `meetingId`."""
    meeting = await Meeting.filter(id=meeting_id, project_id=project_id).first()
    if meeting is None:
        raise Invalid("No such meeting in this project.", field="meetingId")
    if meeting.status != MeetingStatus.LIVE:
        raise Invalid("The meeting is not running.", field="meetingId")
    return meeting


async def live_meeting_ids(project_id: int, kind: MeetingKind) -> list[int]:
    """The project's running meetings of this kind: those whose live pages list what changed."""
    ids = await Meeting.filter(
        project_id=project_id, kind=kind, status=MeetingStatus.LIVE
    ).values_list("id", flat=True)
    return [int(str(i)) for i in ids]


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
    # The weekly meeting's "risks to review": high risks always, others once their review
    # date has come; and the reviews recorded in this meeting, for the minutes.
    risks_to_review: list[Risk] = field(default_factory=list)
    risk_reviews: list[RiskAssessment] = field(default_factory=list)
    questions: list[MeetingQuestion] = field(default_factory=list)
    # An acceptance meeting lists the hand-overs awaiting a decision; any meeting lists the
    # decisions taken in it, for the minutes.
    awaiting_acceptance: list[Acceptance] = field(default_factory=list)
    decided_acceptances: list[Acceptance] = field(default_factory=list)
    # A retrospective meeting goes through every department's filed retrospective.
    retrospectives: list[Retrospective] = field(default_factory=list)

    @property
    def reported_department_ids(self) -> set[int]:
        return {r.department_id for r in self.reports}

    @property
    def missing_departments(self) -> list[Department]:
        return [d for d in self.departments if d.id not in self.reported_department_ids]

    @property
    def departments_without_retrospective(self) -> list[Department]:
        filed = {r.department_id for r in self.retrospectives}
        return [d for d in self.departments if d.id not in filed]

    @property
    def reviewed_retrospectives(self) -> list[Retrospective]:
        return [r for r in self.retrospectives if r.reviewed_meeting_id == self.meeting.id]

    @property
    def current_item(self) -> AgendaItem | None:
        index = self.meeting.current_item
        return self.agenda[index] if 0 <= index < len(self.agenda) else None

    @property
    def open_needs(self) -> list[ReportNeed]:
        """Needs from the reports that no action item has taken up yet."""
        taken = {item.need_id for item in self.action_items}
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
    """Views of several meetings in a fixed number of queries, however many meetings and
    entries."""
    ids = [m.id for m in rows]
    project_ids = list({m.project_id for m in rows})
    projects = {p.id: p for p in await Project.filter(id__in=project_ids)}
    attendees = _grouped(
        await with_related(Attendee.filter(meeting_id__in=ids), "user"), "meeting_id"
    )
    agenda = _grouped(
        await with_related(AgendaItem.filter(meeting_id__in=ids), "owner"), "meeting_id"
    )
    reports = await with_related(
        DepartmentReport.filter(meeting_id__in=ids), "department", "submitted_by"
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
        departments.setdefault(row.project_id, []).append(row.department)
    decisions = _grouped(
        await with_related(Decision.filter(meeting_id__in=ids), "recorded_by"), "meeting_id"
    )
    items = _grouped(
        await with_related(ActionItem.filter(meeting_id__in=ids), "owner", "department", "task"),
        "meeting_id",
    )
    revisions = _grouped(
        await MinutesRevision.filter(meeting_id__in=ids).order_by("revision"), "meeting_id"
    )
    carried = await _open_weekly_items(project_ids)
    weekly_projects = {m.project_id for m in rows if m.kind == MeetingKind.WEEKLY}
    to_review = await _risks_to_review(projects, weekly_projects)
    reviews = _grouped(await risk_queries.reviews_in_meetings(ids), "meeting_id")
    questions = _grouped(
        await with_related(MeetingQuestion.filter(meeting_id__in=ids), "asked_by", "answered_by"),
        "meeting_id",
    )
    closing = await _closing_entries(rows)
    return [
        MeetingView(
            meeting=m,
            project=projects[m.project_id],
            attendees=attendees.get(m.id, []),
            agenda=agenda.get(m.id, []),
            reports=[r for r in reports if r.meeting_id == m.id],
            departments=departments.get(m.project_id, []),
            decisions=decisions.get(m.id, []),
            action_items=items.get(m.id, []),
            carried_items=_carried(m, carried),
            revisions=revisions.get(m.id, []),
            risks_to_review=to_review.get(m.project_id, []) if m.kind == MeetingKind.WEEKLY else [],
            risk_reviews=reviews.get(m.id, []),
            questions=questions.get(m.id, []),
            awaiting_acceptance=closing.awaiting.get(m.project_id, [])
            if m.kind == MeetingKind.ACCEPTANCE
            else [],
            decided_acceptances=closing.decided.get(m.id, []),
            retrospectives=closing.retrospectives.get(m.project_id, [])
            if m.kind == MeetingKind.RETROSPECTIVE
            else [],
        )
        for m in rows
    ]


@dataclass
class _ClosingEntries:
    awaiting: dict[int, list[Acceptance]]
    decided: dict[int, list[Acceptance]]
    retrospectives: dict[int, list[Retrospective]]


async def _closing_entries(rows: Sequence[Meeting]) -> _ClosingEntries:
    """Step 8's entries the meetings show: hand-overs awaiting acceptance (by project, for
    acceptance meetings), decisions taken in each meeting, and filed retrospectives (by
    project, for retrospective meetings)."""
    ids = [m.id for m in rows]
    acceptance_projects = {m.project_id for m in rows if m.kind == MeetingKind.ACCEPTANCE}
    retrospective_projects = {m.project_id for m in rows if m.kind == MeetingKind.RETROSPECTIVE}
    related = ("task", "receiving_department", "submitted_by", "decided_by")
    awaiting = (
        await with_related(
            Acceptance.filter(
                project_id__in=list(acceptance_projects), status=AcceptanceStatus.SUBMITTED
            ),
            *related,
        ).order_by("id")
        if acceptance_projects
        else []
    )
    decided = await with_related(
        Acceptance.filter(meeting_id__in=ids).exclude(status=AcceptanceStatus.SUBMITTED),
        *related,
    ).order_by("decided_at", "id")
    retrospectives = (
        await with_related(
            Retrospective.filter(project_id__in=list(retrospective_projects)),
            "department",
            "author",
        ).order_by("department__name", "id")
        if retrospective_projects
        else []
    )
    return _ClosingEntries(
        awaiting=_grouped(awaiting, "project_id"),
        decided=_grouped(decided, "meeting_id"),
        retrospectives=_grouped(retrospectives, "project_id"),
    )


async def _risks_to_review(
    projects: dict[int, Project], weekly_projects: set[int]
) -> dict[int, list[Risk]]:
    if not weekly_projects:
        return {}
    return await risk_queries.risks_to_review(
        {pid: clock.local_today(projects[pid]) for pid in weekly_projects}
    )


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
        decisions += await with_related(
            Decision.filter(id__in=new_decisions, meeting_id=view.meeting.id), "recorded_by"
        )
    items = list(view.action_items)
    have = {i.id for i in items}
    new_items = [i for i in action_item_ids if i not in have]
    if new_items:
        items += await with_related(
            ActionItem.filter(id__in=new_items, meeting_id=view.meeting.id),
            "owner",
            "department",
            "task",
        )
    decisions.sort(key=lambda d: d.id)
    items.sort(key=lambda i: i.id)
    return replace(view, decisions=decisions, action_items=items)


async def _open_weekly_items(project_ids: Sequence[int]) -> list[ActionItem]:
    rows = await with_related(
        ActionItem.filter(
            meeting__project_id__in=list(project_ids), meeting__kind=MeetingKind.WEEKLY
        ),
        "owner",
        "department",
        "task",
        "meeting",
    )
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
        if item.meeting.project_id == meeting.project_id
        and item.meeting.scheduled_start < meeting.scheduled_start
    ]


async def carried_action_items(meeting: Meeting) -> list[ActionItem]:
    return _carried(meeting, await _open_weekly_items([meeting.project_id]))
