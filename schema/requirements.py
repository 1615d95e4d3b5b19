"""Step 3 through the API: requirements, conflicts, resource requests and gaps."""

import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.types import Info

from schema.common import (
    Connection,
    UserError,
    connection,
    from_global_id,
    page_window,
    refusals_in_payload,
    to_global_id,
)
from schema.context import Context
from schema.discussion import Discussed
from schema.org import Department, Node, User
from server.requirements import queries as requirement_queries
from server.requirements import resources as resource_service
from server.requirements import service as requirement_service
from server.requirements.models import Requirement as RequirementRow
from server.requirements.models import RequirementConflict as ConflictRow
from server.requirements.models import ResourceRequest as RequestRow


@strawberry.enum
class RequirementPriority(Enum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    COULD = "COULD"


@strawberry.enum
class RequirementStatus(Enum):
    FILED = "FILED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    MERGED = "MERGED"


@strawberry.enum
class ReviewDecision(Enum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    MERGE = "MERGE"


@strawberry.enum
class ResourceKind(Enum):
    PEOPLE = "PEOPLE"
    BUDGET = "BUDGET"
    EQUIPMENT = "EQUIPMENT"
    OTHER = "OTHER"


@strawberry.enum
class ResourceStatus(Enum):
    REQUESTED = "REQUESTED"
    COMMITTED = "COMMITTED"
    DECLINED = "DECLINED"


@strawberry.enum
class GapState(Enum):
    NONE = "NONE"
    OPEN = "OPEN"
    AWAITING_MANAGEMENT = "AWAITING_MANAGEMENT"
    RESOLVED = "RESOLVED"


@strawberry.enum
class GapResolution(Enum):
    TRANSFER = "TRANSFER"
    REPRIORITISE = "REPRIORITISE"
    MANAGEMENT = "MANAGEMENT"


async def _department(info: Info[Context, None], pk: int | None) -> Department | None:
    row = await info.context.departments.load(pk) if pk else None
    return Department.of(row) if row else None


@strawberry.type
class Requirement(Node, Discussed):
    title: str
    description: str
    priority: RequirementPriority
    acceptance_criterion: str
    needed_by: datetime.date | None
    status: RequirementStatus
    decision_reason: str
    version: int
    created_at: datetime.datetime
    department_pk: strawberry.Private[int]
    asked_of_pk: strawberry.Private[int | None]
    filed_by_pk: strawberry.Private[int | None]
    merged_into_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: RequirementRow) -> "Requirement":
        return cls(
            id=to_global_id("Requirement", row.id),
            title=row.title,
            description=row.description,
            priority=RequirementPriority(row.priority.value),
            acceptance_criterion=row.acceptance_criterion,
            needed_by=row.needed_by,
            status=RequirementStatus(row.status.value),
            decision_reason=row.decision_reason,
            version=row.version,
            created_at=row.created_at,
            department_pk=row.department_id,
            asked_of_pk=row.asked_of_id,
            filed_by_pk=row.filed_by_id,
            merged_into_pk=row.merged_into_id,
        )

    @strawberry.field
    async def department(self, info: Info[Context, None]) -> Department | None:
        return await _department(info, self.department_pk)

    @strawberry.field
    async def asked_of(self, info: Info[Context, None]) -> Department | None:
        return await _department(info, self.asked_of_pk)

    @strawberry.field
    async def filed_by(self, info: Info[Context, None]) -> User | None:
        row = await info.context.users.load(self.filed_by_pk) if self.filed_by_pk else None
        return User.of(row) if row else None

    @strawberry.field
    def merged_into_id(self) -> strawberry.ID | None:
        return to_global_id("Requirement", self.merged_into_pk) if self.merged_into_pk else None


@strawberry.type
class RequirementConflict(Node):
    requirement_a_id: strawberry.ID
    requirement_b_id: strawberry.ID
    note: str
    open: bool
    decision: str
    version: int

    @classmethod
    def of(cls, row: ConflictRow) -> "RequirementConflict":
        return cls(
            id=to_global_id("RequirementConflict", row.id),
            requirement_a_id=to_global_id("Requirement", row.requirement_a_id),
            requirement_b_id=to_global_id("Requirement", row.requirement_b_id),
            note=row.note,
            open=row.status.value == "OPEN",
            decision=row.decision,
            version=row.version,
        )


@strawberry.type
class ResourceRequest(Node):
    kind: ResourceKind
    description: str
    quantity: Decimal
    unit: str
    amount: Decimal | None = strawberry.field(description="Exact, two decimals, in `currency`.")
    currency: str
    needed_by: datetime.date | None
    status: ResourceStatus
    decision_comment: str
    gap_state: GapState
    gap_resolution: GapResolution | None
    gap_note: str
    management_comment: str
    version: int
    department_pk: strawberry.Private[int]
    supplier_pk: strawberry.Private[int | None]
    gap_from_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: RequestRow) -> "ResourceRequest":
        return cls(
            id=to_global_id("ResourceRequest", row.id),
            kind=ResourceKind(row.kind.value),
            description=row.description,
            quantity=row.quantity,
            unit=row.unit,
            amount=row.amount,
            currency=row.currency,
            needed_by=row.needed_by,
            status=ResourceStatus(row.status.value),
            decision_comment=row.decision_comment,
            gap_state=GapState(row.gap_state.value),
            gap_resolution=GapResolution(row.gap_resolution.value) if row.gap_resolution else None,
            gap_note=row.gap_note,
            management_comment=row.management_comment,
            version=row.version,
            department_pk=row.department_id,
            supplier_pk=row.supplier_id,
            gap_from_pk=row.gap_from_id,
        )

    @strawberry.field
    async def department(self, info: Info[Context, None]) -> Department | None:
        return await _department(info, self.department_pk)

    @strawberry.field
    async def supplier(self, info: Info[Context, None]) -> Department | None:
        """Null: the project's own budget (the PM decides)."""
        return await _department(info, self.supplier_pk)

    @strawberry.field
    async def gap_from(self, info: Info[Context, None]) -> Department | None:
        return await _department(info, self.gap_from_pk)


