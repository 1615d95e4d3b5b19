"""Problems (问题): reported, owned and resolved through the API."""

import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from schema.common import UserError, from_global_id, refusals_in_payload, to_global_id
from schema.context import Context
from schema.org import Department, Node, User
from server.risks import problems as risk_problems
from server.risks.models import Problem as ProblemRow


@strawberry.enum
class Severity(Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


@strawberry.enum
class ProblemStatus(Enum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


@strawberry.type
class Problem(Node):
    title: str
    description: str
    severity: Severity
    status: ProblemStatus
    due_date: datetime.date | None
    resolution: str
    version: int
    created_at: datetime.datetime
    resolved_at: datetime.datetime | None
    owner_pk: strawberry.Private[int | None]
    department_pk: strawberry.Private[int | None]
    task_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: ProblemRow) -> "Problem":
        return cls(
            id=to_global_id("Problem", row.id),
            title=row.title,
            description=row.description,
            severity=Severity(row.severity.value),
            status=ProblemStatus(row.status.value),
            due_date=row.due_date,
            resolution=row.resolution,
            version=row.version,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            owner_pk=row.owner_id,
            department_pk=row.department_id,
            task_pk=row.task_id,
        )

    @strawberry.field
    async def owner(self, info: Info[Context, None]) -> User | None:
        row = await info.context.users.load(self.owner_pk) if self.owner_pk else None
        return User.of(row) if row else None

    @strawberry.field
    async def department(self, info: Info[Context, None]) -> Department | None:
        row = (
            await info.context.departments.load(self.department_pk) if self.department_pk else None
        )
        return Department.of(row) if row else None

    @strawberry.field
    def task_id(self) -> strawberry.ID | None:
        return to_global_id("Task", self.task_pk) if self.task_pk else None


@strawberry.input
class ReportProblemInput:
    project_id: strawberry.ID
    title: str
    description: str | None = None
    severity: Severity | None = None
    owner_id: strawberry.ID | None = None
    department_id: strawberry.ID | None = None
    due_date: datetime.date | None = None
    task_id: strawberry.ID | None = None


@strawberry.input
class UpdateProblemInput:
    id: strawberry.ID
    version: int
    title: str | None = None
    description: str | None = None
    severity: Severity | None = None
    status: ProblemStatus | None = None
    owner_id: strawberry.ID | None = None
    department_id: strawberry.ID | None = None
    due_date: datetime.date | None = None
    resolution: str | None = None


@strawberry.type
class ProblemPayload:
    problem: Problem | None
    errors: list[UserError]


def _pk(value: strawberry.ID | None, kind: str, field: str) -> int | None:
    return from_global_id(value, kind, field=field) if value else None


@strawberry.type
class RiskMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def report_problem(
        self, info: Info[Context, None], input: ReportProblemInput
    ) -> ProblemPayload:
        row = await risk_problems.report_problem(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            data=risk_problems.ProblemInput(
                title=input.title,
                description=input.description,
                severity=input.severity.value if input.severity else None,
                owner_id=_pk(input.owner_id, "User", "ownerId"),
                department_id=_pk(input.department_id, "Department", "departmentId"),
                due_date=input.due_date,
                task_id=_pk(input.task_id, "Task", "taskId"),
            ),
        )
        return ProblemPayload(problem=Problem.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def update_problem(
        self, info: Info[Context, None], input: UpdateProblemInput
    ) -> ProblemPayload:
        row = await risk_problems.update_problem(
            info.context.actor,
            problem_id=from_global_id(input.id, "Problem", field="id"),
            version=input.version,
            data=risk_problems.ProblemInput(
                title=input.title,
                description=input.description,
                severity=input.severity.value if input.severity else None,
                status=input.status.value if input.status else None,
                owner_id=_pk(input.owner_id, "User", "ownerId"),
                department_id=_pk(input.department_id, "Department", "departmentId"),
                due_date=input.due_date,
                resolution=input.resolution,
            ),
        )
        return ProblemPayload(problem=Problem.of(row), errors=[])
