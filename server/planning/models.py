from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from server.org.models import Department, User
    from server.projects.models import Project


class TaskStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


class Task(Model):
    # A unit of the plan. This is the minimal table; the planning domain extends it.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="tasks", on_delete=fields.CASCADE
    )
    project_id: int
    parent: fields.ForeignKeyNullableRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="children", null=True, on_delete=fields.CASCADE
    )
    parent_id: int | None
    wbs_code = fields.CharField(max_length=64, default="")
    # The WBS code as text that sorts like the outline (1.2 before 1.10): what task pages are
    # ordered and cut by in SQL. Written with the code (scheduling._renumber, save). Nullable
    # only so the column can be added to a filled table; a NULL is rewritten at the next
    # renumbering.
    wbs_key = fields.CharField(max_length=200, default="", null=True)
    name = fields.CharField(max_length=200)
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="owned_tasks", null=True, on_delete=fields.SET_NULL
    )
    owner_id: int | None
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="tasks", null=True, on_delete=fields.SET_NULL
    )
    department_id: int | None
    planned_start = fields.DateField()
    duration_days = fields.IntField(default=1)
    planned_finish = fields.DateField(null=True)
    is_milestone = fields.BooleanField(default=False)
    deliverable = fields.TextField(default="")
    buffer_days = fields.IntField(default=0)
    actual_start = fields.DateField(null=True)
    actual_finish = fields.DateField(null=True)
    status = fields.CharEnumField(TaskStatus, default=TaskStatus.NOT_STARTED, max_length=16)
    percent_complete = fields.IntField(default=0)
    # Working days still to go as the owner judged them when reporting; None: the schedule
    # takes duration × (1 − percent) instead.
    remaining_duration_days = fields.IntField(null=True)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "task"
        ordering = ["planned_start", "id"]
        # Every page, job and check reads a project's tasks, and finding leaf tasks asks for
        # children: neither database indexes a foreign key by itself.
        # (project, wbs_key, id) serves a page of tasks read by keyset in WBS order;
        # (project, parent) a task form's phases, the parents the project's tasks name.
        indexes = (
            ("project_id",),
            ("parent_id",),
            ("project_id", "wbs_key", "id"),
            ("project_id", "parent_id"),
        )

    async def save(self, *args: Any, **kwargs: Any) -> None:
        code = getattr(self, "wbs_code", None)  # a partial row may lack it
        if code is not None:
            self.wbs_key = wbs_sort_key(code)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "wbs_code" in update_fields:
            kwargs["update_fields"] = [*update_fields, "wbs_key"]
        await super().save(*args, **kwargs)


WBS_SEGMENT_WIDTH = 6


def wbs_sort_key(code: str) -> str:
    """Each number of the code in six digits, run together: plain digit strings, which every
    database and collation orders the same way, in outline order (1.2 < 1.10 < 2)."""
    return "".join(part.zfill(WBS_SEGMENT_WIDTH) for part in code.split(".") if part.isdigit())


class DependencyType(StrEnum):
    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