async def requirements_page(
    project_id: int, first: int | None, after: str | None
) -> Connection[Requirement]:
    offset, limit = page_window(first, after)
    rows, total = await requirement_queries.list_requirements(
        project_id, offset=offset, limit=limit
    )
    return connection([Requirement.of(r) for r in rows], offset=offset, total=total)


async def requests_page(
    project_id: int, first: int | None, after: str | None
) -> Connection[ResourceRequest]:
    offset, limit = page_window(first, after)
    rows, total = await requirement_queries.list_requests(project_id, offset=offset, limit=limit)
    return connection([ResourceRequest.of(r) for r in rows], offset=offset, total=total)


async def open_conflicts(project_id: int) -> list[RequirementConflict]:
    return [RequirementConflict.of(c) for c in await requirement_queries.open_conflicts(project_id)]


def _department_pk(value: strawberry.ID) -> int:
    return from_global_id(value, "Department", field="departmentId")


def _pk(value: strawberry.ID | None, kind: str, field: str) -> int | None:
    return from_global_id(value, kind, field=field) if value else None


@strawberry.input
class FileRequirementInput:
    project_id: strawberry.ID
    department_id: strawberry.ID
    title: str
    description: str | None = None
    priority: RequirementPriority | None = None
    asked_of_department_id: strawberry.ID | None = None
    acceptance_criterion: str | None = None
    needed_by: datetime.date | None = None


@strawberry.input
class UpdateRequirementInput:
    id: strawberry.ID
    version: int
    title: str | None = None
    description: str | None = None
    priority: RequirementPriority | None = None
    asked_of_department_id: strawberry.ID | None = None
    acceptance_criterion: str | None = None
    needed_by: datetime.date | None = None


