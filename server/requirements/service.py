"""Requirements (需求清单): filed by each department's liaison (or the PM), edited by the filer
until reviewed, reviewed by the PM (accept, reject with a reason, merge into another), also
live in a requirement-review meeting; conflicting pairs flagged and settled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server import clock, events
from server.audit.service import record, snapshot
from server.auth import Action, Actor, authorize
from server.errors import Invalid, NotFound, stale
from server.meetings.models import Decision, Meeting, MeetingKind, MeetingStatus
from server.projects.checks import check_takes_part
from server.projects.models import Project
from server.projects.service import get_project
from server.requirements import confirmation
from server.requirements.models import (
    ConflictStatus,
    Priority,
    Requirement,
    RequirementConflict,
    RequirementStatus,
)
from server.validation import Checks

REQUIREMENT_FIELDS = [
    "title",
    "description",
    "priority",
    "asked_of_id",
    "acceptance_criterion",
    "needed_by",
    "status",
    "decision_reason",
    "merged_into_id",
]


@dataclass
class RequirementInput:
    department_id: int | None = None
    title: str | None = None
    description: str | None = None
    priority: str | None = None
    asked_of_id: int | None = None
    acceptance_criterion: str | None = None
    needed_by: date | str | None = None


def choice(checks: Checks, field_name: str, value: str | None, kind: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        checks.fail(field_name, "Choose one of: %(choices)s.", choices=", ".join(kind))
        return None


async def _checked(
    project: Project, data: RequirementInput, *, creating: bool, today: date
) -> dict[str, Any]:
    checks = Checks()
    changes: dict[str, Any] = {}
    if creating or data.title is not None:
        changes["title"] = checks.text("title", data.title, max_length=200)
    for name in ("description", "acceptance_criterion"):
        value = getattr(data, name)
        if value is not None:
            changes[name] = checks.long_text(_camel(name), value)
    if data.priority not in (None, ""):
        changes["priority"] = choice(checks, "priority", data.priority, Priority)
    if data.needed_by not in (None, ""):
        needed = checks.day("neededBy", data.needed_by)
        if needed is not None and needed < today:
            checks.fail("neededBy", "The needed-by date cannot be in the past.")
        changes["needed_by"] = needed
    elif data.needed_by == "":
        changes["needed_by"] = None
    await check_takes_part(checks, project.id, data.asked_of_id, "askedOfId")
    if data.asked_of_id is not None:
        changes["asked_of_id"] = data.asked_of_id
    if creating:
        if data.department_id is None:
            checks.fail("departmentId", "This field is required.")
        await check_takes_part(checks, project.id, data.department_id, "departmentId")
    checks.done()
    return changes


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def file_requirement(actor: Actor, *, project_id: int, data: RequirementInput) -> Requirement:
    """A liaison files for their own department; the PM for any."""
    project = await get_project(actor, project_id=project_id)
    async with in_transaction():
        project = await Project.filter(id=project.id).select_for_update().get()
        await authorize(
            actor,
            Action.FILE_REQUIREMENTS,
            project,
            department_id=data.department_id,
            field="departmentId",
        )
        changes = await _checked(project, data, creating=True, today=clock.local_today(project))
        requirement = await Requirement.create(
            project=project,
            department_id=data.department_id,
            filed_by_id=actor.user_id,
            **changes,
        )
        await _audit(actor, "requirement.file", requirement, after=True)
    await events.publish("project", project.id, "requirement.filed", requirementId=requirement.id)
    return requirement


async def _audit(
    actor: Actor, action: str, requirement: Requirement, *, before: Any = None, after: bool = True
) -> None:
    await record(
        actor,
        action=action,
        object_type="requirement",
        object_id=requirement.id,
        project_id=requirement.project_id,
        summary=requirement.title,
        before=before,
        after=snapshot(requirement, REQUIREMENT_FIELDS) if after else None,
    )


async def get_requirement(actor: Actor, *, requirement_id: int) -> Requirement:
    requirement = await Requirement.filter(id=requirement_id).first()
    if requirement is None:
        raise NotFound("No such requirement.", field="id")
    await get_project(actor, project_id=requirement.project_id)
    return requirement


async def _locked(
    actor: Actor, requirement_id: int, version: int, action: Action
) -> tuple[Project, Requirement]:
    """Locked, allowed, current — in that order, so a stale form always hears it is stale."""
    requirement = await get_requirement(actor, requirement_id=requirement_id)
    project = await Project.filter(id=requirement.project_id).select_for_update().get()
    requirement = await Requirement.filter(id=requirement.id).select_for_update().get()
    await authorize(actor, action, project, department_id=requirement.department_id)
    if requirement.version != version:
        raise stale(requirement.version)
    return project, requirement


async def update_requirement(
    actor: Actor, *, requirement_id: int, version: int, data: RequirementInput
) -> Requirement:
    """The filer's department edits it until it is reviewed."""
    async with in_transaction():
        project, requirement = await _locked(
            actor, requirement_id, version, Action.FILE_REQUIREMENTS
        )
        if requirement.status != RequirementStatus.FILED:
            raise Invalid("This requirement has been reviewed and can no longer be edited.")
        changes = await _checked(project, data, creating=False, today=clock.local_today(project))
        before = snapshot(requirement, REQUIREMENT_FIELDS)
        for name, value in changes.items():
            setattr(requirement, name, value)
        requirement.version += 1
        await requirement.save()
        await _audit(actor, "requirement.update", requirement, before=before)
    await events.publish("project", project.id, "requirement.updated", requirementId=requirement.id)
    return requirement


