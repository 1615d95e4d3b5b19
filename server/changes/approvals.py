"""Submitting a change request and deciding it: each approver approves or rejects the exact
content (request and impact, by hash); the last approval applies it in the same
transaction."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from server import clock, events
from server.audit.service import snapshot
from server.auth import Actor
from server.changes import applying
from server.changes.models import ApprovalDecision, ChangeApproval, ChangeRequest, ChangeStatus
from server.changes.notify import ask_approvers
from server.changes.service import (
    FIELDS,
    audit,
    authorize_author,
    counted_approvals,
    get_change_request,
    refresh_impact,
    refuse_broken_impact,
    required_slots,
    slots_of,
)
from server.errors import Conflict, Forbidden, Invalid, stale
from server.projects.models import Project
from server.validation import Checks


async def submit_change_request(actor: Actor, *, request_id: int, version: int) -> ChangeRequest:
    request = await get_change_request(actor, request_id=request_id)
    project = await Project.get(id=request.project_id)
    await authorize_author(actor, project, request)
    request = await refresh_impact(request)
    async with in_transaction():
        locked = await ChangeRequest.filter(id=request.id).select_for_update().get()
        if locked.version != version:
            raise stale(locked.version)
        if locked.status != ChangeStatus.DRAFT:
            raise Invalid("Only a draft is submitted.", field="status")
        refuse_broken_impact(locked)
        before = snapshot(locked, FIELDS)
        locked.status = ChangeStatus.SUBMITTED
        locked.submitted_at = clock.now()
        locked.version += 1
        await locked.save()
        await audit(actor, "change.submit", locked, before)
        await ask_approvers(project, locked, required_slots(project, locked))
    await events.publish("project", project.id, "change.submitted", changeRequestId=locked.id)
    return locked


@dataclass
class DecisionInput:
    decision: str
    content_hash: str
    comment: str | None = None


async def decide_change_request(
    actor: Actor, *, request_id: int, data: DecisionInput
) -> ChangeRequest:
    """Approve or reject for every approver slot of this request the actor holds."""
    checks = Checks()
    if data.decision not in ApprovalDecision.__members__:
        checks.fail("decision", "Choose approve or reject.")
    rejecting = data.decision == ApprovalDecision.REJECT
    comment = checks.text(
        "comment", data.comment, required=rejecting, max_length=2000, multiline=True
    )
    checks.done()
    request = await get_change_request(actor, request_id=request_id)
    request = await refresh_impact(request)
    async with in_transaction():
        project = await Project.filter(id=request.project_id).select_for_update().get()
        request = await ChangeRequest.filter(id=request.id).select_for_update().get()
        if request.status == ChangeStatus.DRAFT:
            raise Invalid("This request has not been submitted yet.", field="status")
        if request.status == ChangeStatus.APPLIED:
            raise Invalid("This change was approved and applied already.", field="status")
        if request.status != ChangeStatus.SUBMITTED:
            raise Invalid("This request is closed.", field="status")
        refuse_broken_impact(request)
        if data.content_hash != request.content_hash:
            raise Conflict(
                "The request or its impact changed since you read it; read it again.",
                field="contentHash",
            )
        required = required_slots(project, request)
        mine = await slots_of(actor, project, required)
        if not mine:
            raise Forbidden(
                "Only the project manager and the heads of the affected departments "
                "(and management for a large change) decide this request."
            )
        decided = await counted_approvals(request)
        open_slots = [s for s in mine if s not in decided]
        if not open_slots:
            raise Invalid("You have decided on this content already.", field="decision")
        await _store(actor, request, open_slots, ApprovalDecision(data.decision), comment)
        if rejecting:
            await _close(actor, request, ChangeStatus.REJECTED, "change.reject")
        elif all(s in decided or s in open_slots for s in required) and not any(
            d.decision == ApprovalDecision.REJECT for d in decided.values()
        ):
            request.applied = await applying.apply_change(actor, project, request)
            await _close(actor, request, ChangeStatus.APPLIED, "change.apply")
        else:
            await audit(actor, "change.approve", request)
    await events.publish("project", project.id, "change.decided", changeRequestId=request.id)
    return request


async def _store(
    actor: Actor,
    request: ChangeRequest,
    slots: list[str],
    decision: ApprovalDecision,
    comment: str,
) -> None:
    now = clock.now()
    await ChangeApproval.bulk_create(
        [
            ChangeApproval(
                change_request_id=request.id,
                approver_slot=slot,
                department_id=int(slot.split(":")[1]) if slot.startswith("department:") else None,
                user_id=actor.user_id,
                decision=decision,
                comment=comment,
                content_hash=request.content_hash,
                decided_at=now,
                unique_key=f"{request.id}:{slot}:{request.content_hash}",
            )
            for slot in slots
        ]
    )


async def _close(actor: Actor, request: ChangeRequest, status: ChangeStatus, action: str) -> None:
    before = snapshot(request, FIELDS)
    request.status = status
    request.decided_at = clock.now()
    request.version += 1
    await request.save()
    await audit(actor, action, request, before)
