"""Approving the plan: a baseline of every task's dates, the agreed plan lateness counts from."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from server.audit.service import record
from server.auth import Action, Actor, authorize
from server.errors import Invalid
from server.planning.models import (
    Baseline,
    BaselineTask,
    Task,
)
from server.planning.queries import schedules_for
from server.planning.scheduling import company_calendar_days as company_calendar_days
from server.planning.scheduling import reschedule as reschedule
from server.planning.scheduling import working_calendar as working_calendar
from server.planning.service import lock_project
from server.projects import lifecycle
from server.projects.models import Project, ProjectDepartment, ProjectMember, Role
from server.validation import Checks

# --- baselines -----------------------------------------------------------------------------


async def approve_plan(actor: Actor, *, project_id: int, name: str | None = None) -> Baseline:
    """Freeze every task's scheduled dates as a new named baseline; older ones stay."""
    async with in_transaction():
        project = await lock_project(actor, project_id)
        await authorize(actor, Action.APPROVE_PLAN, project)
        departments: set[int] = {
            int(row["department_id"])
            for row in await ProjectDepartment.filter(project_id=project.id).values("department_id")
        }
        with_liaison: set[int] = {
            int(row["department_id"])
            for row in await ProjectMember.filter(
                project_id=project.id, role=Role.LIAISON, left_at__isnull=True
            ).values("department_id")
        }
        if departments - with_liaison:
            missing = await _department_names(departments - with_liaison)
            raise Invalid(
                "Every participating department needs a liaison first: %(departments)s.",
                field="projectId",
                departments="、".join(missing),
            )
        tasks = await Task.filter(project_id=project.id)
        if not tasks:
            raise Invalid("The plan has no tasks yet.", field="projectId")
        parents = {t.parent_id for t in tasks if t.parent_id}
        ownerless = [
            t.name for t in tasks if t.id not in parents and not t.owner_id and not t.is_milestone
        ]
        if ownerless:
            raise Invalid(
                "Every task needs an owner first: %(tasks)s.",
                field="projectId",
                tasks="、".join(ownerless[:10]),
            )
        checks = Checks()
        name = checks.text("name", name, required=False, max_length=100)
        checks.done()
        baseline = await freeze_baseline(actor, project, tasks, name or None)
        await lifecycle.activate_when_ready(project.id)
    return baseline


async def freeze_baseline(
    actor: Actor, project: Project, tasks: list[Task], name: str | None
) -> Baseline:
    """Every task's scheduled dates as a new baseline, inside the caller's transaction (the
    caller has locked the project and decided this may be done)."""
    count = await Baseline.filter(project_id=project.id).count()
    baseline = await Baseline.create(
        project=project,
        name=name or f"Baseline {count + 1}",
        approved_by=actor.user,
    )
    schedule = await schedules_for([t.id for t in tasks])
    await BaselineTask.bulk_create(
        [
            BaselineTask(
                baseline=baseline,
                task_id=t.id,
                start=schedule[t.id].early_start,
                finish=schedule[t.id].early_finish,
            )
            for t in tasks
            if t.id in schedule
        ]
    )
    await record(
        actor,
        action="plan.approve",
        object_type="baseline",
        object_id=baseline.id,
        project_id=project.id,
        summary=baseline.name,
        after={"tasks": len(tasks)},
    )
    return baseline


async def _department_names(ids: set[int]) -> list[str]:
    from server.org.models import Department

    rows = await Department.filter(id__in=list(ids)).order_by("name").values("name")
    return [str(row["name"]) for row in rows]
