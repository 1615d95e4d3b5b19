"""The append-only audit log. Writers call `record` inside their own transaction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, NotRequired, TypedDict, Unpack

from tortoise.models import Model

from server.audit.models import AuditEntry
from server.auth import Actor
from server.db import with_related
from server.i18n import N_

# How each audited action reads in the activity list.
ACTION_LABELS: dict[str, str] = {
    "department.create": N_("created the department"),
    "user.create": N_("created the user"),
    "user.activate": N_("reactivated the user"),
    "user.deactivate": N_("deactivated the user"),
    "user.password": N_("changed their password"),
    "user.password_reset": N_("reset a password"),
    "user.feed_rotate": N_("made a new calendar feed link"),
    "token.create": N_("created an API token"),
    "token.revoke": N_("revoked an API token"),
    "project.create": N_("created the project"),
    "project.update": N_("edited the project"),
    "project.archive": N_("archived the project"),
    "member.add": N_("added to the team"),
    "member.remove": N_("removed from the team"),
    "task.create": N_("added a milestone or task"),
    "plan.import": N_("imported the plan from MS Project"),
    "task.update": N_("changed a task"),
    "dependency.add": N_("linked tasks"),
    "dependency.remove": N_("unlinked tasks"),
    "plan.approve": N_("approved the plan"),
    "calendar.set": N_("changed the working calendar"),
    "calendar.remove": N_("removed a calendar day"),
    "task.progress": N_("reported progress"),
    "task.explain": N_("explained a late task"),
    "problem.report": N_("reported a problem"),
    "problem.update": N_("updated a problem"),
    "meeting.create": N_("scheduled a meeting"),
    "meeting.reschedule": N_("moved a meeting"),
    "meeting.report": N_("submitted a department report"),
    "meeting.start": N_("started a meeting"),
    "meeting.end": N_("ended a meeting"),
    "meeting.decision": N_("recorded a decision"),
    "meeting.action_item": N_("added an action item"),
    "meeting.question": N_("recorded a question"),
    "meeting.minutes_edit": N_("edited the minutes"),
    "meeting.minutes_publish": N_("published the minutes"),
    "requirement.file": N_("filed a requirement"),
    "requirement.update": N_("updated a requirement"),
    "requirement.review": N_("reviewed a requirement"),
    "requirement.conflict": N_("flagged conflicting requirements"),
    "requirement.conflict_resolved": N_("settled a requirement conflict"),
    "resource.file": N_("requested a resource"),
    "resource.update": N_("updated a resource request"),
    "resource.commit": N_("committed a resource"),
    "resource.decline": N_("declined a resource request"),
    "resource.gap_resolution": N_("resolved a resource gap"),
    "resource.gap_approved": N_("approved a resource gap"),
    "resource.gap_refused": N_("refused a resource gap"),
    "user.notice_preferences": N_("changed their notice settings"),
    "project.status": N_("moved the project to another status"),
    "acceptance.submit": N_("handed a deliverable over for acceptance"),
    "retrospective.file": N_("filed the department's retrospective"),
    "retrospective.review": N_("went through a retrospective in the meeting"),
    "change.draft": N_("drafted a change request"),
    "change.update": N_("edited a change request"),
    "change.submit": N_("submitted a change request"),
    "change.approve": N_("approved a change request"),
    "change.reject": N_("rejected a change request"),
    "change.apply": N_("approved a change request; its edits were applied"),
    "change.withdraw": N_("withdrew a change request"),
    "change.thresholds": N_("set when changes need management's approval"),
    "acceptance.accept": N_("accepted a deliverable"),
    "acceptance.reject": N_("rejected a deliverable"),
    "comment.add": N_("commented"),
    "comment.edit": N_("edited a comment"),
    "comment.withdraw": N_("withdrew a comment"),
    "attachment.add": N_("attached a file"),
    "risk.raise": N_("raised a risk"),
    "risk.update": N_("updated a risk"),
    "risk.review": N_("reviewed a risk"),
    "risk.occur": N_("recorded that a risk occurred"),
    "risk.close": N_("closed a risk"),
    "risk.critical_path": N_("raised a risk's level: a task it threatens became critical"),
    "risk.matrix": N_("changed the risk matrix"),
    "document.revise": N_("revised a document"),
    "document.request": N_("sent a document for signing"),
    "document.sign": N_("signed a document"),
    "document.reject": N_("rejected a document"),
    "document.remind": N_("reminded missing signers"),
    "document.integrity_failed": N_("found a signed document altered outside Xietong"),
    "document.delegate": N_("named a signing delegate"),
}


def snapshot(obj: Model, fields: list[str]) -> dict[str, Any]:
    """The values of `fields` as JSON-safe data, for the before/after of an audit row."""
    result: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, date | datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)  # money stays exact in the record too
        result[name] = value
    return result


class EntryDetails(TypedDict):
    action: str
    object_type: str
    object_id: int
    project_id: NotRequired[int | None]
    summary: NotRequired[str]
    before: NotRequired[dict[str, Any] | None]
    after: NotRequired[dict[str, Any] | None]


async def record(actor: Actor, **details: Unpack[EntryDetails]) -> None:
    await entry(actor, **details).save(force_create=True)


def entry(actor: Actor, **details: Unpack[EntryDetails]) -> AuditEntry:
    """The audit row `record` saves, unsaved, for writers that send it with their other
    statements (server.db.write_together)."""
    return AuditEntry(
        actor_id=actor.user_id,
        action=details["action"],
        object_type=details["object_type"],
        object_id=details["object_id"],
        project_id=details.get("project_id"),
        summary=details.get("summary", "")[:255],
        before=details.get("before"),
        after=details.get("after"),
    )


async def list_project_activity(project_id: int, *, limit: int = 20) -> list[AuditEntry]:
    """Recent activity of a project; callers have checked the actor may view it."""
    return (
        await with_related(AuditEntry.filter(project_id=project_id), "actor")
        .order_by("-id")
        .limit(limit)
    )
