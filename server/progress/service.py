"""Progress reports on tasks: one request from a phone, kept as history, never overwriting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from tortoise.transactions import in_transaction

from server import clock, events
from server.audit.service import entry as audit_entry
from server.audit.service import snapshot
from server.auth import Action, Actor, Relation, authorize
from server.db import Statement, Write, with_related, write_together
from server.errors import Conflict, NotFound, stale
from server.planning import queries as planning_queries
from server.planning import scheduling as planning_scheduling
from server.planning import service as planning
from server.planning.calendar import days_late, forecast_days_late
from server.planning.models import (
    Task,
    TaskSchedule,
    TaskStatus,
)
from server.progress import measures
from server.progress.models import TaskUpdate
from server.projects.models import LIVE_STATUSES, Project, ProjectMember, Role
from server.projects.service import visible_project_of_task
from server.risks import problems as risk_problems
from server.validation import Checks

TASK_FIELDS = [
    "percent_complete",
    "status",
    "actual_start",
    "actual_finish",
    "deliverable",
    "remaining_duration_days",
]


@dataclass
class ProgressInput:
    task_id: int
    version: int
    percent_complete: int | str | None
    note: str = ""
    blocker: bool = False
    actual_finish: date | str | None = None
    deliverable: str | None = None
    # Working days the owner still needs (work in progress only); None: from the percentage.
    remaining_days: int | str | None = None


async def _authorize_report(actor: Actor, project: Project, task: Task) -> None:
    owns = task.owner_id is not None and task.owner_id == actor.user_id
    await authorize(
        actor,
        Action.REPORT_PROGRESS,
        project,
        department_id=task.department_id,
        relations=(Relation.TASK_OWNER,) if owns else (),
    )


def _checked(data: ProgressInput, today: date) -> tuple[int, str, date | None, int | None]:
    checks = Checks()
    percent = checks.whole_number("percentComplete", data.percent_complete, low=0, high=100)
    remaining = None
    if data.remaining_days not in (None, ""):
        remaining = checks.whole_number(
            "remainingDays", data.remaining_days, low=1, high=planning.MAX_DURATION
        )
        if percent is not None and not 0 < percent < 100:
            checks.fail(
                "remainingDays",
                "Days still needed apply only to work in progress (1–99 %).",
            )
    note = checks.text("note", data.note, required=False, max_length=2000, multiline=True)
    if data.deliverable is not None:
        data.deliverable = checks.text(
            "deliverable", data.deliverable, required=False, max_length=2000, multiline=True
        )
    finish = None
    if data.actual_finish not in (None, ""):
        finish = checks.day("actualFinish", data.actual_finish)
        if finish is not None and finish > today:
            checks.fail("actualFinish", "The actual finish cannot be in the future.")
    checks.done()
    return int(percent or 0), note, finish, remaining


async def report_progress(actor: Actor, data: ProgressInput) -> Task:
    # The busiest write of the day (every phone, every task): the lookup is two fixed
    # statements outside the transaction, and the transaction holds only the writes.
    project, task = await _task_to_report(actor, data.task_id)
    await _authorize_report(actor, project, task)
    today = clock.local_today(project)
    percent, note, finish, remaining = _checked(data, today)
    if data.version != task.version:
        raise await _stale(task)
    before = snapshot(task, TASK_FIELDS)
    started_now = _apply_progress(task, percent, finish, today, data.deliverable)
    task.remaining_duration_days = remaining
    writes = [
        # Saved only if nobody changed the task since it was read: one statement checks
        # the version and writes.
        Write.checked(
            SAVE_PROGRESS_IF_UNCHANGED,
            task.percent_complete,
            task.status.value,
            task.actual_start,
            task.actual_finish,
            task.deliverable,
            task.remaining_duration_days,
            task.id,
            data.version,
        ),
        Write.insert(
            TaskUpdate(
                task_id=task.id,
                author_id=actor.user_id,
                percent_complete=percent,
                note=note,
                blocker=data.blocker,
                actual_finish=task.actual_finish,
            )
        ),
        Write.insert(
            audit_entry(
                actor,
                action="task.progress",
                object_type="task",
                object_id=task.id,
                project_id=project.id,
                summary=f"{task.name} {percent}%",
                before=before,
                after=snapshot(task, TASK_FIELDS) | {"note": note, "blocker": data.blocker},
            )
        ),
    ]
    if not (data.blocker or started_now):
        # The everyday report: the three rows in one trip to the database.
        if not await write_together(writes):
            raise await _stale(task)
    else:
        async with in_transaction():
            if not await write_together(writes):
                raise await _stale(task)
            if data.blocker:
                await risk_problems.open_problem_for_blocker(
                    actor, project=project, task=task, note=note
                )
            if started_now:
                # A started task keeps its actual start in the schedule; the project row
                # is locked as for any plan change.
                locked = await Project.filter(id=project.id).select_for_update().get()
                await planning_scheduling.reschedule(locked)
    await events.publish(
        "project",
        project.id,
        "task.progress",
        taskId=task.id,
        percentComplete=percent,
        blocker=data.blocker,
    )
    return task


def _apply_progress(
    task: Task, percent: int, finish: date | None, today: date, deliverable: str | None
) -> bool:
    """Set the task's progress fields and next version; True when this report starts it."""
    started_now = percent > 0 and task.actual_start is None
    if started_now:
        task.actual_start = min(finish or today, today)
    if percent == 100:
        task.actual_finish = finish or today
        task.status = TaskStatus.DONE
        if deliverable is not None and deliverable.strip():
            task.deliverable = deliverable.strip()[:2000]
    else:
        task.actual_finish = None
        task.status = TaskStatus.IN_PROGRESS if percent > 0 else TaskStatus.NOT_STARTED
    task.percent_complete = percent
    task.version += 1
    return started_now


