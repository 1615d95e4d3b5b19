from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.i18n import N_
from server.org.models import Department, User


class ProjectStatus(StrEnum):
    PLANNING = "PLANNING"
    ACTIVE = "ACTIVE"
    ON_HOLD = "ON_HOLD"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"
    ARCHIVED = "ARCHIVED"


# Projects the jobs watch: escalations, digests, snapshots, deadlines and reminders.
LIVE_STATUSES = (ProjectStatus.PLANNING, ProjectStatus.ACTIVE, ProjectStatus.CLOSING)


MOVE_LABELS: dict[tuple[ProjectStatus, ProjectStatus], str] = {
    (ProjectStatus.PLANNING, ProjectStatus.ACTIVE): N_("Start the project"),
    (ProjectStatus.ACTIVE, ProjectStatus.CLOSING): N_("Start closing"),
    (ProjectStatus.CLOSING, ProjectStatus.ACTIVE): N_("Reopen (back to active)"),
    (ProjectStatus.CLOSING, ProjectStatus.CLOSED): N_("Close the project"),
    (ProjectStatus.CLOSED, ProjectStatus.ARCHIVED): N_("Archive"),
    (ProjectStatus.ARCHIVED, ProjectStatus.CLOSED): N_("Restore (to closed)"),
}
PAUSE_LABEL = N_("Put on hold")
RESUME_LABEL = N_("Resume")


def move_label(current: ProjectStatus, wanted: ProjectStatus) -> str:
    """The button's words for a move (untranslated)."""
    if wanted == ProjectStatus.ON_HOLD:
        return PAUSE_LABEL
    if current == ProjectStatus.ON_HOLD:
        return RESUME_LABEL
    return MOVE_LABELS[(current, wanted)]


class Role(StrEnum):
    MANAGER = "MANAGER"
    CO_CHAIR = "CO_CHAIR"
    LIAISON = "LIAISON"
    DEPARTMENT_HEAD = "DEPARTMENT_HEAD"
    MANAGEMENT = "MANAGEMENT"
    MEMBER = "MEMBER"
    VIEWER = "VIEWER"


ROLE_LABELS: dict[Role, str] = {
    Role.MANAGER: N_("Project manager"),
    Role.CO_CHAIR: N_("Co-chair"),
    Role.LIAISON: N_("Department liaison"),
    Role.DEPARTMENT_HEAD: N_("Department head"),
    Role.MANAGEMENT: N_("Management"),
    Role.MEMBER: N_("Team member"),
    Role.VIEWER: N_("Viewer"),
}
STATUS_LABELS: dict[ProjectStatus, str] = {
    ProjectStatus.PLANNING: N_("Planning"),
    ProjectStatus.ACTIVE: N_("Active"),
    ProjectStatus.ON_HOLD: N_("On hold"),
    ProjectStatus.CLOSING: N_("Closing"),
    ProjectStatus.CLOSED: N_("Closed"),
    ProjectStatus.ARCHIVED: N_("Archived"),
}


class Project(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=200)
    background = fields.TextField(default="")
    goals = fields.TextField(default="")
    scope = fields.TextField(default="")
    success_criteria = fields.TextField(default="")
    status = fields.CharEnumField(ProjectStatus, default=ProjectStatus.PLANNING, max_length=16)
    # Why it last changed status (on hold, back, restored), and where a held project returns.
    status_reason = fields.TextField(null=True)
    held_from = fields.CharEnumField(ProjectStatus, max_length=16, null=True)
    initiating_department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="initiated_projects", on_delete=fields.RESTRICT
    )
    initiating_department_id: int
    start_date = fields.DateField()
    time_zone = fields.CharField(max_length=64, default="Asia/Shanghai")
    late_threshold_days = fields.IntField(default=2)
    # The day progress is measured on (None: today in the project's time zone).
    status_date = fields.DateField(null=True)
    # False: progress override, a started task's remaining work ignores its predecessors.
    retained_logic = fields.BooleanField(default=True)
    # A committed finish: late dates count back from it, so float goes negative past it.
    deadline = fields.DateField(null=True)
    critical_threshold_days = fields.IntField(default=0)
    # The risk matrix: probability × impact from these scores up is high, or medium.
    risk_high_score = fields.IntField(default=15)
    risk_medium_score = fields.IntField(default=6)
    # A change request needs management's approval past these (None: the defaults in
    # server.changes.service, 5 working days and 100,000 CNY).
    change_finish_threshold_days = fields.IntField(null=True)
    change_cost_threshold = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "project"
        ordering = ["code"]


class ProjectDepartment(Model):
    # A department taking part in a project.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="participations", on_delete=fields.CASCADE
    )
    project_id: int
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="participations", on_delete=fields.RESTRICT
    )
    department_id: int
    # "project:department", unique: Tortoise's SQLite migrations cannot yet build a
    # composite unique constraint over foreign-key columns.
    pair = fields.CharField(max_length=32, unique=True)
    added_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "project_department"


class ProjectMember(Model):
    # One role of one person in a project. Leaving ends it; the row stays as history.
    #
    # The slot columns ("project:user:role", "project:department") are set only while the
    # membership is active, so the database itself refuses the same role twice and a second
    # liaison for a department (NULLs never clash).

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="members", on_delete=fields.CASCADE
    )
    project_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.RESTRICT
    )
    user_id: int
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="memberships", on_delete=fields.RESTRICT
    )
    department_id: int
    role = fields.CharEnumField(Role, max_length=16)
    position = fields.CharField(max_length=100, default="")
    responsibilities = fields.TextField(default="")
    time_commitment = fields.CharField(max_length=100, default="")
    role_slot = fields.CharField(max_length=64, null=True, unique=True)
    liaison_slot = fields.CharField(max_length=64, null=True, unique=True)
    joined_at = fields.DatetimeField(auto_now_add=True)
    left_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)

    class Meta:
        table = "project_member"
        ordering = ["id"]


__all__ = ["Department", "Project", "ProjectDepartment", "ProjectMember", "Role", "User"]
