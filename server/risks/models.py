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


class RiskCategory(StrEnum):
    SCHEDULE = "SCHEDULE"
    COST = "COST"
    QUALITY = "QUALITY"
    RESOURCE = "RESOURCE"
    EXTERNAL = "EXTERNAL"
    OTHER = "OTHER"


class RiskLevel(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


LEVEL_RANK = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


class RiskStrategy(StrEnum):
    AVOID = "AVOID"
    MITIGATE = "MITIGATE"
    TRANSFER = "TRANSFER"
    ACCEPT = "ACCEPT"


class RiskStatus(StrEnum):
    OPEN = "OPEN"
    MONITORING = "MONITORING"
    OCCURRED = "OCCURRED"
    CLOSED = "CLOSED"


LIVE_RISK_STATUSES = (RiskStatus.OPEN, RiskStatus.MONITORING)


class Risk(Model):
    # One line of the risk register (风险登记表). The level follows probability × impact
    # through the project's matrix unless someone set it by hand, with a reason.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="risks", on_delete=fields.CASCADE
    )
    project_id: int
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    category = fields.CharEnumField(RiskCategory, default=RiskCategory.OTHER, max_length=16)
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="risks", null=True, on_delete=fields.SET_NULL
    )
    department_id: int | None
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="owned_risks", null=True, on_delete=fields.SET_NULL
    )
    owner_id: int | None
    probability = fields.IntField()
    impact = fields.IntField()
    level = fields.CharEnumField(RiskLevel, max_length=8, db_index=True)
    level_by_hand = fields.BooleanField(default=False)
    level_reason = fields.TextField(default="")
    strategy = fields.CharEnumField(RiskStrategy, null=True, max_length=16)
    measures = fields.TextField(default="")
    trigger = fields.TextField(default="")
    review_date = fields.DateField(null=True, db_index=True)
    status = fields.CharEnumField(RiskStatus, default=RiskStatus.OPEN, max_length=16)
    problem: fields.ForeignKeyNullableRelation[Problem] = fields.ForeignKeyField(
        "models.Problem", related_name="risks", null=True, on_delete=fields.SET_NULL
    )
    problem_id: int | None
    raised_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="raised_risks", null=True, on_delete=fields.SET_NULL
    )
    raised_by_id: int | None
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "risk"
        ordering = ["-id"]


class RiskTask(Model):
    # A task the risk threatens; the register shows its float and whether it is critical.

    id = fields.IntField(primary_key=True)
    risk: fields.ForeignKeyRelation[Risk] = fields.ForeignKeyField(
        "models.Risk", related_name="task_links", on_delete=fields.CASCADE
    )
    risk_id: int
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="risk_links", on_delete=fields.CASCADE
    )
    task_id: int

    class Meta:
        table = "risk_task"
        unique_together = (("risk", "task"),)


class AssessmentKind(StrEnum):
    RAISED = "RAISED"
    UPDATED = "UPDATED"
    REVIEWED = "REVIEWED"
    CRITICAL_PATH = "CRITICAL_PATH"
    MATRIX = "MATRIX"


class RiskAssessment(Model):
    # The risk's history (append-only): each level it had, and each review, with who and why.
    # A review held in a meeting names it, so the minutes list it.

    id = fields.IntField(primary_key=True)
    risk: fields.ForeignKeyRelation[Risk] = fields.ForeignKeyField(
        "models.Risk", related_name="assessments", on_delete=fields.CASCADE
    )
    risk_id: int
    kind = fields.CharEnumField(AssessmentKind, max_length=16)
    probability = fields.IntField()
    impact = fields.IntField()
    level = fields.CharEnumField(RiskLevel, max_length=8)
    previous_level = fields.CharEnumField(RiskLevel, null=True, max_length=8)
    measures = fields.TextField(default="")
    note = fields.TextField(default="")
    meeting_id = fields.IntField(null=True, db_index=True)
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="risk_assessments", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "risk_assessment"
        ordering = ["id"]


RISK_CATEGORY_LABELS: dict[RiskCategory, str] = {
    RiskCategory.SCHEDULE: N_("Schedule"),
    RiskCategory.COST: N_("Cost"),
    RiskCategory.QUALITY: N_("Quality"),
    RiskCategory.RESOURCE: N_("Resources"),
    RiskCategory.EXTERNAL: N_("External"),
    RiskCategory.OTHER: N_("Other"),
}
RISK_LEVEL_LABELS: dict[RiskLevel, str] = {
    RiskLevel.LOW: N_("Low"),
    RiskLevel.MEDIUM: N_("Medium"),
    RiskLevel.HIGH: N_("High"),
}
RISK_STRATEGY_LABELS: dict[RiskStrategy, str] = {
    RiskStrategy.AVOID: N_("Avoid"),
    RiskStrategy.MITIGATE: N_("Mitigate"),
    RiskStrategy.TRANSFER: N_("Transfer"),
    RiskStrategy.ACCEPT: N_("Accept"),
}
RISK_STATUS_LABELS: dict[RiskStatus, str] = {
    RiskStatus.OPEN: N_("Open"),
    RiskStatus.MONITORING: N_("Monitoring"),
    RiskStatus.OCCURRED: N_("Occurred"),
    RiskStatus.CLOSED: N_("Closed"),
}