class Dependency(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="dependencies", on_delete=fields.CASCADE
    )
    project_id: int
    predecessor: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="successor_links", on_delete=fields.CASCADE
    )
    predecessor_id: int
    successor: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="predecessor_links", on_delete=fields.CASCADE
    )
    successor_id: int
    type = fields.CharEnumField(DependencyType, default=DependencyType.FS, max_length=2)
    lag_days = fields.IntField(default=0)
    # "predecessor:successor", unique: one link per pair of tasks.
    pair = fields.CharField(max_length=32, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "dependency"
        ordering = ["id"]
        # The plan, the scheduler and the change impact read a project's links; a task's
        # form and a page of the API read the links into some tasks; removing a task finds
        # the links out of it. Without these each of them read every project's links.
        indexes = (("project_id",), ("successor_id",), ("predecessor_id",))


class TaskSchedule(Model):
    # Computed by CPM in the same transaction as the change that caused it; kept apart from
    # the task so a reschedule never bumps a task's version or makes an open form stale.
    id = fields.IntField(primary_key=True)
    task: fields.OneToOneRelation[Task] = fields.OneToOneField(
        "models.Task", related_name="schedule", on_delete=fields.CASCADE
    )
    task_id: int
    project_id = fields.IntField(db_index=True)
    early_start = fields.DateField()
    early_finish = fields.DateField()
    late_start = fields.DateField()
    late_finish = fields.DateField()
    total_float = fields.IntField()
    free_float = fields.IntField()
    is_critical = fields.BooleanField()
    remaining_days = fields.IntField(default=0)
    is_done = fields.BooleanField(default=False)
    # Place on the driving path (0 = its first task), None when not on it.
    driving_position = fields.IntField(null=True)
    # Ids of the predecessors whose links set this task's early dates.
    driving_predecessors: list[int] = fields.JSONField(default=list)

    class Meta:
        table = "task_schedule"


class ScheduleStamp(Model):
    # What the stored schedule of a project was computed from; a read that finds the plan,
    # its progress or the status date changed since computes it again.

    id = fields.IntField(primary_key=True)
    project_id = fields.IntField(unique=True)
    stamp = fields.CharField(max_length=200)

    class Meta:
        table = "schedule_stamp"


class CalendarDay(Model):
    # The company calendar: holidays off and adjusted working weekends; weekdays otherwise.
    id = fields.IntField(primary_key=True)
    day = fields.DateField(unique=True)
    is_working = fields.BooleanField()
    name = fields.CharField(max_length=64, default="")
    source = fields.CharField(max_length=32, default="admin")

    class Meta:
        table = "calendar_day"
        ordering = ["day"]


class CalendarEdition(Model):
    # Which edition of the company calendar the database holds: a new random token with
    # every change, written in the change's transaction. Each process keeps the calendar it
    # last read under its token and reads the rows again only when the token has moved. A
    # token, not a counter: a database restored or recreated never repeats one.
    id = fields.IntField(primary_key=True, generated=False)  # always 1
    token = fields.CharField(max_length=32)

    class Meta:
        table = "calendar_edition"


class WorkingDayCount(Model):
    # The company calendar as running counts, so working days between two dates is one
    # subtraction inside SQL (the snapshot job measures 50,000 tasks in one statement).
    # Derived from CalendarDay and rebuilt when it changes (planning.service).
    ordinal = fields.IntField(primary_key=True, generated=False)  # date.toordinal()
    day = fields.DateField(unique=True)
    count_before = fields.IntField()  # working days from 2000-01-01 up to the day before
    count_through = fields.IntField()  # … up to and including the day
    listed = fields.BooleanField()  # a CalendarDay row decides this day

    class Meta:
        table = "working_day_count"


class ProjectCalendarDay(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="calendar_days", on_delete=fields.CASCADE
    )
    project_id: int
    day = fields.DateField()
    is_working = fields.BooleanField()
    name = fields.CharField(max_length=64, default="")
    pair = fields.CharField(max_length=32, unique=True)

    class Meta:
        table = "project_calendar_day"
        ordering = ["day"]


class Baseline(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="baselines", on_delete=fields.CASCADE
    )
    project_id: int
    name = fields.CharField(max_length=100)
    approved_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="approved_baselines", null=True, on_delete=fields.SET_NULL
    )
    approved_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "baseline"
        ordering = ["id"]


class BaselineTask(Model):
    id = fields.IntField(primary_key=True)
    baseline: fields.ForeignKeyRelation[Baseline] = fields.ForeignKeyField(
        "models.Baseline", related_name="tasks", on_delete=fields.CASCADE
    )
    baseline_id: int
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="baseline_rows", on_delete=fields.CASCADE
    )
    task_id: int
    start = fields.DateField()
    finish = fields.DateField()

    class Meta:
        table = "baseline_task"
        # Tracking and snapshots look up each task's dates in one baseline.
        indexes = (("baseline_id", "task_id"),)
