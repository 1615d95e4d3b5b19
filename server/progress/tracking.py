"""The weekly tracking table (项目进度跟踪表) and the explanations of late tasks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server import clock
from server.audit.service import record
from server.auth import Action, Actor, authorize, may
from server.errors import Invalid, NotFound, stale
from server.planning import queries as planning_queries
from server.planning.models import (
    Task,
)
from server.progress.measuring import Measured, TaskMeasure, measure_projects
from server.progress.models import ProgressSnapshot, TaskUpdate, TrackingNote
from server.progress.snapshots import list_snapshots
from server.projects.models import Project, ProjectMember, Role
from server.projects.service import get_project
from server.validation import Checks

# --- the weekly tracking table (项目进度跟踪表) ---------------------------------------------


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(key: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week written as 2026-W49."""
    try:
        year_text, _, week_text = key.partition("-W")
        monday = date.fromisocalendar(int(year_text), int(week_text), 1)
    except ValueError as error:
        raise Invalid("Write the week as 2026-W49.", field="week") from error
    return monday, monday + timedelta(days=6)


@dataclass
class TrackingRow:
    task: Task
    measure: TaskMeasure
    note: TrackingNote | None
    may_explain: bool


@dataclass
class TrackingTable:
    project: Project
    week: str
    monday: date
    sunday: date
    day: date
    measured: Measured
    rows: list[TrackingRow]
    snapshots: list[ProgressSnapshot]

    @property
    def late_rows(self) -> list[TrackingRow]:
        return [r for r in self.rows if r.measure.days_late > 0]


async def _reported_by(task_ids: list[int], until: datetime) -> dict[int, int]:
    """Each task's last reported percent at `until` (0 when nothing was reported yet)."""
    latest: dict[int, tuple[int, int]] = {}
    for update_id, task_id, percent in await TaskUpdate.filter(
        task_id__in=task_ids, created_at__lte=until
    ).values_list("id", "task_id", "percent_complete"):
        if task_id not in latest or update_id > latest[task_id][0]:
            latest[task_id] = (update_id, percent)
    return {task_id: percent for task_id, (_, percent) in latest.items()}


async def tracking_table(
    actor: Actor, *, project_id: int, week: str | None = None
) -> TrackingTable:
    """Plan vs actual per task for one week: at its Sunday, or today for the current week."""
    project = await get_project(actor, project_id=project_id)
    today = clock.local_today(project)
    key = week or week_key(today)
    monday, sunday = week_bounds(key)
    day = min(sunday, today)
    reported = None
    if sunday < today:
        zone = ZoneInfo(project.time_zone)
        until = datetime.combine(sunday + timedelta(days=1), datetime.min.time(), zone)
        ids = await Task.filter(project_id=project.id).values_list("id", flat=True)
        reported = await _reported_by([int(str(i)) for i in ids], until)
    measured = (await measure_projects({project.id: day}, reported=reported))[project.id]
    tasks = {t.id: t for t in await Task.filter(id__in=[m.task_id for m in measured.tasks])}
    await Task.fetch_for_list(list(tasks.values()), "owner", "department")
    notes = {n.task_id: n for n in await TrackingNote.filter(task_id__in=list(tasks), week=key)}
    editable = await _explainable_departments(actor, project)
    rows = [
        TrackingRow(
            task=tasks[m.task_id],
            measure=m,
            note=notes.get(m.task_id),
            may_explain=editable is None or tasks[m.task_id].department_id in editable,
        )
        for m in measured.tasks
    ]
    rows.sort(key=lambda r: (-r.measure.days_late, r.task.wbs_code, r.task.id))
    return TrackingTable(
        project=project,
        week=key,
        monday=monday,
        sunday=sunday,
        day=day,
        measured=measured,
        rows=rows,
        snapshots=await list_snapshots(project.id),
    )


async def _explainable_departments(actor: Actor, project: Project) -> set[int] | None:
    """Departments whose late tasks the actor explains (None: every department)."""
    if await may(actor, Action.APPROVE_PLAN, project):
        return None
    if actor.user is None:
        return set()
    return {
        int(str(d))
        for d in await ProjectMember.filter(
            project_id=project.id, user_id=actor.user.id, role=Role.LIAISON, left_at__isnull=True
        ).values_list("department_id", flat=True)
    }


async def explain_late_task(
    actor: Actor,
    *,
    task_id: int,
    week: str,
    cause: str,
    action: str,
    version: int | None,
    project_id: int | None = None,
) -> TrackingNote:
    """The liaison (or PM) writes why a task is late this week and what is being done.
    With `project_id`, a task of another project is not found."""
    task = await planning_queries.get_task(actor, task_id=task_id)
    if project_id is not None and task.project_id != project_id:
        raise NotFound("No such task in this project.", field="taskId")
    week_bounds(week)
    async with in_transaction():
        project = await Project.filter(id=task.project_id).select_for_update().get()
        await authorize(actor, Action.EDIT_PLAN, project, department_id=task.department_id)
        checks = Checks()
        cause = checks.text("cause", cause, max_length=2000, multiline=True)
        action = checks.text("action", action, max_length=2000, multiline=True)
        checks.done()
        slot = f"{task.id}:{week}"
        note = await TrackingNote.filter(slot=slot).select_for_update().first()
        if note is None:
            if version not in (None, 0):
                raise stale(0)
            note = await TrackingNote.create(
                task=task, week=week, slot=slot, cause=cause, action=action, author_id=actor.user_id
            )
        else:
            if version is not None and note.version != version:
                raise stale(note.version)
            note.cause, note.action, note.author_id = cause, action, actor.user_id
            note.version += 1
            await note.save()
        await record(
            actor,
            action="task.explain",
            object_type="task",
            object_id=task.id,
            project_id=project.id,
            summary=f"{task.name} {week}",
            after={"cause": cause, "action": action},
        )
    return note
