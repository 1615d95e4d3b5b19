"""Retrospectives (复盘): each department's liaison files what went well, what to improve and
the lessons, tagged; the lessons of every project are the organisation's memory, read by
anyone signed in when they start something new."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server import clock, events
from server.audit.service import record, snapshot
from server.auth import Action, Actor, authorize
from server.closing.models import Retrospective
from server.db import with_related
from server.errors import Forbidden, Invalid, NotFound, stale
from server.meetings.models import MeetingKind
from server.meetings.queries import live_meeting_ids, live_meeting_of
from server.projects.checks import check_takes_part
from server.projects.models import ProjectStatus
from server.projects.service import get_project
from server.validation import Checks

FIELDS = ["department_id", "went_well", "to_improve", "lessons", "tags"]
TAG_SEPARATORS = re.compile(r"[,，、;；\s]+")
MAX_TAGS = 10


@dataclass
class RetrospectiveInput:
    department_id: int | None
    went_well: str | None = None
    to_improve: str | None = None
    lessons: str | None = None
    tags: str | list[str] | None = None
    version: int | None = None


def _tags(checks: Checks, value: str | list[str] | None) -> list[str]:
    words = value if isinstance(value, list) else TAG_SEPARATORS.split(value or "")
    tags = list(dict.fromkeys(w.strip().lstrip("#") for w in words if w.strip().lstrip("#")))
    if len(tags) > MAX_TAGS or any(len(t) > 30 for t in tags):
        checks.fail("tags", "At most 10 tags of up to 30 characters each.")
    return tags[:MAX_TAGS]


async def file_retrospective(
    actor: Actor, *, project_id: int, data: RetrospectiveInput
) -> Retrospective:
    """A department's retrospective: filed once, then edited (version-checked)."""
    project = await get_project(actor, project_id=project_id)
    checks = Checks()
    department_id = data.department_id
    if department_id is None:
        roles = await actor.roles_in(project.id)
        department_id = roles[0][1] if roles else None
    await check_takes_part(checks, project.id, department_id, "departmentId")
    went_well = checks.long_text("wentWell", data.went_well)
    to_improve = checks.long_text("toImprove", data.to_improve)
    lessons = checks.long_text("lessons", data.lessons)
    tags = _tags(checks, data.tags)
    if not (went_well or to_improve or lessons):
        checks.fail("lessons", "Write at least one of the three.")
    checks.done()
    assert department_id is not None
    async with in_transaction():
        await authorize(actor, Action.FILE_RETROSPECTIVE, project, department_id=department_id)
        if project.status == ProjectStatus.PLANNING:
            raise Invalid("A retrospective is filed once the project is under way.", field="")
        slot = f"{project.id}:{department_id}"
        row = await Retrospective.filter(slot=slot).select_for_update().first()
        before = snapshot(row, FIELDS) if row else None
        if row is None:
            row = Retrospective(project_id=project.id, department_id=department_id, slot=slot)
        elif data.version != row.version:
            raise stale(row.version)
        else:
            row.version += 1
        row.update_from_dict(
            {
                # A review went through other words: the edited one is reviewed afresh.
                "reviewed_meeting_id": None,
                "reviewed_at": None,
                "author_id": actor.user_id,
                "went_well": went_well,
                "to_improve": to_improve,
                "lessons": lessons,
                "tags": tags,
                "updated_at": clock.now(),
            }
        )
        await row.save()
        await record(
            actor,
            action="retrospective.file",
            object_type="retrospective",
            object_id=row.id,
            project_id=project.id,
            summary=project.name,
            before=before,
            after=snapshot(row, FIELDS),
        )
    await _tell_retrospective_meetings(project.id, row.id)
    return row


async def review_retrospective(
    actor: Actor, *, retrospective_id: int, meeting_id: int, version: int
) -> Retrospective:
    """The chair of a running retrospective meeting marks a department's retrospective as gone
    through, as it read then (version-checked), so the minutes carry it."""
    row = await Retrospective.get_or_none(id=retrospective_id)
    if row is None:
        raise NotFound("No such retrospective.", field="id")
    project = await get_project(actor, project_id=row.project_id)
    async with in_transaction():
        await authorize(actor, Action.RECORD_IN_MEETING, project)
        meeting = await live_meeting_of(project.id, meeting_id)
        if meeting.kind != MeetingKind.RETROSPECTIVE:
            raise Invalid(
                "Retrospectives are reviewed in a retrospective meeting.", field="meetingId"
            )
        row = await Retrospective.filter(id=row.id).select_for_update().get()
        if row.version != version:
            raise stale(row.version)
        if row.reviewed_meeting_id == meeting.id:
            raise Invalid("Already reviewed in this meeting.", field="id")
        row.reviewed_meeting_id = meeting.id
        row.reviewed_at = clock.now()
        row.version += 1
        await row.save()
        await record(
            actor,
            action="retrospective.review",
            object_type="retrospective",
            object_id=row.id,
            project_id=project.id,
            summary=meeting.title,
        )
    await _tell_retrospective_meetings(project.id, row.id)
    return row


async def _tell_retrospective_meetings(project_id: int, retrospective_id: int) -> None:
    for live in await live_meeting_ids(project_id, MeetingKind.RETROSPECTIVE):
        await events.publish(
            "meeting", live, "retrospective.changed", retrospectiveId=retrospective_id
        )


async def list_retrospectives(project_id: int) -> list[Retrospective]:
    return await with_related(Retrospective.filter(project_id=project_id), "department", "author")


@dataclass(frozen=True)
class LessonFilter:
    department_id: int | None = None
    tag: str | None = None
    text: str | None = None


async def list_lessons(
    actor: Actor, wanted: LessonFilter, *, offset: int = 0, limit: int = 50
) -> tuple[list[Retrospective], int]:
    """Lessons of every project, newest first: the organisation's memory is open to everyone
    signed in (a PM starting a project learns from projects they were never on)."""
    if actor.user is None and not actor.is_admin:
        raise Forbidden("You may not do this.")
    query = Retrospective.all()
    if wanted.department_id is not None:
        query = query.filter(department_id=wanted.department_id)
    if wanted.text:
        words = wanted.text.strip()[:100]
        query = query.filter(
            Q(lessons__icontains=words)
            | Q(went_well__icontains=words)
            | Q(to_improve__icontains=words)
        )
    rows = await with_related(query, "project", "department", "author")
    if wanted.tag:
        rows = [r for r in rows if wanted.tag in (r.tags or [])]
    return rows[offset : offset + limit], len(rows)


async def all_tags() -> list[str]:
    tags: set[str] = set()
    for row_tags in await Retrospective.all().values_list("tags", flat=True):
        tags.update(row_tags or [])
    return sorted(tags)
