from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from server.i18n import N_
from server.org.models import Department, User
from server.planning.models import Task
from server.projects.models import Project


class MeetingKind(StrEnum):
    KICKOFF = "KICKOFF"
    REQUIREMENT_REVIEW = "REQUIREMENT_REVIEW"
    PLAN_REVIEW = "PLAN_REVIEW"
    WEEKLY = "WEEKLY"
    TOPIC = "TOPIC"
    ACCEPTANCE = "ACCEPTANCE"
    RETROSPECTIVE = "RETROSPECTIVE"


class MeetingStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    LIVE = "LIVE"
    ENDED = "ENDED"


class Attendance(StrEnum):
    INVITED = "INVITED"
    PRESENT = "PRESENT"
    ABSENT = "ABSENT"
    EXCUSED = "EXCUSED"


class Meeting(Model):
    # One meeting (会议); a weekly series shares `series_key` (the first occurrence's id).

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="meetings", on_delete=fields.CASCADE
    )
    project_id: int
    kind = fields.CharEnumField(MeetingKind, max_length=24)
    title = fields.CharField(max_length=200)
    scheduled_start = fields.DatetimeField(db_index=True)
    duration_minutes = fields.IntField()
    place = fields.CharField(max_length=500, default="")
    series_key = fields.IntField(null=True, db_index=True)
    status = fields.CharEnumField(MeetingStatus, default=MeetingStatus.SCHEDULED, max_length=16)
    started_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    # End + 24 hours: when the minutes must be out.
    minutes_due_at = fields.DatetimeField(null=True, db_index=True)
    minutes_draft = fields.TextField(default="")
    minutes_published_at = fields.DatetimeField(null=True)
    # How far the overdue-minutes ladder has climbed (0 none, 1 PM, 2 initiating head).
    minutes_escalation_level = fields.IntField(default=0)
    # A topic meeting (专题会议) opened from a problem links back to it.
    problem: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.Problem", related_name="topic_meetings", null=True, on_delete=fields.SET_NULL
    )
    problem_id: int | None
    current_item = fields.IntField(default=0)
    item_started_at = fields.DatetimeField(null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="created_meetings", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "meeting"
        ordering = ["scheduled_start", "id"]


class Attendee(Model):
    id = fields.IntField(primary_key=True)
    meeting: fields.ForeignKeyRelation[Meeting] = fields.ForeignKeyField(
        "models.Meeting", related_name="attendees", on_delete=fields.CASCADE
    )
    meeting_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="attendances", on_delete=fields.RESTRICT
    )
    user_id: int
    attendance = fields.CharEnumField(Attendance, default=Attendance.INVITED, max_length=16)

    class Meta:
        table = "meeting_attendee"
        unique_together = (("meeting", "user"),)
        ordering = ["id"]


class AgendaItem(Model):
    id = fields.IntField(primary_key=True)
    meeting: fields.ForeignKeyRelation[Meeting] = fields.ForeignKeyField(
        "models.Meeting", related_name="agenda", on_delete=fields.CASCADE
    )
    meeting_id: int
    position = fields.IntField()
    title = fields.CharField(max_length=200)
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="agenda_items", null=True, on_delete=fields.SET_NULL
    )
    owner_id: int | None
    minutes = fields.IntField()
    # Seconds actually spent, written when the meeting moves on from the item.
    spent_seconds = fields.IntField(null=True)

    class Meta:
        table = "agenda_item"
        ordering = ["position", "id"]


class DepartmentReport(Model):
    # One department's weekly report (部门汇报): done, next week's plan, needs from others.

    id = fields.IntField(primary_key=True)
    meeting: fields.ForeignKeyRelation[Meeting] = fields.ForeignKeyField(
        "models.Meeting", related_name="reports", on_delete=fields.CASCADE
    )
    meeting_id: int
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="meeting_reports", on_delete=fields.RESTRICT
    )
    department_id: int
    done = fields.TextField(default="")
    next_week = fields.TextField(default="")
    submitted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="meeting_reports", null=True, on_delete=fields.SET_NULL
    )
    submitted_by_id: int | None
    version = fields.IntField(default=1)
    submitted_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "department_report"
        unique_together = (("meeting", "department"),)
        ordering = ["id"]


