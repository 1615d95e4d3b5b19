"""Minutes (会议纪要): drafted from what was recorded, edited with revisions, published to
everyone concerned."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from tortoise.transactions import in_transaction

from server import events
from server.auth import Action, Actor, may
from server.db import ids_in
from server.errors import Invalid, NotFound, stale
from server.meetings.models import (
    Attendee,
    Meeting,
    MeetingStatus,
    MinutesRevision,
)
from server.meetings.queries import get_meeting, meeting_view
from server.meetings.service import lock_for_run, record_action
from server.notices import service as notices
from server.org.models import Department, User
from server.projects.models import Project, ProjectDepartment, ProjectMember, Role
from server.templating import render
from server.validation import Checks

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
    project = await Project.get(id=meeting.project_id)
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
        project, meeting = await lock_for_run(actor, meeting_id)
        if meeting.status != MeetingStatus.ENDED:
            raise Invalid("Minutes are written once the meeting has ended.", field="meetingId")
        checks.done()
        if meeting.version != version:
            raise stale(meeting.version)
        meeting.minutes_draft = text
        meeting.version += 1
        await meeting.save()
        await record_action(actor, meeting, project, "meeting.minutes_edit")
    return meeting


async def publish_minutes(
    actor: Actor, *, meeting_id: int, change_note: str | None = None
) -> MinutesRevision:
    """Freeze the draft as the next revision and send it to attendees and department heads."""
    async with in_transaction():
        project, meeting = await lock_for_run(actor, meeting_id)
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
        await record_action(actor, meeting, project, "meeting.minutes_publish")
        await _queue_minutes(project, meeting, revision, latest)
    await events.publish("meeting", meeting.id, "minutes.published", revision=revision.revision)
    return revision


async def minutes_recipients(project: Project, meeting: Meeting) -> list[User]:
    """Every attendee and the head of every department taking part, each once."""
    attendee_ids = await ids_in(Attendee.filter(meeting_id=meeting.id), "user_id")
    departments = await ids_in(ProjectDepartment.filter(project_id=project.id), "department_id")
    head_ids = await ids_in(
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
