"""Progress reports, the viewer's own tasks and a project's plan-vs-actual figures."""

import datetime

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
from schema.planning import Task, TaskPayload
from server.progress import measuring, tracking
from server.progress import service as progress
from server.progress.models import TrackingNote as TrackingNoteRow


@strawberry.input
class ReportProgressInput:
    task_id: strawberry.ID
    version: int
    percent_complete: int
    note: str | None = None
    blocker: bool = False
    actual_finish: datetime.date | None = None
    deliverable: str | None = None
    remaining_days: int | None = strawberry.field(
        default=None,
        description="Working days still needed, when the owner judges it better than the "
        "percentage does (work in progress only).",
    )


@strawberry.type
class TrackingNote:
    cause: str
    action: str
    version: int
    updated_at: datetime.datetime


@strawberry.type
class TrackingRow:
    """One task's plan vs actual in the week (项目进度跟踪表), and why it is late."""

    task: Task
    planned_percent: float
    actual_percent: int
    variance: float
    days_late: int
    due: datetime.date
    forecast_finish: datetime.date | None
    note: TrackingNote | None
    may_explain: bool


@strawberry.type
class TrackingTable:
    week: str
    monday: datetime.date
    sunday: datetime.date
    day: datetime.date
    rows: list[TrackingRow]


def _note(row: TrackingNoteRow | None) -> TrackingNote | None:
    if row is None:
        return None
    return TrackingNote(
        cause=row.cause, action=row.action, version=row.version, updated_at=row.updated_at
    )


@strawberry.input
class ExplainLateTaskInput:
    task_id: strawberry.ID
    week: str = strawberry.field(description="ISO week, as `2026-W49`.")
    cause: str
    action: str
    version: int | None = strawberry.field(
        default=None, description="The note's version when editing one; none for a new note."
    )


@strawberry.type
class TrackingNotePayload:
    note: TrackingNote | None
    errors: list[UserError]


@strawberry.type
class ProgressQuery:
    @strawberry.field
    async def tracking(
        self, info: Info[Context, None], project_id: strawberry.ID, week: str | None = None
    ) -> TrackingTable:
        """The project's tracking table for an ISO week (this week when none is named)."""
        table = await tracking.tracking_table(
            info.context.actor,
            project_id=from_global_id(project_id, "Project", field="projectId"),
            week=week,
        )
        return TrackingTable(
            week=table.week,
            monday=table.monday,
            sunday=table.sunday,
            day=table.day,
            rows=[
                TrackingRow(
                    task=Task.of(r.task),
                    planned_percent=r.measure.planned_percent,
                    actual_percent=r.measure.actual_percent,
                    variance=r.measure.variance,
                    days_late=r.measure.days_late,
                    due=r.measure.due,
                    forecast_finish=r.measure.forecast_finish,
                    note=_note(r.note),
                    may_explain=r.may_explain,
                )
                for r in table.rows
            ],
        )

    @strawberry.field
    async def my_tasks(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[Task]:
        """Tasks the viewer owns or liaises for, late ones first."""
        offset, limit = page_window(first, after)
        rows = await progress.my_tasks(info.context.actor)
        return connection(
            [Task.of(m.task) for m in rows[offset : offset + limit]], offset=offset, total=len(rows)
        )


@strawberry.type
class ProgressMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def report_progress(
        self, info: Info[Context, None], input: ReportProgressInput
    ) -> TaskPayload:
        row = await progress.report_progress(
            info.context.actor,
            progress.ProgressInput(
                task_id=from_global_id(input.task_id, "Task", field="taskId"),
                version=input.version,
                percent_complete=input.percent_complete,
                note=input.note or "",
                blocker=input.blocker,
                actual_finish=input.actual_finish,
                deliverable=input.deliverable,
                remaining_days=input.remaining_days,
            ),
        )
        return TaskPayload(task=Task.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def explain_late_task(
        self, info: Info[Context, None], input: ExplainLateTaskInput
    ) -> TrackingNotePayload:
        row = await tracking.explain_late_task(
            info.context.actor,
            task_id=from_global_id(input.task_id, "Task", field="taskId"),
            week=input.week,
            cause=input.cause,
            action=input.action,
            version=input.version,
        )
        return TrackingNotePayload(note=_note(row), errors=[])


@strawberry.type
class DepartmentLateCount:
    department_id: strawberry.ID | None
    late_tasks: int


@strawberry.type
class ProjectProgress:
    """Plan vs actual today: duration-weighted percentages and the schedule performance index."""

    day: datetime.date
    planned_percent: float
    actual_percent: float
    spi: float | None
    late_tasks: int
    late_by_department: list[DepartmentLateCount]
    critical_finish: datetime.date | None
    forecast_finish: datetime.date | None


async def progress_of(project_pk: int, time_zone: str) -> ProjectProgress:
    measured = await measuring.project_progress(project_pk, time_zone)
    figures = measured.figures
    return ProjectProgress(
        day=measured.day,
        planned_percent=figures.planned_percent,
        actual_percent=figures.actual_percent,
        spi=figures.spi,
        late_tasks=figures.late_tasks,
        late_by_department=[
            DepartmentLateCount(
                department_id=to_global_id("Department", int(key)) if key != "0" else None,
                late_tasks=count,
            )
            for key, count in sorted(figures.late_by_department.items())
        ],
        critical_finish=measured.critical_finish,
        forecast_finish=measured.forecast_finish,
    )