class ReportNeed(Model):
    # Something a department needs from another one; it becomes an action item for that one.

    id = fields.IntField(primary_key=True)
    report: fields.ForeignKeyRelation[DepartmentReport] = fields.ForeignKeyField(
        "models.DepartmentReport", related_name="needs", on_delete=fields.CASCADE
    )
    report_id: int
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="needs_to_meet", on_delete=fields.RESTRICT
    )
    department_id: int
    text = fields.CharField(max_length=500)

    class Meta:
        table = "report_need"
        ordering = ["id"]


class Decision(Model):
    id = fields.IntField(primary_key=True)
    meeting: fields.ForeignKeyRelation[Meeting] = fields.ForeignKeyField(
        "models.Meeting", related_name="decisions", on_delete=fields.CASCADE
    )
    meeting_id: int
    text = fields.TextField()
    recorded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="recorded_decisions", null=True, on_delete=fields.SET_NULL
    )
    recorded_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "decision"
        ordering = ["id"]


class MeetingQuestion(Model):
    # A question raised in a kickoff meeting, with its answer and who answered (recorded live).

    id = fields.IntField(primary_key=True)
    meeting: fields.ForeignKeyRelation[Meeting] = fields.ForeignKeyField(
        "models.Meeting", related_name="questions", on_delete=fields.CASCADE
    )
    meeting_id: int
    question = fields.TextField()
    asked_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="asked_questions", null=True, on_delete=fields.SET_NULL
    )
    asked_by_id: int | None
    answer = fields.TextField(default="")
    answered_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="answered_questions", null=True, on_delete=fields.SET_NULL
    )
    answered_by_id: int | None
    recorded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="recorded_questions", null=True, on_delete=fields.SET_NULL
    )
    recorded_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "meeting_question"
        ordering = ["id"]


class ActionItem(Model):
    # A to-do agreed in a meeting; its task carries the work and the status.

    id = fields.IntField(primary_key=True)
    meeting: fields.ForeignKeyRelation[Meeting] = fields.ForeignKeyField(
        "models.Meeting", related_name="action_items", on_delete=fields.CASCADE
    )
    meeting_id: int
    title = fields.CharField(max_length=200)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="action_items", on_delete=fields.RESTRICT
    )
    owner_id: int
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="action_items", null=True, on_delete=fields.SET_NULL
    )
    department_id: int | None
    due_date = fields.DateField()
    task: fields.ForeignKeyNullableRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="action_items", null=True, on_delete=fields.SET_NULL
    )
    task_id: int | None
    # A need turns into one action item at most.
    need: fields.ForeignKeyNullableRelation[ReportNeed] = fields.OneToOneField(
        "models.ReportNeed", related_name="action_item", null=True, on_delete=fields.SET_NULL
    )
    need_id: int | None
    recorded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="recorded_action_items", null=True, on_delete=fields.SET_NULL
    )
    recorded_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "action_item"
        ordering = ["id"]


class MinutesRevision(Model):
    # A published, frozen text of the minutes (会议纪要); a correction is the next revision.

    id = fields.IntField(primary_key=True)
    meeting: fields.ForeignKeyRelation[Meeting] = fields.ForeignKeyField(
        "models.Meeting", related_name="minutes_revisions", on_delete=fields.CASCADE
    )
    meeting_id: int
    revision = fields.IntField()
    body = fields.TextField()
    change_note = fields.TextField(default="")
    published_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="published_minutes", null=True, on_delete=fields.SET_NULL
    )
    published_by_id: int | None
    published_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "minutes_revision"
        unique_together = (("meeting", "revision"),)
        ordering = ["revision"]


MEETING_KIND_LABELS: dict[MeetingKind, str] = {
    MeetingKind.KICKOFF: N_("Kickoff"),
    MeetingKind.REQUIREMENT_REVIEW: N_("Requirement review"),
    MeetingKind.PLAN_REVIEW: N_("Plan review"),
    MeetingKind.WEEKLY: N_("Weekly meeting"),
    MeetingKind.TOPIC: N_("Topic meeting"),
    MeetingKind.ACCEPTANCE: N_("Acceptance"),
    MeetingKind.RETROSPECTIVE: N_("Retrospective"),
}
MEETING_STATUS_LABELS: dict[MeetingStatus, str] = {
    MeetingStatus.SCHEDULED: N_("Scheduled"),
    MeetingStatus.LIVE: N_("Live"),
    MeetingStatus.ENDED: N_("Ended"),
}
ATTENDANCE_LABELS: dict[Attendance, str] = {
    Attendance.INVITED: N_("Invited"),
    Attendance.PRESENT: N_("Present"),
    Attendance.ABSENT: N_("Absent"),
    Attendance.EXCUSED: N_("Excused"),
}
