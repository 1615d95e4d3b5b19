"""Tasks, dependencies and the schedule."""

import datetime
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from schema.common import (
    NOT_READ_AHEAD,
    Connection,
    UserError,
    connection,
    from_global_id,
    later,
    node_fields,
    page_window,
    read_ahead_answer,
    refusals_in_payload,
    selects_only_id,
    selects_only_id_of,
    to_global_id,
)
from schema.context import Context
from schema.discussion import Discussed
from schema.org import Department, Node, User
from server.errors import NotFound
from server.org import service as org
from server.planning import company_calendar, project_calendar
from server.planning import queries as planning_queries
from server.planning import service as planning
from server.planning.calendar import days_late as working_days_late
from server.planning.calendar import forecast_days_late as forecast_late
from server.planning.models import DependencyType as DependencyTypeValue
from server.planning.models import Task as TaskRow
from server.planning.models import TaskStatus as TaskStatusValue
from server.planning.queries import PagedTask

if TYPE_CHECKING:
    from schema.projects import Project

DependencyType = strawberry.enum(DependencyTypeValue, name="DependencyType")


@strawberry.type
class TaskUpdate:
    percent_complete: int
    note: str
    blocker: bool
    actual_finish: datetime.date | None
    created_at: datetime.datetime
    author: User | None

    @classmethod
    def of(cls, row: Any) -> "TaskUpdate":
        return cls(
            percent_complete=row.percent_complete,
            note=row.note,
            blocker=row.blocker,
            actual_finish=row.actual_finish,
            created_at=row.created_at,
            author=User.of(row.author) if row.author else None,
        )


@strawberry.type
class Dependency:
    type: DependencyType  # type: ignore[valid-type]
    lag_days: int
    predecessor_pk: strawberry.Private[int]

    @classmethod
    def of(cls, row: Any) -> "Dependency":
        return cls(type=row.type, lag_days=row.lag_days, predecessor_pk=row.predecessor_id)

    @strawberry.field
    @read_ahead_answer(
        lambda link, _, field_nodes: (
            Task.reference(link.predecessor_pk)
            if selects_only_id_of(field_nodes)
            else NOT_READ_AHEAD
        )
    )
    def predecessor(self, info: Info[Context, None]) -> "Task":
        if selects_only_id(info):
            return Task.reference(self.predecessor_pk)  # the link row holds the id
        return later(self._predecessor(info))  # type: ignore[no-any-return]

    async def _predecessor(self, info: Info[Context, None]) -> "Task":
        row = await info.context.tasks.load(self.predecessor_pk)
        assert row is not None
        return Task.of(row)


