"""Progress reports on tasks: one request from a phone, kept as history, never overwriting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server.audit.service import record, snapshot
from server.auth import Action, Actor, authorize
from server.errors import Conflict, Forbidden
from server.planning import service as planning
from server.planning.calendar import days_late
from server.planning.models import Task, TaskSchedule, TaskStatus
from server.progress.models import TaskUpdate
from server.projects.models import Project, ProjectMember, ProjectStatus, Role
from server.validation import Checks

TASK_FIELDS = ["percent_complete", "status", "actual_start", "actual_finish", "deliverable"]


def _today(project: Project) -> date:
    return datetime.now(ZoneInfo(project.time_zone)).date()


@dataclass
class ProgressInput:
    task_id: int
    version: int
    percent_complete: int | str | None
    note: str = ""
    blocker: bool = False
    actual_finish: date | str | None = None
    deliverable: str | None = None


async def _authorize_report(actor: Actor, project: Project, task: Task) -> None:
    """The PM any task, a liaison their department's, anyone the tasks they own."""
    if task.owner_id is not None and task.owner_id == actor.user_id:  # type: ignore[attr-defined]
        if project.status == ProjectStatus.ARCHIVED:
            raise Forbidden("This project is archived and read-only.")
        return
    await authorize(actor, Action.EDIT_PLAN, project, department_id=task.department_id)  # type: ignore[attr-defined]


def _checked(data: ProgressInput, today: date) -> tuple[int, str, date | None]:
    checks = Checks()
    percent = checks.whole_number("percentComplete", data.percent_complete, low=0, high=100)
    note = checks.text("note", data.note, required=False, max_length=2000)
    finish = None
    if data.actual_finish not in (None, ""):
        finish = checks.day("actualFinish", data.actual_finish)
        if finish is not None and finish > today:
            checks.fail("actualFinish", "The actual finish cannot be in the future.")
    checks.done()
    return int(percent or 0), note, finish


async def report_progress(actor: Actor, data: ProgressInput) -> Task:
    async with in_transaction():
        task = await planning.get_task(actor, task_id=data.task_id)
        project = await Project.filter(id=task.project_id).select_for_update().get()  # type: ignore[attr-defined]
        task = await Task.filter(id=task.id).select_for_update().get()
        await _authorize_report(actor, project, task)
        today = _today(project)
        percent, note, finish = _checked(data, today)
        if task.version != data.version:
            raise Conflict(
                "Someone else changed this task in the meantime (now version %(version)s). "
                "Reload and try again.",
                field="version",
                version=task.version,
            )
        before = snapshot(task, TASK_FIELDS)
        started_now = percent > 0 and task.actual_start is None
        if started_now:
            task.actual_start = min(finish or today, today)
        if percent == 100:
            task.actual_finish = finish or today
            task.status = TaskStatus.DONE
            if data.deliverable is not None and data.deliverable.strip():
                task.deliverable = data.deliverable.strip()[:2000]
        else:
            task.actual_finish = None
            task.status = TaskStatus.IN_PROGRESS if percent > 0 else TaskStatus.NOT_STARTED
        task.percent_complete = percent
        task.version += 1
        await task.save()
        await TaskUpdate.create(
            task=task,
            author_id=actor.user_id,
            percent_complete=percent,
            note=note,
            blocker=data.blocker,
            actual_finish=task.actual_finish,
        )
        await record(
            actor,
            action="task.progress",
            object_type="task",
            object_id=task.id,
            project_id=project.id,
            summary=f"{task.name} {percent}%",
            before=before,
            after=snapshot(task, TASK_FIELDS) | {"note": note, "blocker": data.blocker},
        )
        if started_now:
            # A started task keeps its actual start in the schedule.
            await planning.reschedule(project)
    return task


async def list_updates(task_ids: Sequence[int], *, limit: int = 50) -> dict[int, list[TaskUpdate]]:
    rows = (
        await TaskUpdate.filter(task_id__in=list(task_ids)).select_related("author").order_by("-id")
    )
    result: dict[int, list[TaskUpdate]] = {tid: [] for tid in task_ids}
    for row in rows:
        bucket = result[row.task_id]  # type: ignore[attr-defined]
        if len(bucket) < limit:
            bucket.append(row)
    return result


@dataclass
class MyTask:
    task: Task
    project: Project
    schedule: TaskSchedule | None
    days_late: int
    mine: bool


async def my_tasks(actor: Actor) -> list[MyTask]:
    """Tasks I own, and for a liaison their department's, in active projects; late first."""
    if actor.user is None:
        return []
    liaison_of = await ProjectMember.filter(
        user_id=actor.user.id, role=Role.LIAISON, left_at__isnull=True
    ).values_list("project_id", "department_id")
    member_of = await ProjectMember.filter(user_id=actor.user.id, left_at__isnull=True).values_list(
        "project_id", flat=True
    )
    query = Task.filter(project_id__in=list(set(member_of)), owner_id=actor.user.id)
    tasks = {t.id: t for t in await query}
    for project_id, department_id in liaison_of:
        for t in await Task.filter(project_id=project_id, department_id=department_id):
            tasks[t.id] = t
    summaries = await Task.filter(parent_id__in=list(tasks)).values_list("parent_id", flat=True)
    parents = {int(str(pid)) for pid in summaries}
    tasks = {tid: t for tid, t in tasks.items() if tid not in parents}
    if not tasks:
        return []
    projects = {
        p.id: p
        for p in await Project.filter(
            id__in={t.project_id for t in tasks.values()},  # type: ignore[attr-defined]
            status__in=[ProjectStatus.PLANNING, ProjectStatus.ACTIVE],
        )
    }
    schedules = await planning.schedules_for(list(tasks))
    baselines = await planning.baseline_dates(list(tasks))
    calendars = {pid: await planning.working_calendar(pid) for pid in projects}
    result = []
    for task in tasks.values():
        project = projects.get(task.project_id)  # type: ignore[attr-defined]
        if project is None:
            continue
        schedule = schedules.get(task.id)
        baseline = baselines.get(task.id)
        due = baseline.finish if baseline else (schedule.early_finish if schedule else None)
        late = 0
        if due is not None:
            late = days_late(
                calendars[project.id],
                finish=due,
                today=_today(project),
                done=task.status == TaskStatus.DONE,
            )
        result.append(MyTask(task, project, schedule, late, task.owner_id == actor.user_id))  # type: ignore[attr-defined]
    result.sort(
        key=lambda m: (
            m.task.status == TaskStatus.DONE,
            -m.days_late,
            m.schedule.early_finish if m.schedule else date.max,
            m.task.id,
        )
    )
    return result
