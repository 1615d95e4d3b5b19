"""Risks (风险登记表) and problems (问题): raised, reviewed, owned and resolved through the API."""

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
from schema.discussion import Discussed
from schema.org import Department, Node, User
from schema.planning import Task
from server.risks import problems as risk_problems
from server.risks import queries as risk_queries
from server.risks import register as risk_register
from server.risks.models import Problem as ProblemRow
from server.risks.models import Risk as RiskRow
from server.risks.models import RiskLevel as RiskLevelValue
from server.risks.models import RiskStatus as RiskStatusValue


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
class Problem(Node, Discussed):
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

    @strawberry.field
    async def risk_id(self) -> strawberry.ID | None:
        """The risk this problem came from, when it occurred."""
        pk = int(from_global_id(self.id, "Problem", field="id"))
        risk = (await risk_queries.risks_of_problems([pk])).get(pk)
        return to_global_id("Risk", risk.id) if risk else None


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


# --- the risk register --------------------------------------------------------------------------


@strawberry.enum
class RiskCategory(Enum):
    SCHEDULE = "SCHEDULE"
    COST = "COST"
    QUALITY = "QUALITY"
    RESOURCE = "RESOURCE"
    EXTERNAL = "EXTERNAL"
    OTHER = "OTHER"


@strawberry.enum
class RiskLevel(Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


@strawberry.enum
class RiskStrategy(Enum):
    AVOID = "AVOID"
    MITIGATE = "MITIGATE"
    TRANSFER = "TRANSFER"
    ACCEPT = "ACCEPT"


@strawberry.enum
class RiskStatus(Enum):
    OPEN = "OPEN"
    MONITORING = "MONITORING"
    OCCURRED = "OCCURRED"
    CLOSED = "CLOSED"


@strawberry.enum
class RiskAssessmentKind(Enum):
    RAISED = "RAISED"
    UPDATED = "UPDATED"
    REVIEWED = "REVIEWED"
    CRITICAL_PATH = "CRITICAL_PATH"
    MATRIX = "MATRIX"


@strawberry.type
class ThreatenedTask:
    task: Task
    total_float: int | None = strawberry.field(description="Working days; null before scheduling.")
    is_critical: bool


@strawberry.type
class RiskAssessment:
    """One entry of a risk's history: its level then, and why it was written."""

    kind: RiskAssessmentKind
    probability: int
    impact: int
    level: RiskLevel
    previous_level: RiskLevel | None
    measures: str
    note: str
    meeting_id: strawberry.ID | None
    at: datetime.datetime


@strawberry.type
class Risk(Node, Discussed):
    title: str
    description: str
    category: RiskCategory
    probability: int
    impact: int
    score: int
    level: RiskLevel
    level_by_hand: bool
    level_reason: str
    strategy: RiskStrategy | None
    measures: str
    trigger: str
    review_date: datetime.date | None
    status: RiskStatus
    version: int
    created_at: datetime.datetime
    closed_at: datetime.datetime | None
    pk: strawberry.Private[int]
    owner_pk: strawberry.Private[int | None]
    department_pk: strawberry.Private[int | None]
    problem_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: RiskRow) -> "Risk":
        return cls(
            id=to_global_id("Risk", row.id),
            title=row.title,
            description=row.description,
            category=RiskCategory(row.category.value),
            probability=row.probability,
            impact=row.impact,
            score=row.probability * row.impact,
            level=RiskLevel(row.level.value),
            level_by_hand=row.level_by_hand,
            level_reason=row.level_reason,
            strategy=RiskStrategy(row.strategy.value) if row.strategy else None,
            measures=row.measures,
            trigger=row.trigger,
            review_date=row.review_date,
            status=RiskStatus(row.status.value),
            version=row.version,
            created_at=row.created_at,
            closed_at=row.closed_at,
            pk=row.id,
            owner_pk=row.owner_id,
            department_pk=row.department_id,
            problem_pk=row.problem_id,
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
    async def problem(self, info: Info[Context, None]) -> Problem | None:
        """The problem this risk became when it occurred."""
        if self.problem_pk is None:
            return None
        return Problem.of(
            await risk_problems.get_problem(info.context.actor, problem_id=self.problem_pk)
        )

    @strawberry.field
    async def threatened_tasks(self, info: Info[Context, None]) -> list[ThreatenedTask]:
        """The tasks this risk threatens, with their total float and whether they are critical."""
        rows = await info.context.threatened_tasks.load(self.pk)
        return [
            ThreatenedTask(
                task=Task.of(r.task), total_float=r.total_float, is_critical=r.is_critical
            )
            for r in rows
        ]

    @strawberry.field
    async def history(self, info: Info[Context, None]) -> list[RiskAssessment]:
        rows = await info.context.risk_histories.load(self.pk)
        return [
            RiskAssessment(
                kind=RiskAssessmentKind(r.kind.value),
                probability=r.probability,
                impact=r.impact,
                level=RiskLevel(r.level.value),
                previous_level=RiskLevel(r.previous_level.value) if r.previous_level else None,
                measures=r.measures,
                note=r.note,
                meeting_id=to_global_id("Meeting", r.meeting_id) if r.meeting_id else None,
                at=r.created_at,
            )
            for r in rows
        ]


async def risks_page(
    project_id: int,
    *,
    first: int | None,
    after: str | None,
    status: RiskStatus | None,
    level: RiskLevel | None,
) -> Connection[Risk]:
    offset, limit = page_window(first, after)
    wanted = risk_queries.RiskFilter(
        status=RiskStatusValue(status.value) if status else None,
        level=RiskLevelValue(level.value) if level else None,
    )
    rows, total = await risk_queries.list_risks(project_id, wanted, offset=offset, limit=limit)
    return connection([Risk.of(r) for r in rows], offset=offset, total=total)


@strawberry.input
class RaiseRiskInput:
    project_id: strawberry.ID
    title: str
    probability: int
    impact: int
    description: str | None = None
    category: RiskCategory | None = None
    department_id: strawberry.ID | None = None
    owner_id: strawberry.ID | None = None
    strategy: RiskStrategy | None = None
    measures: str | None = None
    trigger: str | None = None
    review_date: datetime.date | None = None
    task_ids: list[strawberry.ID] | None = None
    level: RiskLevel | None = strawberry.field(
        default=None, description="Set the level by hand (levelReason required)."
    )
    level_reason: str | None = None


@strawberry.input
class UpdateRiskInput:
    id: strawberry.ID
    version: int
    title: str | None = None
    description: str | None = None
    category: RiskCategory | None = None
    department_id: strawberry.ID | None = None
    owner_id: strawberry.ID | None = None
    probability: int | None = None
    impact: int | None = None
    strategy: RiskStrategy | None = None
    measures: str | None = None
    trigger: str | None = None
    review_date: datetime.date | None = None
    status: RiskStatus | None = strawberry.field(
        default=None, description="OPEN or MONITORING; use riskOccurred / closeRisk otherwise."
    )
    task_ids: list[strawberry.ID] | None = None
    level: RiskLevel | None = None
    level_reason: str | None = None
    use_matrix: bool = strawberry.field(
        default=False, description="Hand the level back to the project's matrix."
    )


@strawberry.input
class ReviewRiskInput:
    id: strawberry.ID
    version: int
    probability: int | None = None
    impact: int | None = None
    measures: str | None = None
    note: str | None = None
    next_review: datetime.date | None = strawberry.field(
        default=None, description="Default: a week after today."
    )
    level: RiskLevel | None = None
    level_reason: str | None = None
    use_matrix: bool = False
    meeting_id: strawberry.ID | None = strawberry.field(
        default=None, description="A live meeting of the project the review is recorded in."
    )


@strawberry.input
class RiskOccurredInput:
    id: strawberry.ID
    version: int
    note: str | None = None
    due_date: datetime.date | None = strawberry.field(
        default=None, description="When the problem is due; default today."
    )


@strawberry.input
class CloseRiskInput:
    id: strawberry.ID
    version: int
    note: str | None = None


@strawberry.input
class SetRiskMatrixInput:
    project_id: strawberry.ID
    version: int
    high_from: int
    medium_from: int


@strawberry.type
class RiskPayload:
    risk: Risk | None
    errors: list[UserError]


@strawberry.type
class RiskMatrixPayload:
    high_from: int | None
    medium_from: int | None
    project_version: int | None
    errors: list[UserError]


def _task_pks(values: list[strawberry.ID] | None) -> list[int] | None:
    if values is None:
        return None
    return [from_global_id(v, "Task", field="taskIds") for v in values]


@strawberry.type
class RiskRegisterMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def raise_risk(self, info: Info[Context, None], input: RaiseRiskInput) -> RiskPayload:
        row = await risk_register.raise_risk(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            data=risk_register.RiskInput(
                title=input.title,
                probability=input.probability,
                impact=input.impact,
                description=input.description,
                category=input.category.value if input.category else None,
                department_id=_pk(input.department_id, "Department", "departmentId"),
                owner_id=_pk(input.owner_id, "User", "ownerId"),
                strategy=input.strategy.value if input.strategy else None,
                measures=input.measures,
                trigger=input.trigger,
                review_date=input.review_date,
                task_ids=_task_pks(input.task_ids),
                level=input.level.value if input.level else None,
                level_reason=input.level_reason,
            ),
        )
        return RiskPayload(risk=Risk.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def update_risk(self, info: Info[Context, None], input: UpdateRiskInput) -> RiskPayload:
        row = await risk_register.update_risk(
            info.context.actor,
            risk_id=from_global_id(input.id, "Risk", field="id"),
            version=input.version,
            data=risk_register.RiskInput(
                title=input.title,
                description=input.description,
                category=input.category.value if input.category else None,
                department_id=_pk(input.department_id, "Department", "departmentId"),
                owner_id=_pk(input.owner_id, "User", "ownerId"),
                probability=input.probability,
                impact=input.impact,
                strategy=input.strategy.value if input.strategy else None,
                measures=input.measures,
                trigger=input.trigger,
                review_date=input.review_date,
                status=input.status.value if input.status else None,
                task_ids=_task_pks(input.task_ids),
                level=input.level.value if input.level else None,
                level_reason=input.level_reason,
                use_matrix=input.use_matrix,
            ),
        )
        return RiskPayload(risk=Risk.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def review_risk(self, info: Info[Context, None], input: ReviewRiskInput) -> RiskPayload:
        row = await risk_register.review_risk(
            info.context.actor,
            risk_id=from_global_id(input.id, "Risk", field="id"),
            version=input.version,
            data=risk_register.ReviewInput(
                probability=input.probability,
                impact=input.impact,
                measures=input.measures,
                note=input.note,
                next_review=input.next_review,
                level=input.level.value if input.level else None,
                level_reason=input.level_reason,
                use_matrix=input.use_matrix,
                meeting_id=_pk(input.meeting_id, "Meeting", "meetingId"),
            ),
        )
        return RiskPayload(risk=Risk.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def risk_occurred(
        self, info: Info[Context, None], input: RiskOccurredInput
    ) -> RiskPayload:
        """The risk happened: it becomes a problem that climbs the escalation ladder."""
        row = await risk_register.risk_occurred(
            info.context.actor,
            risk_id=from_global_id(input.id, "Risk", field="id"),
            version=input.version,
            note=input.note,
            due_date=input.due_date,
        )
        return RiskPayload(risk=Risk.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def close_risk(self, info: Info[Context, None], input: CloseRiskInput) -> RiskPayload:
        row = await risk_register.close_risk(
            info.context.actor,
            risk_id=from_global_id(input.id, "Risk", field="id"),
            version=input.version,
            note=input.note,
        )
        return RiskPayload(risk=Risk.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def set_risk_matrix(
        self, info: Info[Context, None], input: SetRiskMatrixInput
    ) -> RiskMatrixPayload:
        """From which probability × impact score a risk is high, or medium."""
        project = await risk_register.set_risk_matrix(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            version=input.version,
            high_from=input.high_from,
            medium_from=input.medium_from,
        )
        return RiskMatrixPayload(
            high_from=project.risk_high_score,
            medium_from=project.risk_medium_score,
            project_version=project.version,
            errors=[],
        )
