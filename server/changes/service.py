"""Change requests (变更申请): drafted with their edits and computed impact, submitted to the
PM and every affected department's head (and management past the project's thresholds),
approved against the hash of the request and its impact, applied when the last approval
lands."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.transactions import in_transaction

from server import clock, events
from server.audit.service import record, snapshot
from server.auth import Action, Actor, Relation, authorize, may
from server.changes import charter
from server.changes import impact as change_impact
from server.changes.edits import PlanFacts, checked_edits
from server.changes.models import (
    ChangeApproval,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
)
from server.changes.notify import MANAGEMENT_SLOT, PM_SLOT
from server.db import with_related
from server.errors import Invalid, NotFound, stale
from server.projects.models import Project
from server.projects.service import get_project
from server.signoffs.queries import signing_rights
from server.validation import Checks

FIELDS = ["title", "reason", "kind", "edits", "cost_delta", "impact_notes", "status"]
FINISH_THRESHOLD_DAYS = 5
COST_THRESHOLD = Decimal("100000")
OPEN = (ChangeStatus.DRAFT, ChangeStatus.SUBMITTED)


@dataclass
class ChangeInput:
    title: str | None = None
    reason: str | None = None
    kind: str | None = None
    requester_department_id: int | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    cost_delta: str | Decimal | None = None
    impact_notes: str | None = None
    named_department_ids: list[int] = field(default_factory=list)
    rebaseline: bool = False


def department_slot(department_id: int) -> str:
    return f"department:{department_id}"


def hash_of(request: ChangeRequest) -> str:
    """What approvers approve: the request's words, edits and figures, and its impact."""
    payload = {
        "id": request.id,
        "title": request.title,
        "reason": request.reason,
        "kind": str(request.kind),
        "requester": request.requester_department_id,
        "edits": request.edits,
        "costDelta": str(Decimal(request.cost_delta).quantize(Decimal("0.01"))),
        "notes": request.impact_notes,
        "named": sorted(request.named_department_ids),
        "rebaseline": request.rebaseline,
        "impact": request.impact,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _cost(checks: Checks, value: str | Decimal | None, field: str = "costDelta") -> Decimal:
    if value in (None, ""):
        return Decimal("0")
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        checks.fail(field, "Enter an amount in CNY, like 12000 or -3500.50.")
        return Decimal("0")
    if (
        not amount.is_finite()
        or abs(amount) >= Decimal("1e12")
        or amount != amount.quantize(Decimal("0.01"))
    ):
        checks.fail(field, "Enter an amount in CNY, like 12000 or -3500.50.")
        return Decimal("0")
    return amount.quantize(Decimal("0.01"))


async def _checked(project: Project, data: ChangeInput, language: str) -> dict[str, Any]:
    checks = Checks()
    values: dict[str, Any] = {
        "title": checks.text("title", data.title),
        "reason": checks.text("reason", data.reason, max_length=4000, multiline=True),
        "impact_notes": checks.long_text("impactNotes", data.impact_notes),
        "cost_delta": _cost(checks, data.cost_delta),
        "rebaseline": bool(data.rebaseline),
        "requester_department_id": data.requester_department_id,
    }
    if data.kind not in ChangeKind.__members__:
        checks.fail("kind", "Choose the kind of change.")
    values["kind"] = data.kind
    facts = await PlanFacts.of(project.id)
    if data.requester_department_id not in facts.departments:
        checks.fail("requesterDepartmentId", "This department does not take part in the project.")
    named = sorted(set(data.named_department_ids))
    if set(named) - facts.departments:
        checks.fail("namedDepartmentIds", "This department does not take part in the project.")
    values["named_department_ids"] = named
    checks.done()
    values["edits"] = checked_edits(facts, data.edits)
    await charter.checked(project, values["edits"], language)
    values["impact"] = await change_impact.preview(project, values["edits"])
    return values


async def draft_change_request(
    actor: Actor, *, project_id: int, data: ChangeInput
) -> ChangeRequest:
    project = await get_project(actor, project_id=project_id)
    await authorize(
        actor,
        Action.REQUEST_CHANGES,
        project,
        department_id=data.requester_department_id,
        field="requesterDepartmentId",
    )
    values = await _checked(project, data, actor.language)
    async with in_transaction():
        locked = await Project.filter(id=project.id).select_for_update().get()
        numbers = await ChangeRequest.filter(project_id=locked.id).order_by("-number").limit(1)
        number = (numbers[0].number if numbers else 0) + 1
        request = await ChangeRequest.create(
            project_id=locked.id,
            number=number,
            slot=f"{locked.id}:{number}",
            created_by_id=actor.user_id,
            **values,
        )
        request.content_hash = hash_of(request)
        await request.save(update_fields=["content_hash"])
        await audit(actor, "change.draft", request)
    return request


async def get_change_request(actor: Actor, *, request_id: int) -> ChangeRequest:
    request = await ChangeRequest.get_or_none(id=request_id)
    if request is None:
        raise NotFound("No such change request.", field="id")
    try:
        await get_project(actor, project_id=request.project_id)
    except NotFound:
        raise NotFound("No such change request.", field="id") from None
    return request


async def authorize_author(actor: Actor, project: Project, request: ChangeRequest) -> None:
    """The requester's side edits and withdraws it: the PM, or who may ask for that
    department."""
    if await may(actor, Action.EDIT_PROJECT, project):
        return
    await authorize(
        actor, Action.REQUEST_CHANGES, project, department_id=request.requester_department_id
    )


async def update_change_request(
    actor: Actor, *, request_id: int, version: int, data: ChangeInput
) -> ChangeRequest:
    """A new text or new edits: a new impact and hash, so earlier approvals stop counting."""
    request = await get_change_request(actor, request_id=request_id)
    project = await Project.get(id=request.project_id)
    await authorize_author(actor, project, request)
    if data.requester_department_id != request.requester_department_id:
        await authorize(
            actor,
            Action.REQUEST_CHANGES,
            project,
            department_id=data.requester_department_id,
            field="requesterDepartmentId",
        )
    values = await _checked(project, data, actor.language)
    async with in_transaction():
        request = await ChangeRequest.filter(id=request.id).select_for_update().get()
        if request.version != version:
            raise stale(request.version)
        if request.status not in OPEN:
            raise Invalid("Only a draft or a submitted request is edited.", field="status")
        before = snapshot(request, FIELDS)
        request.update_from_dict(values)
        request.version += 1
        request.content_hash = hash_of(request)
        await request.save()
        await audit(actor, "change.update", request, before)
    return request


async def refresh_impact(request: ChangeRequest) -> ChangeRequest:
    """The impact computed again on the plan as it stands; a different one is a new hash
    (approvals given on the old one no longer count). A closed request keeps its record."""
    if request.status not in OPEN:
        return request
    project = await Project.get(id=request.project_id)
    try:
        fresh = await change_impact.preview(project, request.edits)
    except Invalid as refused:
        fresh = {"error": refused.message, "params": refused.params}
    if fresh == request.impact:
        return request
    async with in_transaction():
        locked = await ChangeRequest.filter(id=request.id).select_for_update().get()
        if locked.version != request.version:
            return locked
        locked.impact = fresh
        locked.content_hash = hash_of(locked)
        locked.version += 1
        await locked.save(update_fields=["impact", "content_hash", "version"])
    return locked


def refuse_broken_impact(request: ChangeRequest) -> None:
    """Edits the plan has moved away from (a task gone, a cycle now) cannot be decided."""
    if "error" in request.impact:
        raise Invalid("The edits no longer fit the plan; edit the request.", field="edits")


async def withdraw_change_request(actor: Actor, *, request_id: int, version: int) -> ChangeRequest:
    request = await get_change_request(actor, request_id=request_id)
    project = await Project.get(id=request.project_id)
    await authorize_author(actor, project, request)
    async with in_transaction():
        request = await ChangeRequest.filter(id=request.id).select_for_update().get()
        if request.version != version:
            raise stale(request.version)
        if request.status not in OPEN:
            raise Invalid("Only a draft or a submitted request is withdrawn.", field="status")
        before = snapshot(request, FIELDS)
        request.status = ChangeStatus.WITHDRAWN
        request.decided_at = clock.now()
        request.version += 1
        await request.save()
        await audit(actor, "change.withdraw", request, before)
    return request


def needs_management(project: Project, request: ChangeRequest) -> bool:
    days, limit = thresholds_of(project)
    delta = abs(int(request.impact.get("deltaWorkingDays", 0) or 0))
    return delta > days or Decimal(request.cost_delta) > limit


def required_slots(project: Project, request: ChangeRequest) -> list[str]:
    departments = change_impact.affected_departments(
        request.impact, list(request.named_department_ids)
    )
    slots = [PM_SLOT, *(department_slot(d) for d in departments)]
    if needs_management(project, request):
        slots.append(MANAGEMENT_SLOT)
    return slots


async def counted_approvals(request: ChangeRequest) -> dict[str, ChangeApproval]:
    """Decisions given on the current content, by approver slot."""
    rows = await with_related(
        ChangeApproval.filter(change_request_id=request.id, content_hash=request.content_hash),
        "user",
    )
    return {row.approver_slot: row for row in rows}


async def _event(request: ChangeRequest, name: str) -> None:
    await events.publish("project", request.project_id, name, changeRequestId=request.id)


async def audit(
    actor: Actor,
    action: str,
    request: ChangeRequest,
    before: dict[str, Any] | None = None,
    summary: str | None = None,
) -> None:
    await record(
        actor,
        action=action,
        object_type="change_request",
        object_id=request.id,
        project_id=request.project_id,
        summary=summary or f"{request.code} {request.title}",
        before=before,
        after=snapshot(request, FIELDS),
    )


async def slots_of(actor: Actor, project: Project, slots: list[str]) -> list[str]:
    """The approver slots among `slots` the actor may decide for."""
    headed, delegated = await signing_rights(actor, project)
    as_pm = await may(actor, Action.APPROVE_PLAN, project)
    as_management = await may(actor, Action.APPROVE_MAJOR_CHANGES, project)

    def mine(slot: str) -> bool:
        if slot == PM_SLOT:
            return as_pm
        if slot == MANAGEMENT_SLOT:
            return as_management
        return int(slot.split(":")[1]) in headed | delegated

    return [slot for slot in slots if mine(slot)]


async def authorize_slot(actor: Actor, project: Project, slot: str) -> None:
    if slot == PM_SLOT:
        await authorize(actor, Action.APPROVE_PLAN, project)
    elif slot == MANAGEMENT_SLOT:
        await authorize(actor, Action.APPROVE_MAJOR_CHANGES, project)
    else:
        department = int(slot.split(":")[1])
        _, delegated = await signing_rights(actor, project)
        await authorize(
            actor,
            Action.SIGN_DOCUMENTS,
            project,
            department_id=department,
            relations=(Relation.SIGNING_DELEGATE,) if department in delegated else (),
        )


async def set_change_thresholds(
    actor: Actor, *, project_id: int, version: int, finish_days: Any, cost: Any
) -> Project:
    """Past these a change request needs management's approval too (the PM sets them)."""
    project = await get_project(actor, project_id=project_id)
    async with in_transaction():
        project = await Project.filter(id=project.id).select_for_update().get()
        await authorize(actor, Action.EDIT_PROJECT, project)
        if project.version != version:
            raise stale(project.version)
        checks = Checks()
        days = checks.whole_number("changeFinishThresholdDays", finish_days, low=0, high=500)
        amount = _cost(checks, cost, "changeCostThreshold")
        if amount < 0:
            checks.fail("changeCostThreshold", "Enter an amount in CNY, like 100000.")
        checks.done()
        fields = ["change_finish_threshold_days", "change_cost_threshold"]
        before = snapshot(project, fields)
        project.change_finish_threshold_days, project.change_cost_threshold = days, amount
        project.version += 1
        await project.save(update_fields=[*fields, "version"])
        await record(
            actor,
            action="change.thresholds",
            object_type="project",
            object_id=project.id,
            project_id=project.id,
            summary=f"{days} / {amount}",
            before=before,
            after=snapshot(project, fields),
        )
    return project


def thresholds_of(project: Project) -> tuple[int, Decimal]:
    days = project.change_finish_threshold_days
    cost = project.change_cost_threshold
    return (
        FINISH_THRESHOLD_DAYS if days is None else days,
        COST_THRESHOLD if cost is None else Decimal(cost),
    )
