"""Applying an approved change request to the plan: every edit in the caller's transaction,
against the tasks as they were when its impact was computed, keeping before and after."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from server.audit.service import snapshot
from server.auth import Actor
from server.changes import charter
from server.changes.models import ChangeRequest
from server.errors import Conflict
from server.planning.baselines import freeze_baseline
from server.planning.models import Dependency, DependencyType, Task, TaskStatus
from server.planning.scheduling import reschedule, status_date_of, working_calendar
from server.projects.models import Project
from server.requirements import confirmation
from server.requirements.models import ResourceRequest

TASK_FIELDS = [
    "name",
    "planned_start",
    "duration_days",
    "planned_finish",
    "owner_id",
    "department_id",
    "status",
    "actual_finish",
]


async def check_versions(request: ChangeRequest) -> None:
    """Refuses when a task the edits touch changed since the impact was computed."""
    wanted = {int(k): int(v) for k, v in request.impact.get("taskVersions", {}).items()}
    rows = await Task.filter(id__in=list(wanted)).values_list("id", "version", "name")
    now = {int(i): (int(v), str(n)) for i, v, n in rows}
    changed = [
        now[i][1] if i in now else f"#{i}" for i in wanted if now.get(i, (0, ""))[0] != wanted[i]
    ]
    if changed:
        raise Conflict(
            "These tasks changed since the impact was computed: %(tasks)s. "
            "Read the new impact and decide again.",
            field="contentHash",
            tasks="、".join(changed),
        )


async def apply_change(
    actor: Actor, project: Project, request: ChangeRequest
) -> list[dict[str, Any]]:
    """The edits, in order: new tasks, task edits, links removed, links added, tasks removed;
    then one reschedule and, when asked, a baseline named after the request."""
    await check_versions(request)
    calendar = await working_calendar(project.id)
    applied: list[dict[str, Any]] = []
    keys: dict[str, int] = {}

    def finish(start: date, duration: int) -> date:
        return calendar.finish_for(start, duration)

    for edit in (e for e in request.edits if e["op"] == "add_task"):
        start = date.fromisoformat(edit["planned_start"])
        task = await Task.create(
            project_id=project.id,
            parent_id=edit.get("parent_id"),
            name=edit["name"],
            department_id=edit["department_id"],
            owner_id=edit.get("owner_id"),
            planned_start=start,
            duration_days=edit["duration_days"],
            planned_finish=finish(start, edit["duration_days"]),
            is_milestone=edit["is_milestone"],
        )
        keys[edit["key"]] = task.id
        after = _plain(snapshot(task, TASK_FIELDS))
        applied.append({"op": "add_task", "taskId": task.id, "before": None, "after": after})
    for edit in request.edits:
        if edit["op"] == "edit_task":
            applied.append(await _edit_task(edit, finish))
        elif edit["op"] == "remove_link":
            applied.append(await _remove_link(edit["predecessor"], edit["successor"]))
    for edit in (e for e in request.edits if e["op"] == "add_link"):
        applied.append(await _add_link(project, edit, keys))
    for edit in (e for e in request.edits if e["op"] == "remove_task"):
        applied.append(await _remove_task(project, edit))
    await reschedule(project, calendar=calendar, renumber=True)
    for edit in (e for e in request.edits if e["op"] == "edit_resource"):
        applied.append(await _edit_resource(edit))
    if any(e["op"] == "edit_resource" for e in request.edits):
        await confirmation.refresh(project)
    if any(e["op"] == "edit_charter" for e in request.edits):
        applied.append(await charter.apply(actor, project, request.edits))
    if request.rebaseline:
        tasks = await Task.filter(project_id=project.id)
        await freeze_baseline(actor, project, tasks, f"{request.code} {request.title}"[:100])
    return applied


async def _edit_task(edit: dict[str, Any], finish: Any) -> dict[str, Any]:
    task = await Task.filter(id=edit["task_id"]).select_for_update().get()
    before = _plain(snapshot(task, TASK_FIELDS))
    for name in ("name", "owner_id", "department_id", "duration_days"):
        if name in edit:
            setattr(task, name, edit[name])
    if "planned_start" in edit:
        task.planned_start = date.fromisoformat(edit["planned_start"])
    task.planned_finish = finish(task.planned_start, task.duration_days)
    task.version += 1
    await task.save()
    after = _plain(snapshot(task, TASK_FIELDS))
    return {"op": "edit_task", "taskId": task.id, "before": before, "after": after}


async def _remove_link(predecessor: int, successor: int) -> dict[str, Any]:
    link = await Dependency.get(pair=f"{predecessor}:{successor}")
    await link.delete()
    return {"op": "remove_link", "before": _link(link), "after": None}


async def _add_link(project: Project, edit: dict[str, Any], keys: dict[str, int]) -> dict[str, Any]:
    def end(value: Any) -> int:
        return keys[value] if value in keys else int(value)

    predecessor, successor = end(edit["predecessor"]), end(edit["successor"])
    link = await Dependency.create(
        project_id=project.id,
        predecessor_id=predecessor,
        successor_id=successor,
        type=DependencyType(edit["type"]),
        lag_days=edit["lag"],
        pair=f"{predecessor}:{successor}",
    )
    return {"op": "add_link", "before": None, "after": _link(link)}


async def _remove_task(project: Project, edit: dict[str, Any]) -> dict[str, Any]:
    """Removed outright; or, with progress reported, cancelled: kept for the record, linked to
    nothing, finished on the status date so it holds up nothing."""
    task = await Task.filter(id=edit["task_id"]).select_for_update().get()
    before = _plain(snapshot(task, TASK_FIELDS))
    if not edit.get("cancel") or task.actual_start is None:
        await task.delete()
        return {"op": "remove_task", "taskId": task.id, "before": before, "after": None}
    await Dependency.filter(predecessor_id=task.id).delete()
    await Dependency.filter(successor_id=task.id).delete()
    task.status = TaskStatus.CANCELLED
    task.actual_finish = task.actual_finish or status_date_of(project)
    task.version += 1
    await task.save()
    after = _plain(snapshot(task, TASK_FIELDS))
    return {"op": "remove_task", "taskId": task.id, "before": before, "after": after}


async def _edit_resource(edit: dict[str, Any]) -> dict[str, Any]:
    """New figures for a resource request; its supplier's head approved them with the change,
    so a commitment stands for the new figures."""
    row = await ResourceRequest.filter(id=edit["resource_id"]).select_for_update().get()
    fields = ["quantity", "amount", "needed_by"]
    before = _plain(snapshot(row, fields))
    if "quantity" in edit:
        row.quantity = Decimal(edit["quantity"])
    if "amount" in edit:
        row.amount = Decimal(edit["amount"])
    if edit.get("needed_by"):
        row.needed_by = date.fromisoformat(edit["needed_by"])
    row.version += 1
    await row.save()
    after = _plain(snapshot(row, fields))
    return {"op": "edit_resource", "resourceId": row.id, "before": before, "after": after}


def _link(link: Dependency) -> dict[str, Any]:
    return {
        "predecessor": link.predecessor_id,
        "successor": link.successor_id,
        "type": str(link.type),
        "lag": link.lag_days,
    }


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        if isinstance(v, date):
            return v.isoformat()
        return str(v) if isinstance(v, Decimal) else v

    return {k: plain(v) for k, v in values.items()}
