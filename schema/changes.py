"""Change requests through the API: draft with edits, read the computed impact, submit,
decide against the content hash, withdraw."""

import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.common import (
    UserError,
    decode_any,
    from_global_id,
    refusals_in_payload,
    to_global_id,
)
from schema.context import Context
from schema.org import Department, Node, User
from server.changes import approvals as change_approvals
from server.changes import queries as change_queries
from server.changes import service as changes
from server.changes.models import ChangeRequest as ChangeRequestRow
from server.projects.models import Project as ProjectRow


@strawberry.enum
class ChangeKind(Enum):
    SCOPE = "SCOPE"
    SCHEDULE = "SCHEDULE"
    COST = "COST"
    RESOURCES = "RESOURCES"
    OTHER = "OTHER"


@strawberry.enum
class ChangeStatus(Enum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    REJECTED = "REJECTED"
    APPLIED = "APPLIED"
    WITHDRAWN = "WITHDRAWN"


@strawberry.enum
class ChangeDecision(Enum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


@strawberry.type
class MilestoneMove:
    name: str
    before: datetime.date | None
    after: datetime.date | None
    delta_working_days: int | None


@strawberry.type
class TaskMove:
    task_id: strawberry.ID | None = strawberry.field(description="None for a task the edits add.")
    name: str
    before: datetime.date | None
    after: datetime.date | None
    delta_working_days: int | None


@strawberry.type
class DepartmentImpact:
    department: Department | None
    tasks_moved: list[TaskMove]
    float_lost: int = strawberry.field(description="Working days of float its tasks lose.")


@strawberry.type
class CriticalTask:
    task_id: strawberry.ID | None
    name: str


@strawberry.type
class ChangeImpact:
    finish_before: datetime.date | None
    finish_after: datetime.date | None
    delta_working_days: int | None
    milestones: list[MilestoneMove]
    critical_added: list[CriticalTask]
    critical_removed: list[CriticalTask]
    departments: list[DepartmentImpact]
    problem: str | None = strawberry.field(
        description="Set when the edits no longer fit the plan (they must be edited)."
    )


def _day(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _task_id(value: int) -> strawberry.ID | None:
    return to_global_id("Task", value) if value > 0 else None


async def _impact(info: Info[Context, None], impact: dict[str, Any]) -> ChangeImpact:
    departments = []
    for entry in impact.get("departments", []):
        row = await info.context.departments.load(int(entry["departmentId"]))
        departments.append(
            DepartmentImpact(
                department=Department.of(row) if row else None,
                tasks_moved=[
                    TaskMove(
                        task_id=_task_id(t["id"]),
                        name=t["name"],
                        before=_day(t["before"]),
                        after=_day(t["after"]),
                        delta_working_days=t["delta"],
                    )
                    for t in entry["tasksMoved"]
                ],
                float_lost=entry["floatLost"],
            )
        )
    return ChangeImpact(
        finish_before=_day(impact.get("finishBefore")),
        finish_after=_day(impact.get("finishAfter")),
        delta_working_days=impact.get("deltaWorkingDays"),
        milestones=[
            MilestoneMove(
                name=m["name"],
                before=_day(m["before"]),
                after=_day(m["after"]),
                delta_working_days=m["deltaWorkingDays"],
            )
            for m in impact.get("milestones", [])
        ],
        critical_added=_critical(impact.get("criticalAdded", [])),
        critical_removed=_critical(impact.get("criticalRemoved", [])),
        departments=departments,
        problem=impact.get("error"),
    )


def _critical(rows: list[dict[str, Any]]) -> list[CriticalTask]:
    return [CriticalTask(task_id=_task_id(t["id"]), name=t["name"]) for t in rows]


@strawberry.type
class ChangeApproval:
    approver: str = strawberry.field(description='"pm", "department:<id>" or "management".')
    department: Department | None
    decision: ChangeDecision | None = strawberry.field(description="None while waiting.")
    decided_by: User | None
    decided_at: datetime.datetime | None
    comment: str


@strawberry.type
class ChangeRequest(Node):
    number: str = strawberry.field(description="CR-001, CR-002, … within the project.")
    title: str
    reason: str
    kind: ChangeKind
    status: ChangeStatus
    edits: JSON = strawberry.field(description="The proposed edits, as checked operations.")
    cost_delta: Decimal
    impact_notes: str
    rebaseline: bool
    content_hash: str = strawberry.field(description="What an approval is given on.")
    applied: JSON = strawberry.field(description="Before and after of every applied edit.")
    version: int
    submitted_at: datetime.datetime | None
    decided_at: datetime.datetime | None
    row: strawberry.Private[ChangeRequestRow]

    @classmethod
    def of(cls, row: ChangeRequestRow) -> "ChangeRequest":
        return cls(
            id=to_global_id("ChangeRequest", row.id),
            number=row.code,
            title=row.title,
            reason=row.reason,
            kind=ChangeKind(str(row.kind)),
            status=ChangeStatus(str(row.status)),
            edits=cast(JSON, row.edits),
            cost_delta=Decimal(row.cost_delta),
            impact_notes=row.impact_notes,
            rebaseline=row.rebaseline,
            content_hash=row.content_hash,
            applied=cast(JSON, row.applied),
            version=row.version,
            submitted_at=row.submitted_at,
            decided_at=row.decided_at,
            row=row,
        )

    @strawberry.field
    async def impact(self, info: Info[Context, None]) -> ChangeImpact:
        return await _impact(info, self.row.impact)

    @strawberry.field
    async def approvals(self, info: Info[Context, None]) -> list[ChangeApproval]:
        """Every approver the current content needs, with their decision on it."""
        project = await ProjectRow.get(id=self.row.project_id)
        state = await change_queries.approvals_of(info.context.actor, project, self.row)
        return [
            ChangeApproval(
                approver=a.slot,
                department=Department.of(a.department) if a.department else None,
                decision=ChangeDecision(str(a.approval.decision)) if a.approval else None,
                decided_by=User.of(a.approval.user) if a.approval and a.approval.user else None,
                decided_at=a.approval.decided_at if a.approval else None,
                comment=a.approval.comment if a.approval else "",
            )
            for a in state.approvers
        ]


async def change_requests_of(project_pk: int) -> list[ChangeRequest]:
    rows = await change_queries.list_change_requests(project_pk)
    return [ChangeRequest.of(await changes.refresh_impact(r)) for r in rows]


@strawberry.input
class ChangeEditInput:
    """One edit: `op` is add_task, edit_task, remove_task, add_link, remove_link,
    edit_resource or edit_charter; task ids are Task ids, a task the request adds is named by
    its `key`."""

    op: str
    key: str | None = None
    task_id: strawberry.ID | None = None
    name: str | None = None
    planned_start: datetime.date | None = None
    duration_days: int | None = None
    owner_id: strawberry.ID | None = None
    department_id: strawberry.ID | None = None
    parent_id: strawberry.ID | None = None
    is_milestone: bool = False
    cancel: bool = False
    predecessor: str | None = strawberry.field(default=None, description="A Task id or a key.")
    successor: str | None = strawberry.field(default=None, description="A Task id or a key.")
    type: str | None = None
    lag: int | None = None
    resource_id: strawberry.ID | None = None
    quantity: Decimal | None = None
    amount: Decimal | None = strawberry.field(default=None, description="CNY.")
    needed_by: datetime.date | None = None
    section: str | None = strawberry.field(
        default=None, description="goals, scopeIn, scopeOut, milestones or successCriteria."
    )
    value: JSON | None = strawberry.field(
        default=None, description="The section's new text, or its rows as objects."
    )


def _end(value: str | None) -> str | int | None:
    """A Task id, or else the key of a task the request adds (checked with the edits)."""
    decoded = decode_any(value) if value else None
    if decoded is not None and decoded[0] == "Task":
        return decoded[1]
    return value


def _edit(edit: ChangeEditInput, n: int) -> dict[str, Any]:
    ids = {
        "task_id": ("Task", edit.task_id),
        "owner_id": ("User", edit.owner_id),
        "department_id": ("Department", edit.department_id),
        "parent_id": ("Task", edit.parent_id),
        "resource_id": ("ResourceRequest", edit.resource_id),
    }
    out: dict[str, Any] = {"op": edit.op, "is_milestone": edit.is_milestone, "cancel": edit.cancel}
    for name, (kind, value) in ids.items():
        if value is not None:
            out[name] = from_global_id(value, kind, field=f"edit-{n}-{name}")
    for name in ("key", "name", "planned_start", "duration_days", "type", "lag", "section",
                 "value", "quantity", "amount", "needed_by"):  # fmt: skip
        value = getattr(edit, name)
        if value is not None:
            out[name] = value
    for name in ("predecessor", "successor"):
        out[name] = _end(getattr(edit, name))
    return out


@strawberry.input
class ChangeRequestInput:
    title: str
    reason: str
    kind: ChangeKind
    requester_department_id: strawberry.ID
    edits: list[ChangeEditInput] = strawberry.field(default_factory=list)
    cost_delta: Decimal = Decimal("0")
    impact_notes: str = ""
    named_department_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    rebaseline: bool = False


def _input(data: ChangeRequestInput) -> changes.ChangeInput:
    return changes.ChangeInput(
        title=data.title,
        reason=data.reason,
        kind=data.kind.value,
        requester_department_id=from_global_id(
            data.requester_department_id, "Department", field="requesterDepartmentId"
        ),
        edits=[_edit(e, n) for n, e in enumerate(data.edits)],
        cost_delta=data.cost_delta,
        impact_notes=data.impact_notes,
        named_department_ids=[
            from_global_id(d, "Department", field="namedDepartmentIds")
            for d in data.named_department_ids
        ],
        rebaseline=data.rebaseline,
    )


@strawberry.input
class DraftChangeRequestInput:
    project_id: strawberry.ID
    request: ChangeRequestInput


@strawberry.input
class UpdateChangeRequestInput:
    id: strawberry.ID
    version: int
    request: ChangeRequestInput


@strawberry.input
class ChangeRequestVersionInput:
    id: strawberry.ID
    version: int


@strawberry.input
class DecideChangeRequestInput:
    id: strawberry.ID
    content_hash: str = strawberry.field(description="The contentHash the approver read.")
    decision: ChangeDecision
    comment: str | None = strawberry.field(default=None, description="Required to reject.")


@strawberry.type
class ChangeRequestPayload:
    change_request: ChangeRequest | None
    errors: list[UserError]


def _pk(value: strawberry.ID) -> int:
    return from_global_id(value, "ChangeRequest", field="id")


def _payload(row: ChangeRequestRow) -> ChangeRequestPayload:
    return ChangeRequestPayload(change_request=ChangeRequest.of(row), errors=[])


@strawberry.input
class SetChangeThresholdsInput:
    project_id: strawberry.ID
    version: int = strawberry.field(description="The project's version.")
    finish_days: int = strawberry.field(description="Working days the finish may move.")
    cost: Decimal = strawberry.field(description="CNY the cost may rise.")


@strawberry.type
class ChangeThresholds:
    finish_days: int
    cost: Decimal
    project_version: int


@strawberry.type
class ChangeThresholdsPayload:
    thresholds: ChangeThresholds | None
    errors: list[UserError]


@strawberry.type
class ChangeMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def set_change_thresholds(
        self, info: Info[Context, None], input: SetChangeThresholdsInput
    ) -> ChangeThresholdsPayload:
        """Past these a change request needs management's approval too."""
        project = await changes.set_change_thresholds(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            version=input.version,
            finish_days=input.finish_days,
            cost=input.cost,
        )
        days, cost = changes.thresholds_of(project)
        return ChangeThresholdsPayload(
            thresholds=ChangeThresholds(
                finish_days=days, cost=cost, project_version=project.version
            ),
            errors=[],
        )

    @strawberry.mutation
    @refusals_in_payload
    async def draft_change_request(
        self, info: Info[Context, None], input: DraftChangeRequestInput
    ) -> ChangeRequestPayload:
        row = await changes.draft_change_request(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            data=_input(input.request),
        )
        return _payload(row)

    @strawberry.mutation
    @refusals_in_payload
    async def update_change_request(
        self, info: Info[Context, None], input: UpdateChangeRequestInput
    ) -> ChangeRequestPayload:
        row = await changes.update_change_request(
            info.context.actor,
            request_id=_pk(input.id),
            version=input.version,
            data=_input(input.request),
        )
        return _payload(row)

    @strawberry.mutation
    @refusals_in_payload
    async def submit_change_request(
        self, info: Info[Context, None], input: ChangeRequestVersionInput
    ) -> ChangeRequestPayload:
        row = await change_approvals.submit_change_request(
            info.context.actor, request_id=_pk(input.id), version=input.version
        )
        return _payload(row)

    @strawberry.mutation
    @refusals_in_payload
    async def decide_change_request(
        self, info: Info[Context, None], input: DecideChangeRequestInput
    ) -> ChangeRequestPayload:
        """Approve or reject for every approver the caller is; the last approval applies it."""
        row = await change_approvals.decide_change_request(
            info.context.actor,
            request_id=_pk(input.id),
            data=change_approvals.DecisionInput(
                decision=input.decision.value,
                content_hash=input.content_hash,
                comment=input.comment,
            ),
        )
        return _payload(row)

    @strawberry.mutation
    @refusals_in_payload
    async def withdraw_change_request(
        self, info: Info[Context, None], input: ChangeRequestVersionInput
    ) -> ChangeRequestPayload:
        row = await changes.withdraw_change_request(
            info.context.actor, request_id=_pk(input.id), version=input.version
        )
        return _payload(row)
