"""Step 8, closing: deliverables handed over and accepted (验收) by the departments that receive
them."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.i18n import N_
from server.org.models import Department, User
from server.planning.models import Task
from server.projects.models import Project


class AcceptanceStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


ACCEPTANCE_STATUS_LABELS: dict[AcceptanceStatus, str] = {
    AcceptanceStatus.SUBMITTED: N_("Awaiting acceptance"),
    AcceptanceStatus.ACCEPTED: N_("Accepted"),
    AcceptanceStatus.REJECTED: N_("Rejected"),
}


class Acceptance(Model):
    # One hand-over of a task's deliverable (or a milestone) to the department receiving it.
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="acceptances", on_delete=fields.CASCADE
    )
    project_id: int
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="acceptances", on_delete=fields.CASCADE
    )
    task_id: int
    receiving_department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="acceptances", on_delete=fields.RESTRICT
    )
    receiving_department_id: int
    deliverable = fields.TextField(default="")
    note = fields.TextField(default="")
    status = fields.CharEnumField(
        AcceptanceStatus, default=AcceptanceStatus.SUBMITTED, max_length=16
    )
    submitted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="submitted_acceptances", null=True, on_delete=fields.SET_NULL
    )
    submitted_by_id: int | None
    submitted_at = fields.DatetimeField()
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="decided_acceptances", null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    decided_at = fields.DatetimeField(null=True)
    comment = fields.TextField(default="")
    evidence_link = fields.CharField(max_length=500, default="")
    meeting_id = fields.IntField(null=True, db_index=True)
    # "task id" while awaiting a decision: one open hand-over per task.
    open_slot = fields.CharField(max_length=32, null=True, unique=True)
    version = fields.IntField(default=1)

    class Meta:
        table = "acceptance"
        ordering = ["-id"]


class Retrospective(Model):
    # One department's look back at the project (复盘): filed by its liaison, from a phone.
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="retrospectives", on_delete=fields.CASCADE
    )
    project_id: int
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="retrospectives", on_delete=fields.RESTRICT
    )
    department_id: int
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="retrospectives", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    went_well = fields.TextField(default="")
    to_improve = fields.TextField(default="")
    lessons = fields.TextField(default="")
    tags: fields.Field[list[str]] = fields.JSONField(default=list)
    # "project:department": one retrospective per department and project.
    slot = fields.CharField(max_length=32, unique=True)
    # Set when a retrospective meeting (复盘会) went through it, so its minutes carry it.
    reviewed_meeting_id = fields.IntField(null=True, db_index=True)
    reviewed_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "retrospective"
        ordering = ["-updated_at", "-id"]