@strawberry.input
class ReviewRequirementInput:
    id: strawberry.ID
    version: int
    decision: ReviewDecision
    reason: str | None = strawberry.field(default=None, description="Required to reject.")
    merge_into_id: strawberry.ID | None = strawberry.field(default=None, description="To merge.")
    meeting_id: strawberry.ID | None = strawberry.field(
        default=None, description="A live requirement review meeting: also its decision."
    )


@strawberry.input
class FlagRequirementConflictInput:
    requirement_id: strawberry.ID
    other_requirement_id: strawberry.ID
    note: str | None = None


@strawberry.input
class ResolveRequirementConflictInput:
    id: strawberry.ID
    version: int
    decision: str


@strawberry.input
class FileResourceRequestInput:
    project_id: strawberry.ID
    department_id: strawberry.ID
    kind: ResourceKind
    description: str
    quantity: Decimal
    unit: str
    amount: str | None = strawberry.field(
        default=None, description="Decimal string, CNY, at most two decimals."
    )
    needed_by: datetime.date | None = None
    supplier_department_id: strawberry.ID | None = strawberry.field(
        default=None, description="Null: the project's own budget."
    )


@strawberry.input
class UpdateResourceRequestInput:
    id: strawberry.ID
    version: int
    kind: ResourceKind | None = None
    description: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    amount: str | None = None
    needed_by: datetime.date | None = None
    supplier_department_id: strawberry.ID | None = None


@strawberry.input
class CommitResourceInput:
    id: strawberry.ID
    version: int
    commit: bool
    comment: str | None = strawberry.field(default=None, description="Required to decline.")


@strawberry.input
class ResolveGapInput:
    id: strawberry.ID
    version: int
    resolution: GapResolution
    note: str | None = None
    from_department_id: strawberry.ID | None = strawberry.field(
        default=None, description="The lending department of a temporary transfer."
    )


@strawberry.input
class DecideGapInput:
    id: strawberry.ID
    version: int
    approve: bool
    comment: str | None = strawberry.field(default=None, description="Required to refuse.")


@strawberry.type
class RequirementPayload:
    requirement: Requirement | None
    errors: list[UserError]


@strawberry.type
class RequirementConflictPayload:
    conflict: RequirementConflict | None
    errors: list[UserError]


