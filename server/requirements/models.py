from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.i18n import N_
from server.org.models import Department, User
from server.projects.models import Project


class Priority(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    COULD = "COULD"


class RequirementStatus(StrEnum):
    FILED = "FILED"  # awaiting review
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    MERGED = "MERGED"


class Requirement(Model):
    # One line of a department's requirements list (需求清单), reviewed by the PM.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="requirements", on_delete=fields.CASCADE
    )
    project_id: int
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="requirements", on_delete=fields.RESTRICT
    )
    department_id: int
    asked_of: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="requirements_asked", null=True, on_delete=fields.SET_NULL
    )
    asked_of_id: int | None
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    priority = fields.CharEnumField(Priority, default=Priority.SHOULD, max_length=8)
    acceptance_criterion = fields.TextField(default="")
    needed_by = fields.DateField(null=True)
    status = fields.CharEnumField(
        RequirementStatus, default=RequirementStatus.FILED, max_length=10, db_index=True
    )
    decision_reason = fields.TextField(default="")
    merged_into: fields.ForeignKeyNullableRelation[Requirement] = fields.ForeignKeyField(
        "models.Requirement", related_name="merged", null=True, on_delete=fields.SET_NULL
    )
    merged_into_id: int | None
    filed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="filed_requirements", null=True, on_delete=fields.SET_NULL
    )
    filed_by_id: int | None
    reviewed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reviewed_requirements", null=True, on_delete=fields.SET_NULL
    )
    reviewed_by_id: int | None
    reviewed_at = fields.DatetimeField(null=True)
    review_meeting_id = fields.IntField(null=True, db_index=True)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "requirement"
        ordering = ["id"]


class ConflictStatus(StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class RequirementConflict(Model):
    # Two requirements that cannot both be met; open until one is rejected or merged, or a
    # decision settles it. `pair` ("smaller:larger" id) keeps one flag per pair.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="requirement_conflicts", on_delete=fields.CASCADE
    )
    project_id: int
    requirement_a: fields.ForeignKeyRelation[Requirement] = fields.ForeignKeyField(
        "models.Requirement", related_name="conflicts_a", on_delete=fields.CASCADE
    )
    requirement_a_id: int
    requirement_b: fields.ForeignKeyRelation[Requirement] = fields.ForeignKeyField(
        "models.Requirement", related_name="conflicts_b", on_delete=fields.CASCADE
    )
    requirement_b_id: int
    pair = fields.CharField(max_length=32, unique=True)
    note = fields.TextField(default="")
    status = fields.CharEnumField(ConflictStatus, default=ConflictStatus.OPEN, max_length=8)
    decision = fields.TextField(default="")
    flagged_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="flagged_conflicts", null=True, on_delete=fields.SET_NULL
    )
    flagged_by_id: int | None
    resolved_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="resolved_conflicts", null=True, on_delete=fields.SET_NULL
    )
    resolved_by_id: int | None
    resolved_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "requirement_conflict"
        ordering = ["id"]


class ResourceKind(StrEnum):
    PEOPLE = "PEOPLE"
    BUDGET = "BUDGET"
    EQUIPMENT = "EQUIPMENT"
    OTHER = "OTHER"


class ResourceStatus(StrEnum):
    REQUESTED = "REQUESTED"
    COMMITTED = "COMMITTED"
    DECLINED = "DECLINED"


class GapResolution(StrEnum):
    TRANSFER = "TRANSFER"  # a temporary transfer from another department
    REPRIORITISE = "REPRIORITISE"  # a requirement or task moves instead
    MANAGEMENT = "MANAGEMENT"  # management approves extra resources


class GapState(StrEnum):
    NONE = "NONE"  # not a gap (yet)
    OPEN = "OPEN"
    AWAITING_MANAGEMENT = "AWAITING_MANAGEMENT"
    RESOLVED = "RESOLVED"


UNRESOLVED_GAPS = (GapState.OPEN, GapState.AWAITING_MANAGEMENT)


class ResourceRequest(Model):
    # One line of the resource requests (资源需求表). Declined (or still unmet on its
    # needed-by date) it is a gap the PM resolves; management may have to approve.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="resource_requests", on_delete=fields.CASCADE
    )
    project_id: int
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="resource_requests", on_delete=fields.RESTRICT
    )
    department_id: int
    kind = fields.CharEnumField(ResourceKind, max_length=12)
    description = fields.TextField()
    quantity = fields.DecimalField(max_digits=12, decimal_places=2)
    unit = fields.CharField(max_length=32, default="")
    # Money is exact: CNY with two decimals, never a float.
    amount = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    currency = fields.CharField(max_length=3, default="CNY")
    needed_by = fields.DateField(null=True)
    # Who would supply it; none means the project's own budget (the PM decides).
    supplier: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="supplied_requests", null=True, on_delete=fields.SET_NULL
    )
    supplier_id: int | None
    status = fields.CharEnumField(ResourceStatus, default=ResourceStatus.REQUESTED, max_length=10)
    decision_comment = fields.TextField(default="")
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="decided_requests", null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    decided_at = fields.DatetimeField(null=True)
    gap_state = fields.CharEnumField(GapState, default=GapState.NONE, max_length=20)
    gap_resolution = fields.CharEnumField(GapResolution, null=True, max_length=12)
    gap_note = fields.TextField(default="")
    gap_from: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="gap_transfers", null=True, on_delete=fields.SET_NULL
    )
    gap_from_id: int | None
    management_comment = fields.TextField(default="")
    management_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="gap_decisions", null=True, on_delete=fields.SET_NULL
    )
    management_by_id: int | None
    filed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="filed_requests", null=True, on_delete=fields.SET_NULL
    )
    filed_by_id: int | None
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "resource_request"
        ordering = ["id"]


PRIORITY_LABELS: dict[Priority, str] = {
    Priority.MUST: N_("Must"),
    Priority.SHOULD: N_("Should"),
    Priority.COULD: N_("Could"),
}
REQUIREMENT_STATUS_LABELS: dict[RequirementStatus, str] = {
    RequirementStatus.FILED: N_("Awaiting review"),
    RequirementStatus.ACCEPTED: N_("Accepted"),
    RequirementStatus.REJECTED: N_("Rejected"),
    RequirementStatus.MERGED: N_("Merged"),
}
RESOURCE_KIND_LABELS: dict[ResourceKind, str] = {
    ResourceKind.PEOPLE: N_("Staff"),
    ResourceKind.BUDGET: N_("Budget"),
    ResourceKind.EQUIPMENT: N_("Equipment"),
    ResourceKind.OTHER: N_("Other"),
}
RESOURCE_STATUS_LABELS: dict[ResourceStatus, str] = {
    ResourceStatus.REQUESTED: N_("Requested"),
    ResourceStatus.COMMITTED: N_("Committed"),
    ResourceStatus.DECLINED: N_("Declined"),
}
GAP_RESOLUTION_LABELS: dict[GapResolution, str] = {
    GapResolution.TRANSFER: N_("Temporary transfer"),
    GapResolution.REPRIORITISE: N_("Re-prioritise"),
    GapResolution.MANAGEMENT: N_("Management approval"),
}
GAP_STATE_LABELS: dict[GapState, str] = {
    GapState.NONE: N_("No gap"),
    GapState.OPEN: N_("Open gap"),
    GapState.AWAITING_MANAGEMENT: N_("Awaiting management"),
    GapState.RESOLVED: N_("Gap resolved"),
}