@strawberry.enum
class TaskStatus(Enum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


_API_STATUS = {status: TaskStatus(status.value) for status in TaskStatusValue}


@strawberry.type
class Task(Node, Discussed):
    name: str
    wbs_code: str
    planned_start: datetime.date
    planned_finish: datetime.date | None
    duration_days: int
    buffer_days: int
    is_milestone: bool
    deliverable: str
    percent_complete: int
    status: TaskStatus
    actual_start: datetime.date | None
    actual_finish: datetime.date | None
    version: int
    pk: strawberry.Private[int]
    parent_pk: strawberry.Private[int | None]
    owner_pk: strawberry.Private[int | None]
    department_pk: strawberry.Private[int | None]
    project_pk: strawberry.Private[int]

    @classmethod
    def of(cls, row: "TaskRow | PagedTask") -> "Task":
        return cls(
            id=to_global_id("Task", row.id),
            name=row.name,
            wbs_code=row.wbs_code,
            planned_start=row.planned_start,
            planned_finish=row.planned_finish,
            duration_days=row.duration_days,
            buffer_days=row.buffer_days,
            is_milestone=row.is_milestone,
            deliverable=row.deliverable,
            percent_complete=row.percent_complete,
            status=_API_STATUS[row.status],
            actual_start=row.actual_start,
            actual_finish=row.actual_finish,
            version=row.version,
            pk=row.id,
            parent_pk=row.parent_id,
            owner_pk=row.owner_id,
            department_pk=row.department_id,
            project_pk=row.project_id,
        )

    @classmethod
    def reference(cls, pk: int) -> "Task":
        """A task known only by its id, for a selection that asks for nothing else."""
        task = cls.__new__(cls)
        task.id = to_global_id("Task", pk)
        task.pk = pk
        return task

    @strawberry.field
    async def project(
        self, info: Info[Context, None]
    ) -> Annotated["Project", strawberry.lazy("schema.projects")]:
        from schema.projects import Project

        row = await info.context.projects.load(self.project_pk)
        if row is None:  # the task was read through its project, so the actor sees it
            raise NotFound("No such project.", field="projectId")
        return Project.of(row)

    @strawberry.field
    async def phase(self, info: Info[Context, None]) -> "Task | None":
        if self.parent_pk is None:
            return None
        row = await info.context.tasks.load(self.parent_pk)
        return Task.of(row) if row else None

    @strawberry.field
    @read_ahead_answer(
        lambda task, context, _: (
            None
            if task.owner_pk is None
            else context.known_owners.get(task.owner_pk, NOT_READ_AHEAD)
        )
    )
    def owner(self, info: Info[Context, None]) -> User | None:
        if self.owner_pk is None:
            return None
        known: User | None = info.context.known_owners.get(self.owner_pk)
        if known is not None:
            return known
        return later(self._owner(info, self.owner_pk))  # type: ignore[no-any-return]

    async def _owner(self, info: Info[Context, None], pk: int) -> User | None:
        row = await info.context.users.load(pk)
        return User.of(row) if row else None

    @strawberry.field
    async def department(self, info: Info[Context, None]) -> Department | None:
        row = (
            await info.context.departments.load(self.department_pk) if self.department_pk else None
        )
        return Department.of(row) if row else None

    @strawberry.field
    @read_ahead_answer(
        lambda task, context, _: (
            NOT_READ_AHEAD
            if (known := context.known_links.get(task.pk)) is None
            else [Dependency.of(d) for d in known]
        )
    )
    def dependencies(self, info: Info[Context, None]) -> list[Dependency]:
        known = info.context.known_links.get(self.pk)
        if known is not None:
            return [Dependency.of(d) for d in known]
        return later(self._dependencies(info))  # type: ignore[no-any-return]

    async def _dependencies(self, info: Info[Context, None]) -> list[Dependency]:
        return [Dependency.of(d) for d in await info.context.dependencies.load(self.pk)]

    async def _schedule(self, info: Info[Context, None]) -> Any:
        return await info.context.schedules.load(self.pk)

    @strawberry.field
    async def remaining_days(self, info: Info[Context, None]) -> int | None:
        """Working days still to go on the status date."""
        row = await self._schedule(info)
        return row.remaining_days if row else None

    @strawberry.field
    async def driving_predecessors(self, info: Info[Context, None]) -> list["Task"]:
        """Predecessors whose links set this task's forecast dates."""
        row = await self._schedule(info)
        if not row or not row.driving_predecessors:
            return []
        found = await info.context.tasks.load_many(list(row.driving_predecessors))
        return [Task.of(t) for t in found if t is not None]

    @strawberry.field
    async def early_start(self, info: Info[Context, None]) -> datetime.date | None:
        row = await self._schedule(info)
        return row.early_start if row else None

    @strawberry.field
    async def early_finish(self, info: Info[Context, None]) -> datetime.date | None:
        row = await self._schedule(info)
        return row.early_finish if row else None

    @strawberry.field
    async def late_start(self, info: Info[Context, None]) -> datetime.date | None:
        row = await self._schedule(info)
        return row.late_start if row else None

    @strawberry.field
    async def late_finish(self, info: Info[Context, None]) -> datetime.date | None:
        row = await self._schedule(info)
        return row.late_finish if row else None

    @strawberry.field
    async def total_float_days(self, info: Info[Context, None]) -> int | None:
        row = await self._schedule(info)
        return row.total_float if row else None

    @strawberry.field
    async def free_float_days(self, info: Info[Context, None]) -> int | None:
        row = await self._schedule(info)
        return row.free_float if row else None

    @strawberry.field
    async def is_critical(self, info: Info[Context, None]) -> bool:
        row = await self._schedule(info)
        return bool(row.is_critical) if row else False

    @strawberry.field
    async def updates(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[TaskUpdate]:
        """Progress reports, newest first."""
        from server.progress.service import list_updates

        offset, limit = page_window(first, after)
        rows = (await list_updates([self.pk], limit=10_000))[self.pk]
        return connection(
            [TaskUpdate.of(u) for u in rows[offset : offset + limit]],
            offset=offset,
            total=len(rows),
        )

    @strawberry.field
    async def days_late(self, info: Info[Context, None]) -> int:
        """Working days past the baseline finish (before any baseline, the planned finish as
        entered), while not done; never counted from a date that moves with progress."""
        baseline = await info.context.baselines.load(self.pk)
        finish = planning_queries.agreed_finish(self.planned_start, self.planned_finish, baseline)
        calendar, today = await info.context.calendars.load(self.project_pk)
        return working_days_late(
            calendar, finish=finish, today=today, done=self.status.value in ("DONE", "CANCELLED")
        )

    @strawberry.field
    async def forecast_days_late(self, info: Info[Context, None]) -> int:
        """Working days the forecast (scheduled) finish lies past the agreed finish: a
        warning that the task will be late, while `daysLate` is still 0."""
        row = await self._schedule(info)
        if row is None:
            return 0
        baseline = await info.context.baselines.load(self.pk)
        calendar, _ = await info.context.calendars.load(self.project_pk)
        return forecast_late(
            calendar,
            agreed=planning_queries.agreed_finish(
                self.planned_start, self.planned_finish, baseline
            ),
            forecast=row.early_finish,
            done=self.status.value in ("DONE", "CANCELLED"),
        )

    @strawberry.field
    async def baseline_start(self, info: Info[Context, None]) -> datetime.date | None:
        row = await info.context.baselines.load(self.pk)
        return row.start if row else None

    @strawberry.field
    async def baseline_finish(self, info: Info[Context, None]) -> datetime.date | None:
        row = await info.context.baselines.load(self.pk)
        return row.finish if row else None


async def read_ahead(info: Info[Context, None], rows: Sequence[TaskRow | PagedTask]) -> None:
    """The owners and links of a page of tasks, read once for the page when the query asks
    for them: each task's field then answers without an awaitable of its own."""
    wanted = node_fields(info)
    if "owner" in wanted:
        owner_ids = sorted({t.owner_id for t in rows if t.owner_id is not None})
        # One statement, not a DataLoader's future per owner and a turn of the event loop
        # to batch them; one API object per person, however many tasks they own.
        owners = await org.users_by_ids(owner_ids) if owner_ids else {}
        info.context.known_owners.update((pk, User.of(u)) for pk, u in owners.items())
    if "dependencies" in wanted:
        # One statement for the page, not a DataLoader future for each of its tasks.
        info.context.known_links.update(
            await planning_queries.dependencies_of([t.id for t in rows])
        )


@strawberry.type
class CriticalPath:
    tasks: list[Task]
    total_duration_days: int


@strawberry.type
class ProjectSchedule:
    start: datetime.date
    finish: datetime.date | None


@strawberry.input
class CreateTaskInput:
    project_id: strawberry.ID
    name: str
    planned_start: datetime.date
    duration_days: int | None = None
    planned_finish: datetime.date | None = None
    parent_id: strawberry.ID | None = None
    owner_id: strawberry.ID | None = None
    department_id: strawberry.ID | None = None
    deliverable: str | None = None
    buffer_days: int | None = None
    is_milestone: bool | None = None


@strawberry.input
class UpdateTaskInput:
    id: strawberry.ID
    version: int
    name: str | None = None
    planned_start: datetime.date | None = None
    duration_days: int | None = None
    planned_finish: datetime.date | None = None
    parent_id: strawberry.ID | None = None
    owner_id: strawberry.ID | None = None
    department_id: strawberry.ID | None = None
    deliverable: str | None = None
    buffer_days: int | None = None
    is_milestone: bool | None = None


@strawberry.input
class AddDependencyInput:
    predecessor_id: strawberry.ID
    successor_id: strawberry.ID
    type: DependencyType = DependencyTypeValue.FS  # type: ignore[valid-type]
    lag_days: int = 0


@strawberry.input
class RemoveDependencyInput:
    predecessor_id: strawberry.ID
    successor_id: strawberry.ID


@strawberry.type
class TaskPayload:
    task: Task | None
    errors: list[UserError]


def _task_fields(data: CreateTaskInput | UpdateTaskInput) -> planning.TaskInput:
    def pk(value: strawberry.ID | None, kind: str, field: str) -> int | None:
        return from_global_id(value, kind, field=field) if value else None

    return planning.TaskInput(
        name=data.name,
        planned_start=data.planned_start,
        duration_days=data.duration_days,
        planned_finish=data.planned_finish,
        parent_id=pk(data.parent_id, "Task", "parentId"),
        owner_id=pk(data.owner_id, "User", "ownerId"),
        department_id=pk(data.department_id, "Department", "departmentId"),
        deliverable=data.deliverable,
        buffer_days=data.buffer_days,
        is_milestone=data.is_milestone,
    )


@strawberry.type
class CalendarDay:
    date: datetime.date
    working: bool
    reason: str
    project_id: strawberry.ID | None


@strawberry.input
class SetCalendarDayInput:
    date: datetime.date
    working: bool
    reason: str = ""
    project_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A day of this project only (its PM); without it, the company's (admins).",
    )


@strawberry.type
class CalendarDayPayload:
    calendar_day: CalendarDay | None
    errors: list[UserError]


@strawberry.type
class PlanningMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def set_calendar_day(
        self, info: Info[Context, None], input: SetCalendarDayInput
    ) -> CalendarDayPayload:
        """A holiday or a make-up working day; every plan it touches is rescheduled."""
        actor = info.context.actor
        if input.project_id:
            project_pk = from_global_id(input.project_id, "Project", field="projectId")
            await project_calendar.set_project_calendar_day(
                actor,
                project_id=project_pk,
                day=input.date,
                is_working=input.working,
                name=input.reason,
            )
        else:
            await company_calendar.set_calendar_day(
                actor, day=input.date, is_working=input.working, name=input.reason
            )
        day = CalendarDay(
            date=input.date,
            working=input.working,
            reason=input.reason.strip(),
            project_id=input.project_id,
        )
        return CalendarDayPayload(calendar_day=day, errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def create_task(self, info: Info[Context, None], input: CreateTaskInput) -> TaskPayload:
        project_id = from_global_id(input.project_id, "Project", field="projectId")
        row = await planning.create_task(
            info.context.actor, project_id=project_id, data=_task_fields(input)
        )
        return TaskPayload(task=Task.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def update_task(self, info: Info[Context, None], input: UpdateTaskInput) -> TaskPayload:
        task_id = from_global_id(input.id, "Task", field="id")
        row = await planning.update_task(
            info.context.actor, task_id=task_id, version=input.version, data=_task_fields(input)
        )
        return TaskPayload(task=Task.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def add_dependency(
        self, info: Info[Context, None], input: AddDependencyInput
    ) -> TaskPayload:
        successor = from_global_id(input.successor_id, "Task", field="successorId")
        await planning.add_dependency(
            info.context.actor,
            predecessor_id=from_global_id(input.predecessor_id, "Task", field="predecessorId"),
            successor_id=successor,
            type=DependencyTypeValue(input.type).value,
            lag_days=input.lag_days,
        )
        row = await planning_queries.get_task(info.context.actor, task_id=successor)
        return TaskPayload(task=Task.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def remove_dependency(
        self, info: Info[Context, None], input: RemoveDependencyInput
    ) -> TaskPayload:
        row = await planning.remove_dependency(
            info.context.actor,
            predecessor_id=from_global_id(input.predecessor_id, "Task", field="predecessorId"),
            successor_id=from_global_id(input.successor_id, "Task", field="successorId"),
        )
        return TaskPayload(task=Task.of(row), errors=[])
