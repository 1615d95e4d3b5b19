"""Step 8 through the API: hand-overs of deliverables and their acceptance."""

import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from schema.common import UserError, from_global_id, refusals_in_payload, to_global_id
from schema.context import Context
from schema.org import Department, Node, User
from schema.planning import Task
from server.closing import acceptance as closing
from server.closing.models import Acceptance as AcceptanceRow


@strawberry.enum
class AcceptanceStatus(Enum):
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


@strawberry.enum
class AcceptanceDecision(Enum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"


@strawberry.type
class Acceptance(Node):
    deliverable: str
    note: str
    status: AcceptanceStatus
    submitted_at: datetime.datetime
    decided_at: datetime.datetime | None
    comment: str
    evidence_link: str
    version: int
    task_pk: strawberry.Private[int]
    department_pk: strawberry.Private[int]
    submitter_pk: strawberry.Private[int | None]
    decider_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: AcceptanceRow) -> "Acceptance":
        return cls(
            id=to_global_id("Acceptance", row.id),
            deliverable=row.deliverable,
            note=row.note,
            status=AcceptanceStatus(row.status.value),
            submitted_at=row.submitted_at,
            decided_at=row.decided_at,
            comment=row.comment,
            evidence_link=row.evidence_link,
            version=row.version,
            task_pk=row.task_id,
            department_pk=row.receiving_department_id,
            submitter_pk=row.submitted_by_id,
            decider_pk=row.decided_by_id,
        )

    @strawberry.field
    async def task(self, info: Info[Context, None]) -> Task | None:
        row = await info.context.tasks.load(self.task_pk)
        return Task.of(row) if row else None

    @strawberry.field
    async def receiving_department(self, info: Info[Context, None]) -> Department | None:
        row = await info.context.departments.load(self.department_pk)
        return Department.of(row) if row else None

    @strawberry.field
    async def submitted_by(self, info: Info[Context, None]) -> User | None:
        row = await info.context.users.load(self.submitter_pk) if self.submitter_pk else None
        return User.of(row) if row else None

    @strawberry.field
    async def decided_by(self, info: Info[Context, None]) -> User | None:
        row = await info.context.users.load(self.decider_pk) if self.decider_pk else None
        return User.of(row) if row else None


async def acceptances_of(project_pk: int) -> list[Acceptance]:
    return [Acceptance.of(row) for row in await closing.list_acceptances(project_pk)]


@strawberry.input
class SubmitForAcceptanceInput:
    task_id: strawberry.ID
    receiving_department_id: strawberry.ID | None = strawberry.field(
        default=None, description="The department receiving it; the initiating one if none."
    )
    note: str | None = None


@strawberry.input
class DecideAcceptanceInput:
    id: strawberry.ID
    version: int
    decision: AcceptanceDecision
    comment: str | None = strawberry.field(default=None, description="Required to reject.")
    evidence_link: str | None = None


@strawberry.type
class AcceptancePayload:
    acceptance: Acceptance | None
    errors: list[UserError]


@strawberry.type
class ClosingMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def submit_for_acceptance(
        self, info: Info[Context, None], input: SubmitForAcceptanceInput
    ) -> AcceptancePayload:
        receiving = input.receiving_department_id
        row = await closing.submit_for_acceptance(
            info.context.actor,
            closing.Handover(
                task_id=from_global_id(input.task_id, "Task", field="taskId"),
                receiving_department_id=from_global_id(
                    receiving, "Department", field="receivingDepartmentId"
                )
                if receiving
                else None,
                note=input.note,
            ),
        )
        return AcceptancePayload(acceptance=Acceptance.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def decide_acceptance(
        self, info: Info[Context, None], input: DecideAcceptanceInput
    ) -> AcceptancePayload:
        row = await closing.decide_acceptance(
            info.context.actor,
            acceptance_id=from_global_id(input.id, "Acceptance", field="id"),
            version=input.version,
            verdict=closing.Verdict(
                decision=input.decision.value,
                comment=input.comment,
                evidence_link=input.evidence_link,
            ),
        )
        return AcceptancePayload(acceptance=Acceptance.of(row), errors=[])
