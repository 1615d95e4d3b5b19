"""Problems (问题): raised by anyone on the project, owned, resolved; a blocker on a task
opens one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.transactions import in_transaction

from server import clock, events
from server.audit.service import record, snapshot
from server.auth import Action, Actor, authorize
from server.db import Statement, with_related
from server.errors import Invalid, NotFound, stale
from server.i18n import N_
from server.planning.models import Task
from server.projects.checks import check_member, check_takes_part
from server.projects.models import (
    Project,
    ProjectStatus,
)
from server.projects.service import get_project
from server.risks.models import (
    OPEN_STATUSES,
    Problem,
    ProblemStatus,
    Severity,
)
from server.validation import Checks

# --- problems ---------------------------------------------------------------------------------

PROBLEM_FIELDS = [
    "title",
    "description",
    "severity",
    "status",
    "owner_id",
    "department_id",
    "due_date",
    "resolution",
]


OWNER_MUST_BE_MEMBER = N_("The owner must be a member of the project.")


@dataclass
class ProblemInput:
    title: str | None = None
    description: str | None = None
    severity: str | None = None
    owner_id: int | None = None
    department_id: int | None = None
    due_date: date | str | None = None
    task_id: int | None = None
    status: str | None = None
    resolution: str | None = None


def _enum(checks: Checks, field_name: str, value: str | None, kind: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        checks.fail(field_name, "Choose one of: %(choices)s.", choices=", ".join(kind))
        return None


async def _checked_problem(
    project: Project, data: ProblemInput, *, creating: bool, today: date
) -> dict[str, Any]:
    checks = Checks()
    changes: dict[str, Any] = {}
    if creating or data.title is not None:
        changes["title"] = checks.text("title", data.title, max_length=200)
    if data.description is not None:
        changes["description"] = checks.long_text("description", data.description)
    if data.severity is not None:
        changes["severity"] = _enum(checks, "severity", data.severity, Severity)
    if data.status is not None:
        changes["status"] = _enum(checks, "status", data.status, ProblemStatus)
    if data.resolution is not None:
        changes["resolution"] = checks.long_text("resolution", data.resolution)
    if data.due_date not in (None, ""):
        due = checks.day("dueDate", data.due_date)
        if due is not None and creating and due < today:
            checks.fail("dueDate", "The due date cannot be in the past.")
        changes["due_date"] = due
    elif data.due_date == "":
        changes["due_date"] = None
    await check_member(checks, project.id, data.owner_id, "ownerId", OWNER_MUST_BE_MEMBER)
    await check_takes_part(checks, project.id, data.department_id, "departmentId")
    if data.owner_id is not None:
        changes["owner_id"] = data.owner_id
    if data.department_id is not None:
        changes["department_id"] = data.department_id
    if data.task_id is not None:
        if not await Task.filter(id=data.task_id, project_id=project.id).exists():
            checks.fail("taskId", "No such task in this project.")
        changes["task_id"] = data.task_id
    checks.done()
    return changes


async def report_problem(actor: Actor, *, project_id: int, data: ProblemInput) -> Problem:
    project = await get_project(actor, project_id=project_id)
    async with in_transaction():
        await authorize(actor, Action.RAISE_PROBLEM, project)
        changes = await _checked_problem(
            project, data, creating=True, today=clock.local_today(project)
        )
        changes.setdefault("owner_id", actor.user_id)
        problem = await Problem.create(project=project, raised_by_id=actor.user_id, **changes)
        await record_report(actor, problem, project)
    await events.publish("project", project.id, "problem.reported", problemId=problem.id)
    return problem


async def open_problem_for_blocker(
    actor: Actor, *, project: Project, task: Task, note: str
) -> Problem | None:
    """A blocker reported on a task opens a problem, unless one from a blocker is still open.

    Called inside the caller's transaction (the task row is locked there).
    """
    already = await Problem.filter(
        task_id=task.id, status__in=list(OPEN_STATUSES), raised_by_id__isnull=False
    ).exists()
    if already:
        return None
    problem = await Problem.create(
        project=project,
        title=(note.strip().splitlines()[0] if note.strip() else task.name)[:200],
        description=note,
        severity=Severity.HIGH,
        owner_id=task.owner_id,
        department_id=task.department_id,
        due_date=clock.local_today(project),
        task=task,
        raised_by_id=actor.user_id,
    )
    await record_report(actor, problem, project)
    return problem


async def record_report(actor: Actor, problem: Problem, project: Project) -> None:
    await record(
        actor,
        action="problem.report",
        object_type="problem",
        object_id=problem.id,
        project_id=project.id,
        summary=problem.title,
        after=snapshot(problem, PROBLEM_FIELDS),
    )


async def get_problem(actor: Actor, *, problem_id: int) -> Problem:
    problem = await with_related(
        Problem.filter(id=problem_id), "owner", "department", "task"
    ).first()
    if problem is None:
        raise NotFound("No such problem.", field="problemId")
    await get_project(actor, project_id=problem.project_id)
    return problem


async def _authorize_problem_change(actor: Actor, project: Project, problem: Problem) -> None:
    """The PM or a co-chair any problem, a liaison their department's, the owner their own."""
    if problem.owner_id is not None and problem.owner_id == actor.user_id:
        await authorize(actor, Action.VIEW_PROJECT, project)
        if project.status == ProjectStatus.ARCHIVED:
            await authorize(actor, Action.MANAGE_PROBLEMS, project)
        return
    await authorize(
        actor,
        Action.MANAGE_PROBLEMS,
        project,
        department_id=problem.department_id,
    )


