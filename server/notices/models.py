from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from server.i18n import N_

if TYPE_CHECKING:
    from server.org.models import Department, User
    from server.projects.models import Project


class Channel(StrEnum):
    EMAIL = "EMAIL"
    WEBHOOK = "WEBHOOK"


class RobotKind(StrEnum):
    DINGTALK = "DINGTALK"
    FEISHU = "FEISHU"
    WECOM = "WECOM"
    GENERIC = "GENERIC"
    # Posts kept in the app's mailbox page instead of sent: the demo's group chat.
    LOCAL = "LOCAL"


class ChatRobot(Model):
    # A group chat's incoming-webhook robot, for a whole project or for one department.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="chat_robots", null=True, on_delete=fields.CASCADE
    )
    project_id: int | None
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="chat_robots", null=True, on_delete=fields.CASCADE
    )
    department_id: int | None
    kind = fields.CharEnumField(RobotKind, max_length=16)
    name = fields.CharField(max_length=100)
    url = fields.CharField(max_length=1000)
    secret = fields.CharField(max_length=255, default="")
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "chat_robot"
        ordering = ["id"]


class NoticeStatus(StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    # Waits for its recipient's daily digest (they asked for one mail a day).
    HELD = "HELD"


class Notice(Model):
    # An outgoing message, written in the same transaction as the change that caused it.

    id = fields.IntField(primary_key=True)
    dedup_key = fields.CharField(max_length=255, unique=True)
    channel = fields.CharEnumField(Channel, default=Channel.EMAIL, max_length=16)
    recipient: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notices", null=True, on_delete=fields.SET_NULL
    )
    recipient_id: int | None
    address = fields.CharField(max_length=500, default="")
    robot: fields.ForeignKeyNullableRelation[ChatRobot] = fields.ForeignKeyField(
        "models.ChatRobot", related_name="notices", null=True, on_delete=fields.SET_NULL
    )
    robot_id: int | None
    # Mobile numbers a chat message @-mentions.
    mentions: list[str] = fields.JSONField(default=list)
    subject = fields.CharField(max_length=255)
    body = fields.TextField()
    html_body = fields.TextField(default="")
    # Files sent with an email: [{"filename", "content_type", "content"}] (text parts only).
    attachments: list[dict[str, str]] = fields.JSONField(default=list)
    project_id = fields.IntField(null=True)
    status = fields.CharEnumField(NoticeStatus, default=NoticeStatus.PENDING, max_length=16)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    claimed_at = fields.DatetimeField(null=True)
    # host:pid of the process delivering it, so a dead process's claims are released early.
    claimed_by = fields.CharField(max_length=64, default="")
    last_error = fields.TextField(default="")
    delivered_via = fields.CharField(max_length=16, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notice"
        ordering = ["-id"]


NOTICE_STATUS_LABELS: dict[NoticeStatus, str] = {
    NoticeStatus.PENDING: N_("Waiting"),
    NoticeStatus.SENDING: N_("Sending"),
    NoticeStatus.SENT: N_("Sent"),
    NoticeStatus.FAILED: N_("Failed"),
    NoticeStatus.SKIPPED: N_("Skipped (no address)"),
    NoticeStatus.HELD: N_("Held for the daily digest"),
}
ROBOT_KIND_LABELS: dict[RobotKind, str] = {
    RobotKind.DINGTALK: N_("DingTalk"),
    RobotKind.FEISHU: N_("Feishu / Lark"),
    RobotKind.WECOM: N_("WeCom"),
    RobotKind.GENERIC: N_("Generic JSON webhook"),
    RobotKind.LOCAL: N_("Kept in the mailbox (demo)"),
}


class NoticeKind(StrEnum):
    MENTIONS = "MENTIONS"
    SIGN_OFFS = "SIGN_OFFS"
    MEETINGS = "MEETINGS"
    TEAM = "TEAM"
    DIGEST = "DIGEST"
    ESCALATIONS = "ESCALATIONS"


NOTICE_KIND_LABELS: dict[NoticeKind, str] = {
    NoticeKind.MENTIONS: N_("Someone mentions me in a comment"),
    NoticeKind.SIGN_OFFS: N_("Sign-offs: requests, reminders and outcomes"),
    NoticeKind.MEETINGS: N_("Meetings: invitations, report reminders, minutes"),
    NoticeKind.TEAM: N_("I am added to a project"),
    NoticeKind.DIGEST: N_("My departments' daily task list (liaisons)"),
    NoticeKind.ESCALATIONS: N_("Escalations and approvals asked of me (always sent)"),
}