@dataclass
class ReviewInput:
    decision: str | None = None  # ACCEPT, REJECT or MERGE
    reason: str | None = None
    merge_into_id: int | None = None
    meeting_id: int | None = None


REVIEW_DECISIONS = {
    "ACCEPT": RequirementStatus.ACCEPTED,
    "REJECT": RequirementStatus.REJECTED,
    "MERGE": RequirementStatus.MERGED,
}


async def _checked_review(
    project: Project, requirement: Requirement, data: ReviewInput
) -> tuple[RequirementStatus, str, int | None]:
    checks = Checks()
    status = REVIEW_DECISIONS.get(data.decision or "")
    if status is None:
        checks.fail("decision", "Choose one of: %(choices)s.", choices="ACCEPT, REJECT, MERGE")
    reason = checks.long_text("reason", data.reason)
    if status is RequirementStatus.REJECTED and not reason:
        checks.fail("reason", "Say why the requirement is rejected.")
    into = None
    if status is RequirementStatus.MERGED:
        into = data.merge_into_id
        target = await Requirement.filter(id=into).first() if into else None
        if into == requirement.id:
            checks.fail("mergeIntoId", "A requirement cannot be merged into itself.")
        elif target is None or target.project_id != project.id:
            checks.fail("mergeIntoId", "Choose a requirement of this project.")
        elif target.status in (RequirementStatus.REJECTED, RequirementStatus.MERGED):
            checks.fail("mergeIntoId", "Merge into a requirement that is still open or accepted.")
    checks.done()
    assert status is not None
    return status, reason, into


async def _review_meeting(project: Project, meeting_id: int | None) -> Meeting | None:
    if meeting_id is None:
        return None
    meeting = await Meeting.filter(id=meeting_id, project_id=project.id).first()
    if meeting is None or meeting.kind != MeetingKind.REQUIREMENT_REVIEW:
        raise Invalid("Choose a requirement review meeting of this project.", field="meetingId")
    if meeting.status != MeetingStatus.LIVE:
        raise Invalid("The meeting is not running.", field="meetingId")
    return meeting


async def review_requirement(
    actor: Actor, *, requirement_id: int, version: int, data: ReviewInput
) -> Requirement:
    """Accept, reject (with a reason) or merge; in a live review meeting the decision is also
    recorded as the meeting's decision, so the minutes have it."""
    async with in_transaction():
        project, requirement = await _locked(
            actor, requirement_id, version, Action.REVIEW_REQUIREMENTS
        )
        if requirement.status != RequirementStatus.FILED:
            raise Invalid("This requirement has already been reviewed.", field="decision")
        status, reason, into = await _checked_review(project, requirement, data)
        meeting = await _review_meeting(project, data.meeting_id)
        before = snapshot(requirement, REQUIREMENT_FIELDS)
        requirement.status = status
        requirement.decision_reason = reason
        requirement.merged_into_id = into
        requirement.reviewed_by_id = actor.user_id
        requirement.reviewed_at = clock.now()
        requirement.review_meeting_id = meeting.id if meeting else None
        requirement.version += 1
        await requirement.save()
        if status in (RequirementStatus.REJECTED, RequirementStatus.MERGED):
            await _settle_conflicts_of(requirement)
        if meeting is not None:
            await Decision.create(
                meeting=meeting,
                text=await confirmation.review_decision_text(requirement, actor.language),
                recorded_by_id=actor.user_id,
            )
        await _audit(actor, "requirement.review", requirement, before=before)
        await confirmation.refresh(project)
    await events.publish(
        "project", project.id, "requirement.reviewed", requirementId=requirement.id
    )
    if meeting is not None:
        await events.publish("meeting", meeting.id, "requirement.reviewed")
    return requirement


