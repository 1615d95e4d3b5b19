from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from server.org.models import User
from server.planning.models import Task


class TaskUpdate(Model):
    # One progress report on a task, kept as history (append-only).

    id = fields.IntField(primary_key=True)
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="updates", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="task_updates", null=True, on_delete=fields.SET_NULL
    )
    percent_complete = fields.IntField()
    note = fields.TextField(default="")
    blocker = fields.BooleanField(default=False)
    actual_finish = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "task_update"
        ordering = ["-id"]