@strawberry.type
class ResourceRequestPayload:
    resource_request: ResourceRequest | None
    errors: list[UserError]


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@strawberry.type
class RequirementMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def file_requirement(
        self, info: Info[Context, None], input: FileRequirementInput
    ) -> RequirementPayload:
        row = await requirement_service.file_requirement(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            data=requirement_service.RequirementInput(
                department_id=from_global_id(
                    input.department_id, "Department", field="departmentId"
                ),
                title=input.title,
                description=input.description,
                priority=input.priority.value if input.priority else None,
                asked_of_id=_pk(input.asked_of_department_id, "Department", "askedOfId"),
                acceptance_criterion=input.acceptance_criterion,
                needed_by=input.needed_by,
            ),
        )
        return RequirementPayload(requirement=Requirement.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def update_requirement(
        self, info: Info[Context, None], input: UpdateRequirementInput
    ) -> RequirementPayload:
        row = await requirement_service.update_requirement(
            info.context.actor,
            requirement_id=from_global_id(input.id, "Requirement", field="id"),
            version=input.version,
            data=requirement_service.RequirementInput(
                title=input.title,
                description=input.description,
                priority=input.priority.value if input.priority else None,
                asked_of_id=_pk(input.asked_of_department_id, "Department", "askedOfId"),
                acceptance_criterion=input.acceptance_criterion,
                needed_by=input.needed_by,
            ),
        )
        return RequirementPayload(requirement=Requirement.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def review_requirement(
        self, info: Info[Context, None], input: ReviewRequirementInput
    ) -> RequirementPayload:
        row = await requirement_service.review_requirement(
            info.context.actor,
            requirement_id=from_global_id(input.id, "Requirement", field="id"),
            version=input.version,
            data=requirement_service.ReviewInput(
                decision=input.decision.value,
                reason=input.reason,
                merge_into_id=_pk(input.merge_into_id, "Requirement", "mergeIntoId"),
                meeting_id=_pk(input.meeting_id, "Meeting", "meetingId"),
            ),
        )
        return RequirementPayload(requirement=Requirement.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def flag_requirement_conflict(
        self, info: Info[Context, None], input: FlagRequirementConflictInput
    ) -> RequirementConflictPayload:
        row = await requirement_service.flag_conflict(
            info.context.actor,
            first_id=from_global_id(input.requirement_id, "Requirement", field="requirementId"),
            second_id=from_global_id(
                input.other_requirement_id, "Requirement", field="otherRequirementId"
            ),
            note=input.note,
        )
        return RequirementConflictPayload(conflict=RequirementConflict.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def resolve_requirement_conflict(
        self, info: Info[Context, None], input: ResolveRequirementConflictInput
    ) -> RequirementConflictPayload:
        row = await requirement_service.resolve_conflict(
            info.context.actor,
            conflict_id=from_global_id(input.id, "RequirementConflict", field="id"),
            version=input.version,
            decision=input.decision,
        )
        return RequirementConflictPayload(conflict=RequirementConflict.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def file_resource_request(
        self, info: Info[Context, None], input: FileResourceRequestInput
    ) -> ResourceRequestPayload:
        row = await resource_service.file_request(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            data=resource_service.ResourceInput(
                department_id=from_global_id(
                    input.department_id, "Department", field="departmentId"
                ),
                kind=input.kind.value,
                description=input.description,
                quantity=_decimal_text(input.quantity),
                unit=input.unit,
                amount=input.amount,
                needed_by=input.needed_by,
                supplier_id=_pk(input.supplier_department_id, "Department", "supplierId"),
            ),
        )
        return ResourceRequestPayload(resource_request=ResourceRequest.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def update_resource_request(
        self, info: Info[Context, None], input: UpdateResourceRequestInput
    ) -> ResourceRequestPayload:
        row = await resource_service.update_request(
            info.context.actor,
            request_id=from_global_id(input.id, "ResourceRequest", field="id"),
            version=input.version,
            data=resource_service.ResourceInput(
                kind=input.kind.value if input.kind else None,
                description=input.description,
                quantity=_decimal_text(input.quantity),
                unit=input.unit,
                amount=input.amount,
                needed_by=input.needed_by,
                supplier_id=_pk(input.supplier_department_id, "Department", "supplierId"),
            ),
        )
        return ResourceRequestPayload(resource_request=ResourceRequest.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def commit_resource(
        self, info: Info[Context, None], input: CommitResourceInput
    ) -> ResourceRequestPayload:
        row = await resource_service.commit_resource(
            info.context.actor,
            request_id=from_global_id(input.id, "ResourceRequest", field="id"),
            version=input.version,
            commit=input.commit,
            comment=input.comment,
        )
        return ResourceRequestPayload(resource_request=ResourceRequest.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def resolve_gap(
        self, info: Info[Context, None], input: ResolveGapInput
    ) -> ResourceRequestPayload:
        row = await resource_service.resolve_gap(
            info.context.actor,
            request_id=from_global_id(input.id, "ResourceRequest", field="id"),
            version=input.version,
            data=resource_service.GapInput(
                resolution=input.resolution.value,
                note=input.note,
                from_department_id=_pk(input.from_department_id, "Department", "fromDepartmentId"),
            ),
        )
        return ResourceRequestPayload(resource_request=ResourceRequest.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def decide_gap(
        self, info: Info[Context, None], input: DecideGapInput
    ) -> ResourceRequestPayload:
        row = await resource_service.decide_gap(
            info.context.actor,
            request_id=from_global_id(input.id, "ResourceRequest", field="id"),
            version=input.version,
            approve=input.approve,
            comment=input.comment,
        )
        return ResourceRequestPayload(resource_request=ResourceRequest.of(row), errors=[])
