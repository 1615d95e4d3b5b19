"""Step 7, change control (变更管理): a change request proposes edits to the plan, shows their
computed effect, is approved against its exact content, then applied in one transaction."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from server.i18n import N_
from server.org.models import Department, User
from server.projects.models import Project


class ChangeKind(StrEnum):
    SCOPE = "SCOPE"
    SCHEDULE = "SCHEDULE"
    COST = "COST"
    RESOURCES = "RESOURCES"
    OTHER = "OTHER"


CHANGE_KIND_LABELS: dict[ChangeKind, str] = {
    ChangeKind.SCOPE: N_("Scope"),
    ChangeKind.SCHEDULE: N_("Schedule"),
    ChangeKind.COST: N_("Cost"),
    ChangeKind.RESOURCES: N_("Resources"),
    ChangeKind.OTHER: N_("Other"),
}


class ChangeStatus(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    REJECTED = "REJECTED"
    APPLIED = "APPLIED"
    WITHDRAWN = "WITHDRAWN"


CHANGE_STATUS_LABELS: dict[ChangeStatus, str] = {
    ChangeStatus.DRAFT: N_("Draft"),
    ChangeStatus.SUBMITTED: N_("Awaiting approval"),
    ChangeStatus.REJECTED: N_("Rejected"),
    ChangeStatus.APPLIED: N_("Approved and applied"),
    ChangeStatus.WITHDRAWN: N_("Withdrawn"),
}


class ChangeRequest(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="change_requests", on_delete=fields.CASCADE
    )
    project_id: int
    # CR-001, CR-002, … within the project; "project:number" is unique.
    number = fields.IntField()
    slot = fields.CharField(max_length=32, unique=True)
    title = fields.CharField(max_length=200)
    reason = fields.TextField(default="")
    kind = fields.CharEnumField(ChangeKind, max_length=16)
    requester_department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="change_requests", null=True, on_delete=fields.SET_NULL
    )
    requester_department_id: int | None
    # The proposed edits, as checked operations (see server.changes.edits).
    edits: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    cost_delta = fields.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    impact_notes = fields.TextField(default="")
    # Departments named by hand besides those the edits touch.
    named_department_ids: fields.Field[list[int]] = fields.JSONField(default=list)
    rebaseline = fields.BooleanField(default=False)
    status = fields.CharEnumField(ChangeStatus, default=ChangeStatus.DRAFT, max_length=16)
    # The computed effect, the plan stamp it was computed on, and the hash of the request with
    # it: approvals count only for the hash they were given on.
    impact: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    impact_stamp = fields.CharField(max_length=200, default="")
    content_hash = fields.CharField(max_length=64, default="")
    # Before and after of every object the applied edits changed.
    applied: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    apply_problem = fields.TextField(default="")
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="change_requests", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    submitted_at = fields.DatetimeField(null=True)
    decided_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)

    class Meta:
        table = "change_request"
        ordering = ["-number"]

    @property
    def code(self) -> str:
        return f"CR-{self.number:03d}"


class ApprovalDecision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


class ChangeApproval(Model):
    # One approver's decision on one content hash of a request: "pm", "department:<id>" or
    # "management". A decision on an older hash is kept but no longer counts.
    id = fields.IntField(primary_key=True)
    change_request: fields.ForeignKeyRelation[ChangeRequest] = fields.ForeignKeyField(
        "models.ChangeRequest", related_name="approvals", on_delete=fields.CASCADE
    )
    change_request_id: int
    approver_slot = fields.CharField(max_length=32)
    department_id = fields.IntField(null=True)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="change_approvals", null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    decision = fields.CharEnumField(ApprovalDecision, max_length=8)
    comment = fields.TextField(default="")
    content_hash = fields.CharField(max_length=64)
    decided_at = fields.DatetimeField()
    # "request:slot:hash": one decision per approver and content.
    unique_key = fields.CharField(max_length=120, unique=True)

    class Meta:
        table = "change_approval"
        ordering = ["id"]
