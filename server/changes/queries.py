"""What the change pages and the API read: the change log, one request, where its approvals
stand."""

from __future__ import annotations

from dataclasses import dataclass

from server.auth import Actor
from server.changes.models import ChangeApproval, ChangeRequest, ChangeStatus
from server.changes.notify import MANAGEMENT_SLOT, PM_SLOT
from server.changes.service import counted_approvals, required_slots, slots_of
from server.db import with_related
from server.errors import NotFound
from server.org.models import Department
from server.planning.models import Dependency
from server.projects.models import Project
from server.requirements.models import ResourceRequest


async def list_change_requests(project_id: int) -> list[ChangeRequest]:
    """The change log, newest first."""
    return await with_related(
        ChangeRequest.filter(project_id=project_id), "requester_department", "created_by"
    )


async def by_number(project: Project, number: int) -> ChangeRequest:
    """A request of a project the caller has already found visible."""
    request = await with_related(
        ChangeRequest.filter(project_id=project.id, number=number),
        "requester_department",
        "created_by",
    ).first()
    if request is None:
        raise NotFound("No such change request.", field="id")
    return request


@dataclass
class EditChoices:
    """What the forms that add edits offer: the plan's links and the resource requests."""

    links: list[Dependency]
    resources: list[ResourceRequest]


async def edit_choices(project_id: int) -> EditChoices:
    links = await Dependency.filter(project_id=project_id).select_related(
        "predecessor", "successor"
    )
    resources = await ResourceRequest.filter(project_id=project_id).select_related("department")
    return EditChoices(links, resources)


@dataclass
class ApproverState:
    slot: str
    department: Department | None
    approval: ChangeApproval | None

    @property
    def is_pm(self) -> bool:
        return self.slot == PM_SLOT

    @property
    def is_management(self) -> bool:
        return self.slot == MANAGEMENT_SLOT


@dataclass
class Approvals:
    approvers: list[ApproverState]
    # The slots the reader may still decide on the current content.
    mine_open: list[str]
    history: list[ChangeApproval]

    @property
    def waiting(self) -> list[ApproverState]:
        return [a for a in self.approvers if a.approval is None]


async def approvals_of(actor: Actor, project: Project, request: ChangeRequest) -> Approvals:
    required = required_slots(project, request)
    counted = await counted_approvals(request)
    departments = {
        d.id: d
        for d in await Department.filter(
            id__in=[int(s.split(":")[1]) for s in required if s.startswith("department:")]
        )
    }
    approvers = [
        ApproverState(
            slot,
            departments.get(int(slot.split(":")[1])) if slot.startswith("department:") else None,
            counted.get(slot),
        )
        for slot in required
    ]
    mine = (
        await slots_of(actor, project, required) if request.status == ChangeStatus.SUBMITTED else []
    )
    history = await with_related(ChangeApproval.filter(change_request_id=request.id), "user")
    return Approvals(approvers, [s for s in mine if s not in counted], history)
