from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from server.org.models import User


class Channel(StrEnum):
    EMAIL = "EMAIL"
    WEBHOOK = "WEBHOOK"


class NoticeStatus(StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class Notice(Model):
    # An outgoing message, written in the same transaction as the change that caused it.

    id = fields.IntField(primary_key=True)
    dedup_key = fields.CharField(max_length=255, unique=True)
    channel = fields.CharEnumField(Channel, default=Channel.EMAIL, max_length=16)
    recipient: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notices", null=True, on_delete=fields.SET_NULL
    )
    address = fields.CharField(max_length=500, default="")
    subject = fields.CharField(max_length=255)
    body = fields.TextField()
    project_id = fields.IntField(null=True)
    status = fields.CharEnumField(NoticeStatus, default=NoticeStatus.PENDING, max_length=16)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    claimed_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    delivered_via = fields.CharField(max_length=16, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notice"
        ordering = ["-id"]