async def _task_to_report(actor: Actor, task_id: int) -> tuple[Project, Task]:
    """The task and its project if the actor may see them; found with fixed statements."""
    project = await visible_project_of_task(actor, task_id=task_id)
    tasks = await TASK_BY_ID.fetch(task_id)
    if not tasks:
        raise NotFound("No such task.", field="taskId")
    return project, tasks[0]


TASK_BY_ID = Statement(Task, "SELECT * FROM task WHERE id = ?")
SAVE_PROGRESS_IF_UNCHANGED = Statement(
    Task,
    """
    UPDATE task SET percent_complete = ?, status = ?, actual_start = ?, actual_finish = ?,
                    deliverable = ?, remaining_duration_days = ?, version = version + 1
    WHERE id = ? AND version = ?
    """,
)


async def _stale(task: Task) -> Conflict:
    current = await Task.filter(id=task.id).values_list("version", flat=True)
    return stale(int(str(current[0])) if current else task.version)


async def list_updates(task_ids: Sequence[int], *, limit: int = 50) -> dict[int, list[TaskUpdate]]:
    # The authors' names, never their password hashes (with_related leaves secrets out).
    query = TaskUpdate.filter(task_id__in=list(task_ids))
    rows = await with_related(query, "author").order_by("-id")
    result: dict[int, list[TaskUpdate]] = {tid: [] for tid in task_ids}
    for row in rows:
        bucket = result[row.task_id]
        if len(bucket) < limit:
            bucket.append(row)
    return result


RECENT_UPDATES = Statement(
    TaskUpdate,
    """SELECT u.*, a.name AS author_name FROM task_update u
       LEFT JOIN app_user a ON a.id = u.author_id
       WHERE u.task_id = ? ORDER BY u.id DESC LIMIT ?""",
    extra=["author_name"],
)


async def recent_updates(task_id: int, *, limit: int = 20) -> list[TaskUpdate]:
    """A task's newest reports, each with its author's name as `author_name` (None once the
    author is gone): what a task's page and its form show, in one fixed statement."""
    return await RECENT_UPDATES.fetch(task_id, limit)


@dataclass
class MyTask:
    task: Task
    project: Project
    schedule: TaskSchedule | None
    days_late: int
    mine: bool
    due: date | None = None
    forecast: date | None = None
    # Working days the scheduled finish lies past the due date (a warning, not lateness).
    forecast_late: int = 0

    @property
    def forecast_slips(self) -> bool:
        """At the rate so far it will finish after it is due: warned, never escalated."""
        return bool(self.forecast and self.due and self.forecast > self.due)


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
    reached = [p for p in {int(str(pid)) for pid in member_of} if actor.reaches(p)]
    query = Task.filter(project_id__in=reached, owner_id=actor.user.id)
    tasks = {t.id: t for t in await query}
    for project_id, department_id in liaison_of:
        if not actor.reaches(project_id):
            continue
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
            id__in={t.project_id for t in tasks.values()},
            status__in=list(LIVE_STATUSES),
        )
    }
    schedules = await planning_queries.schedules_for(list(tasks))
    baselines = await planning_queries.baseline_dates(list(tasks))
    calendars = {pid: await planning_scheduling.working_calendar(pid) for pid in projects}
    counters = {
        pid: measures.DayCounter(
            calendar, projects[pid].start_date, clock.local_today(projects[pid])
        )
        for pid, calendar in calendars.items()
    }
    result = []
    for task in tasks.values():
        project = projects.get(task.project_id)
        if project is None:
            continue
        schedule = schedules.get(task.id)
        due = planning_queries.agreed_finish(
            task.planned_start, task.planned_finish, baselines.get(task.id)
        )
        late = days_late(
            calendars[project.id],
            finish=due,
            today=clock.local_today(project),
            done=task.status == TaskStatus.DONE,
        )
        forecast = measures.forecast_finish(
            counters[project.id],
            actual_start=task.actual_start,
            percent_complete=task.percent_complete,
            today=clock.local_today(project),
            done=task.status == TaskStatus.DONE,
        )
        mine = task.owner_id == actor.user_id
        warned = (
            forecast_days_late(
                calendars[project.id], agreed=due, forecast=schedule.early_finish, done=False
            )
            if schedule is not None and not schedule.is_done
            else 0
        )
        result.append(MyTask(task, project, schedule, late, mine, due, forecast, warned))
    result.sort(
        key=lambda m: (
            m.task.status == TaskStatus.DONE,
            -m.days_late,
            m.schedule.early_finish if m.schedule else date.max,
            m.task.id,
        )
    )
    return result
