"""Resource requests (资源需求表): filed per department, committed or declined by the head of
the supplying department (the PM for the project's own budget). A declined request, or one
still unmet on its needed-by date, is a gap: the PM resolves it by a temporary transfer, a
re-prioritisation, or by asking management, who approve or refuse from a phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server import clock, events
from server.audit.service import record, snapshot
from server.auth import Action, Actor, authorize
from server.db import with_related
from server.errors import Invalid, NotFound, stale
from server.notices import service as notices
from server.notices.models import ChatRobot
from server.projects.checks import check_takes_part
from server.projects.models import Project, ProjectMember, Role
from server.projects.service import get_project
from server.requirements import confirmation
from server.requirements.models import (
    UNRESOLVED_GAPS,
    GapResolution,
    GapState,
    ResourceKind,
    ResourceRequest,
    ResourceStatus,
)
from server.requirements.service import choice
from server.settings import get_settings
from server.validation import Checks

REQUEST_FIELDS = [
    "kind",
    "description",
    "quantity",
    "unit",
    "amount",
    "needed_by",
    "supplier_id",
    "status",
    "decision_comment",
    "gap_state",
    "gap_resolution",
    "gap_note",
    "gap_from_id",
    "management_comment",
]
MAX_QUANTITY = Decimal("9999999999.99")
MAX_AMOUNT = Decimal("999999999999.99")


@dataclass
class ResourceInput:
    department_id: int | None = None
    kind: str | None = None
    description: str | None = None
    quantity: Decimal | str | int | None = None
    unit: str | None = None
    amount: Decimal | str | None = None
    needed_by: date | str | None = None
    supplier_id: int | None = None
    # The supplier field was sent empty: the project's own budget.
    own_budget: bool = False


def exact_decimal(
    checks: Checks, field_name: str, value: Any, *, limit: Decimal, positive: bool
) -> Decimal | None:
    """A money or quantity figure as typed, two decimals at most, never through a float."""
    if isinstance(value, float):
        checks.fail(field_name, "Enter the number as text, with at most two decimals.")
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        checks.fail(field_name, "Enter a number with at most two decimals.")
        return None
    if not number.is_finite() or number.as_tuple().exponent < -2:  # type: ignore[operator]
        checks.fail(field_name, "Enter a number with at most two decimals.")
        return None
    if positive and number <= 0:
        checks.fail(field_name, "Enter a number above zero.")
        return None
    if number < 0:
        checks.fail(field_name, "The amount cannot be negative.")
        return None
    if number > limit:
        checks.fail(field_name, "This number is too large.")
        return None
    return number.quantize(Decimal("0.01"))


async def _checked(
    project: Project, data: ResourceInput, *, creating: bool, today: date
) -> dict[str, Any]:
    checks = Checks()
    changes: dict[str, Any] = {}
    if creating or data.kind not in (None, ""):
        changes["kind"] = choice(checks, "kind", data.kind, ResourceKind)
    if creating or data.description is not None:
        changes["description"] = checks.text(
            "description", data.description, max_length=2000, multiline=True
        )
    if creating or data.quantity not in (None, ""):
        changes["quantity"] = exact_decimal(
            checks, "quantity", data.quantity, limit=MAX_QUANTITY, positive=True
        )
    if data.unit is not None:
        changes["unit"] = checks.text("unit", data.unit, required=False, max_length=32)
    if data.amount not in (None, ""):
        changes["amount"] = exact_decimal(
            checks, "amount", data.amount, limit=MAX_AMOUNT, positive=False
        )
    elif data.amount == "":
        changes["amount"] = None
    if data.needed_by not in (None, ""):
        needed = checks.day("neededBy", data.needed_by)
        if needed is not None and needed < today:
            checks.fail("neededBy", "The needed-by date cannot be in the past.")
        changes["needed_by"] = needed
    await check_takes_part(checks, project.id, data.supplier_id, "supplierId")
    if data.supplier_id is not None:
        changes["supplier_id"] = data.supplier_id
    elif data.own_budget:
        changes["supplier_id"] = None
    if creating:
        if data.department_id is None:
            checks.fail("departmentId", "This field is required.")
        await check_takes_part(checks, project.id, data.department_id, "departmentId")
    checks.done()
    return changes


async def _audit(
    actor: Actor, action: str, request: ResourceRequest, before: dict[str, Any] | None = None
) -> None:
    await record(
        actor,
        action=action,
        object_type="resource_request",
        object_id=request.id,
        project_id=request.project_id,
        summary=request.description[:200],
        before=before,
        after=snapshot(request, REQUEST_FIELDS),
    )


async def file_request(actor: Actor, *, project_id: int, data: ResourceInput) -> ResourceRequest:
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
        request = await ResourceRequest.create(
            project=project,
            department_id=data.department_id,
            filed_by_id=actor.user_id,
            **changes,
        )
        await _audit(actor, "resource.file", request)
    await events.publish("project", project.id, "resource.filed", resourceRequestId=request.id)
    return request


async def get_request(actor: Actor, *, request_id: int) -> ResourceRequest:
    request = await ResourceRequest.filter(id=request_id).first()
    if request is None:
        raise NotFound("No such resource request.", field="id")
    await get_project(actor, project_id=request.project_id)
    return request


async def _locked(actor: Actor, request_id: int, version: int) -> tuple[Project, ResourceRequest]:
    request = await get_request(actor, request_id=request_id)
    project = await Project.filter(id=request.project_id).select_for_update().get()
    request = await ResourceRequest.filter(id=request.id).select_for_update().get()
    return project, request


def _current(request: ResourceRequest, version: int) -> None:
    if request.version != version:
        raise stale(request.version)


async def update_request(
    actor: Actor, *, request_id: int, version: int, data: ResourceInput
) -> ResourceRequest:
    """The requesting department edits it until the supplier has decided."""
    async with in_transaction():
        project, request = await _locked(actor, request_id, version)
        await authorize(
            actor, Action.FILE_REQUIREMENTS, project, department_id=request.department_id
        )
        _current(request, version)
        if request.status != ResourceStatus.REQUESTED:
            raise Invalid("The supplier has decided; this request can no longer be edited.")
        changes = await _checked(project, data, creating=False, today=clock.local_today(project))
        before = snapshot(request, REQUEST_FIELDS)
        for name, value in changes.items():
            setattr(request, name, value)
        request.version += 1
        await request.save()
        await _audit(actor, "resource.update", request, before)
    await events.publish("project", project.id, "resource.updated", resourceRequestId=request.id)
    return request


async def authorize_commit(actor: Actor, project: Project, request: ResourceRequest) -> None:
    """The supplying department's head decides; the PM for the project's own budget."""
    if request.supplier_id is None:
        await authorize(actor, Action.EDIT_PROJECT, project)
    else:
        await authorize(actor, Action.COMMIT_RESOURCES, project, department_id=request.supplier_id)


async def commit_resource(
    actor: Actor, *, request_id: int, version: int, commit: bool, comment: str | None = None
) -> ResourceRequest:
    async with in_transaction():
        project, request = await _locked(actor, request_id, version)
        await authorize_commit(actor, project, request)
        _current(request, version)
        if request.status != ResourceStatus.REQUESTED:
            raise Invalid("This request has already been decided.", field="commit")
        checks = Checks()
        cleaned = checks.long_text("comment", comment)
        if not commit and not cleaned:
            checks.fail("comment", "Say why the request is declined.")
        checks.done()
        before = snapshot(request, REQUEST_FIELDS)
        request.status = ResourceStatus.COMMITTED if commit else ResourceStatus.DECLINED
        request.decision_comment = cleaned
        request.decided_by_id, request.decided_at = actor.user_id, clock.now()
        if not commit:
            request.gap_state = GapState.OPEN
        elif request.gap_state == GapState.OPEN:
            request.gap_state = GapState.NONE  # met late after all
        request.version += 1
        await request.save()
        await _audit(actor, "resource.commit" if commit else "resource.decline", request, before)
        await confirmation.refresh(project)
    await events.publish("project", project.id, "resource.decided", resourceRequestId=request.id)
    return request


@dataclass
class GapInput:
    resolution: str | None = None
    note: str | None = None
    from_department_id: int | None = None


async def resolve_gap(
    actor: Actor, *, request_id: int, version: int, data: GapInput
) -> ResourceRequest:
    """The PM says how a gap is closed; management approval sends it to management."""
    async with in_transaction():
        project, request = await _locked(actor, request_id, version)
        await authorize(actor, Action.RESOLVE_GAPS, project)
        _current(request, version)
        today = clock.local_today(project)
        if not is_gap(request, today) or request.gap_state not in (*UNRESOLVED_GAPS, GapState.NONE):
            raise Invalid("This request is not an open gap.", field="resolution")
        if request.gap_state == GapState.AWAITING_MANAGEMENT:
            raise Invalid("Management has not decided yet.", field="resolution")
        checks = Checks()
        resolution = choice(checks, "resolution", data.resolution, GapResolution)
        note = checks.long_text("note", data.note)
        if resolution is GapResolution.TRANSFER:
            if data.from_department_id is None:
                checks.fail("fromDepartmentId", "Say which department lends the resource.")
            await check_takes_part(checks, project.id, data.from_department_id, "fromDepartmentId")
        if resolution in (GapResolution.TRANSFER, GapResolution.REPRIORITISE) and not note:
            checks.fail("note", "Say who or what moves, and how much.")
        checks.done()
        before = snapshot(request, REQUEST_FIELDS)
        request.gap_resolution, request.gap_note = resolution, note
        request.gap_from_id = (
            data.from_department_id if resolution is GapResolution.TRANSFER else None
        )
        request.management_comment, request.management_by_id = "", None
        if resolution is GapResolution.MANAGEMENT:
            request.gap_state = GapState.AWAITING_MANAGEMENT
        else:
            request.gap_state = GapState.RESOLVED
        request.version += 1
        await request.save()
        await _audit(actor, "resource.gap_resolution", request, before)
        if resolution is GapResolution.MANAGEMENT:
            await _ask_management(project, request)
        await confirmation.refresh(project)
    await events.publish("project", project.id, "resource.gap", resourceRequestId=request.id)
    return request


def is_gap(request: ResourceRequest, today: date) -> bool:
    """Declined, or still unmet on its needed-by date."""
    if request.status == ResourceStatus.DECLINED:
        return True
    unmet = request.status == ResourceStatus.REQUESTED
    return unmet and request.needed_by is not None and request.needed_by <= today


async def _ask_management(project: Project, request: ResourceRequest) -> None:
    """Every management member by email, and the project's chat robots (with @mobiles)."""
    managers = await with_related(
        ProjectMember.filter(project_id=project.id, role=Role.MANAGEMENT, left_at__isnull=True),
        "user",
    )
    link = f"{get_settings().base_url}/projects/{project.code}/resources/{request.id}/decide"
    episode = f"gap:{request.id}:v{request.version}"
    for member in managers:
        await notices.queue_email(
            recipient=member.user,
            template="gap_approval",
            dedup_key=f"{episode}:u{member.user_id}",
            project_id=project.id,
            project=project,
            request=request,
            link=link,
        )
    robots = await ChatRobot.filter(Q(project_id=project.id), active=True)
    mobiles = [m.user.mobile for m in managers if m.user.mobile]
    for robot in robots:
        await notices.queue_chat(
            robot=robot,
            template="gap_approval",
            dedup_key=f"{episode}:r{robot.id}",
            mentions=mobiles,
            project_id=project.id,
            project=project,
            request=request,
            link=link,
        )


async def decide_gap(
    actor: Actor, *, request_id: int, version: int, approve: bool, comment: str | None
) -> ResourceRequest:
    """Management approves (the gap is resolved) or refuses (it is open again for the PM)."""
    async with in_transaction():
        project, request = await _locked(actor, request_id, version)
        await authorize(actor, Action.DECIDE_GAPS, project)
        _current(request, version)
        if request.gap_state != GapState.AWAITING_MANAGEMENT:
            raise Invalid("This gap is not waiting for management.", field="approve")
        checks = Checks()
        cleaned = checks.long_text("comment", comment)
        if not approve and not cleaned:
            checks.fail("comment", "Say why the request is refused.")
        checks.done()
        before = snapshot(request, REQUEST_FIELDS)
        request.gap_state = GapState.RESOLVED if approve else GapState.OPEN
        request.management_comment = cleaned
        request.management_by_id = actor.user_id
        request.version += 1
        await request.save()
        await _audit(
            actor, "resource.gap_approved" if approve else "resource.gap_refused", request, before
        )
        await confirmation.refresh(project)
    await events.publish("project", project.id, "resource.gap", resourceRequestId=request.id)
    return request
