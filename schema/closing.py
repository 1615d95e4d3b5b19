"""Step 8 through the API: hand-overs of deliverables and their acceptance."""

import datetime
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
from schema.org import Department, Node, User
from schema.planning import Task
from server.closing import acceptance as closing
from server.closing import retrospectives
from server.closing.models import Acceptance as AcceptanceRow
from server.closing.models import Retrospective as RetrospectiveRow


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
    meeting_id: strawberry.ID | None = strawberry.field(
        default=None, description="The running meeting it is decided in, for its minutes."
    )


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
                meeting_id=from_global_id(input.meeting_id, "Meeting", field="meetingId")
                if input.meeting_id
                else None,
            ),
        )
        return AcceptancePayload(acceptance=Acceptance.of(row), errors=[])


@strawberry.type
class Retrospective(Node):
    went_well: str
    to_improve: str
    lessons: str
    tags: list[str]
    version: int
    updated_at: datetime.datetime
    reviewed_at: datetime.datetime | None = strawberry.field(
        description="When a retrospective meeting last went through it (cleared by an edit)."
    )
    project_code: str | None
    department_pk: strawberry.Private[int]
    author_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: RetrospectiveRow, project_code: str | None = None) -> "Retrospective":
        return cls(
            id=to_global_id("Retrospective", row.id),
            went_well=row.went_well,
            to_improve=row.to_improve,
            lessons=row.lessons,
            tags=list(row.tags or []),
            version=row.version,
            updated_at=row.updated_at,
            reviewed_at=row.reviewed_at,
            project_code=project_code,
            department_pk=row.department_id,
            author_pk=row.author_id,
        )

    @strawberry.field
    async def department(self, info: Info[Context, None]) -> Department | None:
        row = await info.context.departments.load(self.department_pk)
        return Department.of(row) if row else None

    @strawberry.field
    async def author(self, info: Info[Context, None]) -> User | None:
        row = await info.context.users.load(self.author_pk) if self.author_pk else None
        return User.of(row) if row else None


async def retrospectives_of(project_pk: int) -> list[Retrospective]:
    return [Retrospective.of(r) for r in await retrospectives.list_retrospectives(project_pk)]


@strawberry.input
class FileRetrospectiveInput:
    project_id: strawberry.ID
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="The liaison's own department when none is given."
    )
    went_well: str | None = None
    to_improve: str | None = None
    lessons: str | None = None
    tags: list[str] | None = None
    version: int | None = strawberry.field(
        default=None, description="The filed one's version, to edit it."
    )


@strawberry.input
class ReviewRetrospectiveInput:
    id: strawberry.ID
    meeting_id: strawberry.ID = strawberry.field(description="The running retrospective meeting.")
    version: int


@strawberry.type
class RetrospectivePayload:
    retrospective: Retrospective | None
    errors: list[UserError]


@strawberry.type
class ClosingQuery:
    @strawberry.field
    async def lessons(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        tag: str | None = None,
        department_id: strawberry.ID | None = None,
        text: str | None = None,
    ) -> Connection[Retrospective]:
        """Every project's retrospectives, newest first: the organisation's lessons."""
        offset, limit = page_window(first, after)
        wanted = retrospectives.LessonFilter(
            department_id=from_global_id(department_id, "Department", field="departmentId")
            if department_id
            else None,
            tag=tag,
            text=text,
        )
        rows, total = await retrospectives.list_lessons(
            info.context.actor, wanted, offset=offset, limit=limit
        )
        return connection(
            [Retrospective.of(r, r.project.code) for r in rows], offset=offset, total=total
        )


@strawberry.type
class RetrospectiveMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def file_retrospective(
        self, info: Info[Context, None], input: FileRetrospectiveInput
    ) -> RetrospectivePayload:
        row = await retrospectives.file_retrospective(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            data=retrospectives.RetrospectiveInput(
                department_id=from_global_id(
                    input.department_id, "Department", field="departmentId"
                )
                if input.department_id
                else None,
                went_well=input.went_well,
                to_improve=input.to_improve,
                lessons=input.lessons,
                tags=input.tags,
                version=input.version,
            ),
        )
        return RetrospectivePayload(retrospective=Retrospective.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def review_retrospective(
        self, info: Info[Context, None], input: ReviewRetrospectiveInput
    ) -> RetrospectivePayload:
        """Marks a department's retrospective as gone through in a retrospective meeting."""
        row = await retrospectives.review_retrospective(
            info.context.actor,
            retrospective_id=from_global_id(input.id, "Retrospective", field="id"),
            meeting_id=from_global_id(input.meeting_id, "Meeting", field="meetingId"),
            version=input.version,
        )
        return RetrospectivePayload(retrospective=Retrospective.of(row), errors=[])
