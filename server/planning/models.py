from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

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
    parent: fields.ForeignKeyNullableRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="children", null=True, on_delete=fields.CASCADE
    )
    wbs_code = fields.CharField(max_length=64, default="")
    name = fields.CharField(max_length=200)
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="owned_tasks", null=True, on_delete=fields.SET_NULL
    )
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="tasks", null=True, on_delete=fields.SET_NULL
    )
    planned_start = fields.DateField()
    duration_days = fields.IntField(default=1)
    planned_finish = fields.DateField(null=True)
    is_milestone = fields.BooleanField(default=False)
    deliverable = fields.TextField(default="")
    status = fields.CharEnumField(TaskStatus, default=TaskStatus.NOT_STARTED, max_length=16)
    percent_complete = fields.IntField(default=0)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "task"
        ordering = ["planned_start", "id"]