async def _settle_conflicts_of(requirement: Requirement) -> None:
    """A rejected or merged requirement no longer conflicts with anything."""
    await RequirementConflict.filter(
        Q(requirement_a_id=requirement.id) | Q(requirement_b_id=requirement.id),
        status=ConflictStatus.OPEN,
    ).update(status=ConflictStatus.RESOLVED, resolved_at=clock.now())


async def flag_conflict(
    actor: Actor, *, first_id: int, second_id: int, note: str | None
) -> RequirementConflict:
    first = await get_requirement(actor, requirement_id=first_id)
    async with in_transaction():
        project = await Project.filter(id=first.project_id).select_for_update().get()
        await authorize(actor, Action.REVIEW_REQUIREMENTS, project)
        checks = Checks()
        cleaned = checks.long_text("note", note)
        second = await Requirement.filter(id=second_id, project_id=project.id).first()
        if second is None or second.id == first.id:
            checks.fail("secondId", "Choose another requirement of this project.")
        checks.done()
        assert second is not None
        low, high = sorted((first.id, second.id))
        pair = f"{low}:{high}"
        existing = await RequirementConflict.filter(pair=pair).first()
        if existing is not None and existing.status == ConflictStatus.OPEN:
            raise Invalid("These two are already flagged as conflicting.", field="secondId")
        if existing is not None:
            existing.status, existing.note, existing.decision = ConflictStatus.OPEN, cleaned, ""
            existing.flagged_by_id, existing.resolved_at = actor.user_id, None
            existing.version += 1
            await existing.save()
            conflict = existing
        else:
            conflict = await RequirementConflict.create(
                project=project,
                requirement_a_id=low,
                requirement_b_id=high,
                pair=pair,
                note=cleaned,
                flagged_by_id=actor.user_id,
            )
        await record(
            actor,
            action="requirement.conflict",
            object_type="requirement_conflict",
            object_id=conflict.id,
            project_id=project.id,
            summary=cleaned[:200] or pair,
        )
    await events.publish("project", project.id, "requirement.conflict", conflictId=conflict.id)
    return conflict


async def resolve_conflict(
    actor: Actor, *, conflict_id: int, version: int, decision: str | None
) -> RequirementConflict:
    conflict = await RequirementConflict.filter(id=conflict_id).first()
    if conflict is None:
        raise NotFound("No such conflict.", field="id")
    await get_project(actor, project_id=conflict.project_id)
    async with in_transaction():
        project = await Project.filter(id=conflict.project_id).select_for_update().get()
        conflict = await RequirementConflict.filter(id=conflict.id).select_for_update().get()
        await authorize(actor, Action.REVIEW_REQUIREMENTS, project)
        if conflict.version != version:
            raise stale(conflict.version)
        if conflict.status != ConflictStatus.OPEN:
            raise Invalid("This conflict is already settled.", field="decision")
        checks = Checks()
        cleaned = checks.long_text("decision", decision)
        if not cleaned:
            checks.fail("decision", "Say how the conflict is settled.")
        checks.done()
        conflict.status, conflict.decision = ConflictStatus.RESOLVED, cleaned
        conflict.resolved_by_id, conflict.resolved_at = actor.user_id, clock.now()
        conflict.version += 1
        await conflict.save()
        await record(
            actor,
            action="requirement.conflict_resolved",
            object_type="requirement_conflict",
            object_id=conflict.id,
            project_id=project.id,
            summary=cleaned[:200],
        )
    await events.publish("project", project.id, "requirement.conflict", conflictId=conflict.id)
    return conflict