async def update_problem(
    actor: Actor, *, problem_id: int, version: int, data: ProblemInput
) -> Problem:
    problem = await get_problem(actor, problem_id=problem_id)
    async with in_transaction():
        project = await Project.filter(id=problem.project_id).select_for_update().get()
        problem = await Problem.filter(id=problem.id).select_for_update().get()
        await _authorize_problem_change(actor, project, problem)
        changes = await _checked_problem(
            project, data, creating=False, today=clock.local_today(project)
        )
        if problem.version != version:
            raise stale(problem.version)
        closing = changes.get("status") in (ProblemStatus.RESOLVED, ProblemStatus.CLOSED)
        if closing and not (changes.get("resolution") or problem.resolution):
            raise Invalid("Say how the problem was resolved.", field="resolution")
        before = snapshot(problem, PROBLEM_FIELDS)
        for name, value in changes.items():
            setattr(problem, name, value)
        if closing and problem.resolved_at is None:
            problem.resolved_at = clock.now()
        elif "status" in changes and not closing:
            problem.resolved_at = None
        problem.version += 1
        await problem.save()
        await record(
            actor,
            action="problem.update",
            object_type="problem",
            object_id=problem.id,
            project_id=project.id,
            summary=problem.title,
            before=before,
            after=snapshot(problem, PROBLEM_FIELDS),
        )
    await events.publish("project", project.id, "problem.updated", problemId=problem.id)
    return problem


async def list_problems(
    project_ids: Sequence[int], *, open_only: bool = False
) -> dict[int, list[Problem]]:
    query = with_related(
        Problem.filter(project_id__in=list(project_ids)), "owner", "department", "task"
    )
    if open_only:
        query = query.filter(status__in=list(OPEN_STATUSES))
    result: dict[int, list[Problem]] = {pid: [] for pid in project_ids}
    for row in await query.order_by("-id"):
        result[row.project_id].append(row)
    return result


TASK_PROBLEMS = Statement(Problem, "SELECT * FROM problem WHERE task_id = ? ORDER BY id DESC")


async def problems_of_task(task_id: int) -> list[Problem]:
    """The problems raised against one task, newest first (its form lists them)."""
    return await TASK_PROBLEMS.fetch(task_id)
