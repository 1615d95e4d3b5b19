"""The plan. For now milestones only; the planning domain grows tasks, dependencies, CPM."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from tortoise.transactions import in_transaction

from server.audit.service import record, snapshot
from server.auth import Action, Actor, authorize
from server.errors import NotFound
from server.planning.models import Task
from server.projects.service import get_project
from server.validation import Checks


async def list_milestones(project_ids: Sequence[int]) -> dict[int, list[Task]]:
    rows = await Task.filter(project_id__in=list(project_ids), is_milestone=True).order_by(
        "planned_start", "id"
    )
    result: dict[int, list[Task]] = {pid: [] for pid in project_ids}
    for row in rows:
        result[row.project_id].append(row)  # type: ignore[attr-defined]
    return result


async def add_milestone(
    actor: Actor, *, project_id: int, name: str, due: date | str, deliverable: str = ""
) -> Task:
    checks = Checks()
    name = checks.text("name", name)
    day = checks.day("plannedStart", due)
    deliverable = checks.long_text("deliverable", deliverable)
    checks.done()
    assert day is not None
    async with in_transaction():
        project = await get_project(actor, project_id=project_id)
        await authorize(actor, Action.EDIT_PROJECT, project)
        milestone = await Task.create(
            project=project,
            name=name,
            planned_start=day,
            planned_finish=day,
            duration_days=0,
            is_milestone=True,
            deliverable=deliverable,
        )
        await record(
            actor,
            action="task.create",
            object_type="task",
            object_id=milestone.id,
            project_id=project.id,
            summary=name,
            after=snapshot(milestone, ["name", "planned_start", "is_milestone"]),
        )
    return milestone


async def get_task(actor: Actor, *, task_id: int) -> Task:
    """A task of a project the actor may see; anything else is not found."""
    task = await Task.get_or_none(id=task_id)
    if task is None:
        raise NotFound("No such task.", field="taskId")
    await get_project(actor, project_id=task.project_id)  # type: ignore[attr-defined]
    return task
