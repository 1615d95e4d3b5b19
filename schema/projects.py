"""Projects, their departments, milestones and the team directory."""

import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from schema.changes import ChangeRequest, change_requests_of
from schema.closing import Acceptance, Retrospective, acceptances_of, retrospectives_of
from schema.closing_report import closing_report_of
from schema.common import (
    Connection,
    UserError,
    connection,
    from_global_id,
    keyset_connection,
    keyset_window,
    page_window,
    refusals_in_payload,
    to_global_id,
)
from schema.context import Context
from schema.meetings import Meeting
from schema.org import Department, Node, User
from schema.planning import CriticalPath, ProjectSchedule, Task, read_ahead
from schema.progress import ProjectProgress, progress_of
from schema.requirements import (
    Requirement,
    RequirementConflict,
    ResourceRequest,
    open_conflicts,
    requests_page,
    requirements_page,
)
from schema.risks import Problem, Risk, RiskLevel, RiskStatus, risks_page
from schema.signoffs import SignableDocument, load_document
from server.audit.service import list_project_activity
from server.errors import NotFound
from server.meetings.queries import list_meetings
from server.planning import queries as planning_queries
from server.planning.scheduling import status_date_of
from server.projects import lifecycle
from server.projects import service as projects
from server.projects.models import Project as ProjectRow
from server.projects.models import ProjectMember as MemberRow
from server.projects.models import ProjectStatus as StatusValue
from server.projects.models import Role as RoleValue
from server.risks.problems import list_problems
from server.signoffs import queries as signoff_queries
from server.signoffs.models import DocumentKind

ProjectStatus = strawberry.enum(StatusValue, name="ProjectStatus")
Role = strawberry.enum(RoleValue, name="Role")


@strawberry.type
class ProjectMember(Node):
    role: Role  # type: ignore[valid-type]
    position: str
    responsibilities: str
    time_commitment: str
    joined_at: datetime.datetime
    left_at: datetime.datetime | None
    user: User
    department: Department

    @classmethod
    def of(cls, row: MemberRow) -> "ProjectMember":
        return cls(
            id=to_global_id("ProjectMember", row.id),
            role=row.role,
            position=row.position,
            responsibilities=row.responsibilities,
            time_commitment=row.time_commitment,
            joined_at=row.joined_at,
            left_at=row.left_at,
            user=User.of(row.user),
            department=Department.of(row.department),
        )


@strawberry.type
class ActivityEntry:
    action: str
    summary: str
    at: datetime.datetime
    actor_name: str | None


