from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.i18n import N_
from server.org.models import Department, User
from server.planning.models import Task
from server.projects.models import Project


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class ProblemStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


OPEN_STATUSES = (ProblemStatus.OPEN, ProblemStatus.IN_PROGRESS)


class Problem(Model):
    # Something in the way of the plan (问题): raised by anyone on the team or from a blocker.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="problems", on_delete=fields.CASCADE
    )
    project_id: int
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    severity = fields.CharEnumField(Severity, default=Severity.MEDIUM, max_length=16)
    status = fields.CharEnumField(ProblemStatus, default=ProblemStatus.OPEN, max_length=16)
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="owned_problems", null=True, on_delete=fields.SET_NULL
    )
    owner_id: int | None
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="problems", null=True, on_delete=fields.SET_NULL
    )
    department_id: int | None
    due_date = fields.DateField(null=True)
    task: fields.ForeignKeyNullableRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="problems", null=True, on_delete=fields.SET_NULL
    )
    task_id: int | None
    raised_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="raised_problems", null=True, on_delete=fields.SET_NULL
    )
    raised_by_id: int | None
    resolution = fields.TextField(default="")
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "problem"
        ordering = ["-id"]


class LadderStep(Model):
    # How far up the ladder a late task or overdue problem has been escalated.
    # `subject` is "task:ID" or "problem:ID"; a recovery starts a new episode at level 0.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="ladder_steps", on_delete=fields.CASCADE
    )
    project_id: int
    subject = fields.CharField(max_length=40, unique=True)
    episode = fields.IntField(default=0)
    level = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ladder_step"


class Escalation(Model):
    # One rung reached: written once per (subject, episode, level) thanks to the unique slot.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="escalations", on_delete=fields.CASCADE
    )
    project_id: int
    slot = fields.CharField(max_length=64, unique=True)
    subject = fields.CharField(max_length=40, db_index=True)
    episode = fields.IntField()
    level = fields.IntField()
    days_late = fields.IntField()
    summary = fields.CharField(max_length=300)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "escalation"
        ordering = ["-id"]


SEVERITY_LABELS: dict[Severity, str] = {
    Severity.LOW: N_("Low"),
    Severity.MEDIUM: N_("Medium"),
    Severity.HIGH: N_("High"),
    Severity.CRITICAL: N_("Critical"),
}
PROBLEM_STATUS_LABELS: dict[ProblemStatus, str] = {
    ProblemStatus.OPEN: N_("Open"),
    ProblemStatus.IN_PROGRESS: N_("Being handled"),
    ProblemStatus.RESOLVED: N_("Resolved"),
    ProblemStatus.CLOSED: N_("Closed"),
}
