from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from server.org.models import User
from server.planning.models import Task
from server.projects.models import Project


class TaskUpdate(Model):
    # One progress report on a task, kept as history (append-only).

    id = fields.IntField(primary_key=True)
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="updates", on_delete=fields.CASCADE
    )
    task_id: int
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="task_updates", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    percent_complete = fields.IntField()
    note = fields.TextField(default="")
    blocker = fields.BooleanField(default=False)
    actual_finish = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "task_update"
        ordering = ["-id"]


class ProgressSnapshot(Model):
    # One per project and day (the slot "project:day" is unique): rerunning replaces it.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="snapshots", on_delete=fields.CASCADE
    )
    project_id: int
    day = fields.DateField()
    slot = fields.CharField(max_length=32, unique=True)
    planned_percent = fields.FloatField()
    actual_percent = fields.FloatField()
    spi = fields.FloatField(null=True)
    late_tasks = fields.IntField()
    late_by_department: dict[str, int] = fields.JSONField(default=dict)
    critical_finish = fields.DateField(null=True)
    forecast_finish = fields.DateField(null=True)
    open_high_risks = fields.IntField(null=True)
    computed_at = fields.DatetimeField()

    class Meta:
        table = "progress_snapshot"
        ordering = ["day"]


class TrackingNote(Model):
    # The liaison's cause and action for a late task in one week's tracking table.

    id = fields.IntField(primary_key=True)
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="tracking_notes", on_delete=fields.CASCADE
    )
    task_id: int
    week = fields.CharField(max_length=8)
    slot = fields.CharField(max_length=32, unique=True)
    cause = fields.TextField(default="")
    action = fields.TextField(default="")
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tracking_notes", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    version = fields.IntField(default=1)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tracking_note"