@strawberry.type
class Project(Node):
    code: str
    name: str
    background: str
    goals: str
    scope: str
    success_criteria: str
    status: ProjectStatus  # type: ignore[valid-type]
    status_reason: str | None = strawberry.field(
        description="Why it last changed status (paused, resumed, reopened, restored)."
    )
    start_date: datetime.date
    time_zone: str
    late_threshold_days: int
    status_date: datetime.date = strawberry.field(
        description="The day progress is measured on: the one set, else today in the project."
    )
    status_date_is_set: bool
    retained_logic: bool = strawberry.field(
        description="False: progress override (a started task's rest ignores predecessors)."
    )
    deadline: datetime.date | None
    critical_threshold_days: int
    risk_high_score: int = strawberry.field(
        description="Probability × impact from this score up is a high risk."
    )
    risk_medium_score: int = strawberry.field(
        description="Probability × impact from this score up (below high) is a medium risk."
    )
    version: int
    pk: strawberry.Private[int]
    initiating_department_pk: strawberry.Private[int]

    @classmethod
    def of(cls, row: ProjectRow) -> "Project":
        return cls(
            id=to_global_id("Project", row.id),
            code=row.code,
            name=row.name,
            background=row.background,
            goals=row.goals,
            scope=row.scope,
            success_criteria=row.success_criteria,
            status=row.status,
            status_reason=row.status_reason,
            start_date=row.start_date,
            time_zone=row.time_zone,
            late_threshold_days=row.late_threshold_days,
            status_date=status_date_of(row),
            status_date_is_set=row.status_date is not None,
            retained_logic=row.retained_logic,
            deadline=row.deadline,
            critical_threshold_days=row.critical_threshold_days,
            risk_high_score=row.risk_high_score,
            risk_medium_score=row.risk_medium_score,
            version=row.version,
            pk=row.id,
            initiating_department_pk=row.initiating_department_id,
        )

    @strawberry.field
    async def initiating_department(self, info: Info[Context, None]) -> Department:
        row = await info.context.departments.load(self.initiating_department_pk)
        assert row is not None
        return Department.of(row)

    @strawberry.field
    async def departments(self, info: Info[Context, None]) -> list[Department]:
        return [Department.of(d) for d in await info.context.participating.load(self.pk)]

    @strawberry.field
    async def members(
        self,
        info: Info[Context, None],
        role: Role | None = None,  # type: ignore[valid-type]
    ) -> list[ProjectMember]:
        rows = await info.context.members.load(self.pk)
        return [ProjectMember.of(m) for m in rows if role is None or m.role == role]

    @strawberry.field
    async def manager(self, info: Info[Context, None]) -> User | None:
        rows = await info.context.members.load(self.pk)
        managers = [m for m in rows if m.role == RoleValue.MANAGER]
        return User.of(managers[0].user) if managers else None

    @strawberry.field
    async def milestones(self, info: Info[Context, None]) -> list[Task]:
        return [Task.of(t) for t in await info.context.milestones.load(self.pk)]

    @strawberry.field
    async def tasks(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[Task]:
        start, limit = keyset_window("tasks", first, after)
        rows = await planning_queries.task_page(
            self.pk, after=(start.key, start.pk) if start else None, limit=limit
        )
        await read_ahead(info, rows[:limit])
        project_id = self.pk
        return keyset_connection(
            "tasks",
            rows,
            limit=limit,
            after=start,
            key=lambda t: t.wbs_key or "",
            node=Task.of,
            counter=lambda: planning_queries.count_tasks(project_id),
        )

    @strawberry.field
    async def critical_path(self, info: Info[Context, None]) -> CriticalPath:
        """The driving path: the chain of tasks that drives the forecast finish, in order."""
        rows = await info.context.project_tasks.load(self.pk)
        schedules = await info.context.schedules.load_many([t.id for t in rows])
        path = sorted(
            (
                (s.driving_position, t, s)
                for s, t in zip(schedules, rows, strict=True)
                if s is not None and s.driving_position is not None
            ),
            key=lambda entry: entry[0],
        )
        total = 0
        if path:
            from server.planning.scheduling import working_calendar

            calendar = await working_calendar(self.pk)
            first = min(s.early_start for _, _, s in path)
            total = calendar.duration_between(first, max(s.early_finish for _, _, s in path))
        return CriticalPath(tasks=[Task.of(t) for _, t, _ in path], total_duration_days=total)

    @strawberry.field
    async def schedule(self, info: Info[Context, None]) -> ProjectSchedule:
        rows = await info.context.project_tasks.load(self.pk)
        schedules = await info.context.schedules.load_many([t.id for t in rows])
        finishes = [s.early_finish for s in schedules if s is not None]
        return ProjectSchedule(start=self.start_date, finish=max(finishes, default=None))

    @strawberry.field
    async def acceptances(self, info: Info[Context, None]) -> list[Acceptance]:
        """Hand-overs of deliverables and their acceptance, newest first."""
        return await acceptances_of(self.pk)

    @strawberry.field
    async def change_requests(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[ChangeRequest]:
        """The change log, newest first; each impact computed on the plan as it stands."""
        offset, limit = page_window(first, after)
        rows = await change_requests_of(self.pk)
        return connection(rows[offset : offset + limit], offset=offset, total=len(rows))

    @strawberry.field
    async def retrospective(self, info: Info[Context, None]) -> list[Retrospective]:
        """Each department's retrospective (复盘)."""
        return await retrospectives_of(self.pk)

    @strawberry.field
    async def problems(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        open_only: bool = False,
    ) -> Connection[Problem]:
        """Problems, newest first (open ones only when asked)."""
        offset, limit = page_window(first, after)
        rows = (await list_problems([self.pk], open_only=open_only))[self.pk]
        return connection(
            [Problem.of(r) for r in rows[offset : offset + limit]], offset=offset, total=len(rows)
        )

    @strawberry.field
    async def meetings(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[Meeting]:
        """Meetings in order of their start, past and planned."""
        offset, limit = page_window(first, after)
        rows = (await list_meetings([self.pk]))[self.pk]
        return connection(
            [Meeting.of(m) for m in rows[offset : offset + limit]], offset=offset, total=len(rows)
        )

    @strawberry.field
    async def requirements(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[Requirement]:
        """The requirements of every department, in the order filed; only the page is read."""
        return await requirements_page(self.pk, first, after)

    @strawberry.field
    async def resource_requests(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[ResourceRequest]:
        return await requests_page(self.pk, first, after)

    @strawberry.field
    async def requirement_conflicts(self, info: Info[Context, None]) -> list[RequirementConflict]:
        """Conflicts still open."""
        return await open_conflicts(self.pk)

    @strawberry.field
    async def risks(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        status: RiskStatus | None = None,
        level: RiskLevel | None = None,
    ) -> Connection[Risk]:
        """The risk register, live risks first, then by level and score; only the page is read."""
        return await risks_page(self.pk, first=first, after=after, status=status, level=level)

    @strawberry.field
    async def progress(self, info: Info[Context, None]) -> ProjectProgress:
        return await progress_of(self.pk, self.time_zone)

    @strawberry.field
    async def charter(self, info: Info[Context, None]) -> SignableDocument:
        return await self._document(info, DocumentKind.CHARTER)

    @strawberry.field
    async def collaboration_confirmation(self, info: Info[Context, None]) -> SignableDocument:
        return await self._document(info, DocumentKind.COLLABORATION_CONFIRMATION)

    @strawberry.field
    async def closing_report(self, info: Info[Context, None]) -> SignableDocument | None:
        """The closing report (项目总结报告) once the PM has generated it."""
        return await closing_report_of(info, self.pk)

    async def _document(self, info: Info[Context, None], kind: DocumentKind) -> SignableDocument:
        row = await signoff_queries.open_document(info.context.actor, project_id=self.pk, kind=kind)
        return await load_document(info, row)

    @strawberry.field
    async def recent_activity(
        self, info: Info[Context, None], limit: int = 20
    ) -> list[ActivityEntry]:
        entries = await list_project_activity(self.pk, limit=min(max(limit, 1), 100))
        return [
            ActivityEntry(
                action=e.action,
                summary=e.summary,
                at=e.at,
                actor_name=e.actor.name if e.actor else None,
            )
            for e in entries
        ]


@strawberry.input
class CreateProjectInput:
    code: str
    name: str
    initiating_department_id: strawberry.ID
    department_ids: list[strawberry.ID]
    start_date: datetime.date
    background: str | None = None
    goals: str | None = None
    scope: str | None = None
    success_criteria: str | None = None
    late_threshold_days: int | None = None
    time_zone: str | None = None


@strawberry.input
class UpdateProjectInput:
    id: strawberry.ID
    version: int
    code: str | None = None
    name: str | None = None
    initiating_department_id: strawberry.ID | None = None
    department_ids: list[strawberry.ID] | None = None
    start_date: datetime.date | None = None
    background: str | None = None
    goals: str | None = None
    scope: str | None = None
    success_criteria: str | None = None
    late_threshold_days: int | None = None
    time_zone: str | None = None
    # null clears (the status date becomes today again; no deadline).
    status_date: datetime.date | None = strawberry.UNSET
    retained_logic: bool | None = None
    deadline: datetime.date | None = strawberry.UNSET
    critical_threshold_days: int | None = None


@strawberry.input
class AddProjectMemberInput:
    project_id: strawberry.ID
    user_id: strawberry.ID
    role: Role  # type: ignore[valid-type]
    department_id: strawberry.ID
    position: str | None = None
    responsibilities: str | None = None
    time_commitment: str | None = None


@strawberry.input
class ReplaceLiaisonInput:
    project_id: strawberry.ID
    department_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.input
class ApprovePlanInput:
    project_id: strawberry.ID
    name: str | None = None


@strawberry.input
class SetProjectStatusInput:
    project_id: strawberry.ID
    version: int
    status: ProjectStatus  # type: ignore[valid-type]
    reason: str | None = None


@strawberry.input
class ArchiveProjectInput:
    id: strawberry.ID
    version: int


@strawberry.input
class RemoveProjectMemberInput:
    member_id: strawberry.ID


@strawberry.type
class ProjectPayload:
    project: Project | None
    errors: list[UserError]


@strawberry.type
class ProjectMemberPayload:
    member: ProjectMember | None
    errors: list[UserError]


def _project_fields(data: CreateProjectInput | UpdateProjectInput) -> projects.ProjectInput:
    initiating = (
        from_global_id(data.initiating_department_id, "Department", field="initiatingDepartmentId")
        if data.initiating_department_id
        else None
    )
    departments = (
        [from_global_id(d, "Department", field="departmentIds") for d in data.department_ids]
        if data.department_ids is not None
        else None
    )
    return projects.ProjectInput(
        code=data.code,
        name=data.name,
        initiating_department_id=initiating,
        department_ids=departments,
        start_date=data.start_date,
        background=data.background,
        goals=data.goals,
        scope=data.scope,
        success_criteria=data.success_criteria,
        late_threshold_days=data.late_threshold_days,
        time_zone=data.time_zone,
        **_schedule_settings(data),
    )


def _schedule_settings(data: CreateProjectInput | UpdateProjectInput) -> dict[str, Any]:
    if not isinstance(data, UpdateProjectInput):
        return {}
    settings: dict[str, Any] = {
        "retained_logic": data.retained_logic,
        "critical_threshold_days": data.critical_threshold_days,
    }
    for name in ("status_date", "deadline"):
        value = getattr(data, name)
        if value is not strawberry.UNSET:
            settings[name] = "" if value is None else value
    return settings


async def load_project(info: Info[Context, None], pk: int) -> Project | None:
    try:
        return Project.of(await projects.get_project(info.context.actor, project_id=pk))
    except NotFound:
        return None


@strawberry.type
class ProjectQuery:
    @strawberry.field
    async def projects(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        status: ProjectStatus | None = None,  # type: ignore[valid-type]
    ) -> Connection[Project]:
        offset, limit = page_window(first, after)
        rows, total = await projects.list_projects(
            info.context.actor, status=status, offset=offset, limit=limit
        )
        return connection([Project.of(r) for r in rows], offset=offset, total=total)

    @strawberry.field
    async def project(self, info: Info[Context, None], id: strawberry.ID) -> Project | None:
        try:
            pk = from_global_id(id, "Project", field="id")
        except NotFound:
            return None
        return await load_project(info, pk)


@strawberry.type
class ProjectMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def create_project(
        self, info: Info[Context, None], input: CreateProjectInput
    ) -> ProjectPayload:
        row = await projects.create_project(info.context.actor, _project_fields(input))
        return ProjectPayload(project=Project.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def update_project(
        self, info: Info[Context, None], input: UpdateProjectInput
    ) -> ProjectPayload:
        pk = from_global_id(input.id, "Project", field="id")
        row = await projects.update_project(
            info.context.actor,
            project_id=pk,
            version=input.version,
            data=_project_fields(input),
        )
        return ProjectPayload(project=Project.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def approve_plan(
        self, info: Info[Context, None], input: ApprovePlanInput
    ) -> ProjectPayload:
        from server.progress import snapshots

        pk = from_global_id(input.project_id, "Project", field="projectId")
        await snapshots.approve_plan(info.context.actor, project_id=pk, name=input.name)
        row = await projects.get_project(info.context.actor, project_id=pk)
        return ProjectPayload(project=Project.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def archive_project(
        self, info: Info[Context, None], input: ArchiveProjectInput
    ) -> ProjectPayload:
        pk = from_global_id(input.id, "Project", field="id")
        row = await projects.archive_project(
            info.context.actor, project_id=pk, version=input.version
        )
        return ProjectPayload(project=Project.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def set_project_status(
        self, info: Info[Context, None], input: SetProjectStatusInput
    ) -> ProjectPayload:
        """Move the project along its lifecycle; refused with what is missing."""
        row = await lifecycle.set_status(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            version=input.version,
            status=str(input.status.value),  # type: ignore[attr-defined]
            reason=input.reason,
        )
        return ProjectPayload(project=Project.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def add_project_member(
        self, info: Info[Context, None], input: AddProjectMemberInput
    ) -> ProjectMemberPayload:
        row = await projects.add_project_member(
            info.context.actor,
            projects.MemberInput(
                project_id=from_global_id(input.project_id, "Project", field="projectId"),
                user_id=from_global_id(input.user_id, "User", field="userId"),
                role=input.role,
                department_id=from_global_id(
                    input.department_id, "Department", field="departmentId"
                ),
                position=input.position,
                responsibilities=input.responsibilities,
                time_commitment=input.time_commitment,
            ),
        )
        member = await projects.get_member(info.context.actor, member_id=row.id)
        return ProjectMemberPayload(member=ProjectMember.of(member), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def replace_liaison(
        self, info: Info[Context, None], input: ReplaceLiaisonInput
    ) -> ProjectMemberPayload:
        """Hand a department's liaison role to someone else in one step."""
        row = await projects.replace_liaison(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            department_id=from_global_id(input.department_id, "Department", field="departmentId"),
            user_id=from_global_id(input.user_id, "User", field="userId"),
        )
        member = await projects.get_member(info.context.actor, member_id=row.id)
        return ProjectMemberPayload(member=ProjectMember.of(member), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def remove_project_member(
        self, info: Info[Context, None], input: RemoveProjectMemberInput
    ) -> ProjectMemberPayload:
        pk = from_global_id(input.member_id, "ProjectMember", field="memberId")
        await projects.remove_project_member(info.context.actor, member_id=pk)
        member = await projects.get_member(info.context.actor, member_id=pk)
        return ProjectMemberPayload(member=ProjectMember.of(member), errors=[])
