"""Comments and attachments on the objects people work on together (tasks, problems, risks,
meetings, requirements). A subject is named by kind and id; its project is kept on the row
so every lookup is scoped by project without asking the subject's own table."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from server.org.models import User
from server.projects.models import Project


class SubjectKind(StrEnum):
    TASK = "TASK"
    PROBLEM = "PROBLEM"
    RISK = "RISK"
    MEETING = "MEETING"
    REQUIREMENT = "REQUIREMENT"


class Comment(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="comments", on_delete=fields.CASCADE
    )
    project_id: int
    subject_kind = fields.CharEnumField(SubjectKind, max_length=16)
    subject_id = fields.IntField()
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="comments", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    body = fields.TextField()
    # User ids mentioned, in the order they appear; each was notified once.
    mentions: list[int] = fields.JSONField(default=list)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    edited_at = fields.DatetimeField(null=True)
    # Withdrawn comments stay (the words are in the audit log); the thread shows the gap.
    withdrawn_at = fields.DatetimeField(null=True)

    class Meta:
        table = "comment"
        ordering = ["id"]
        indexes = (("project_id", "subject_kind", "subject_id"),)


class Attachment(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="attachments", on_delete=fields.CASCADE
    )
    project_id: int
    subject_kind = fields.CharEnumField(SubjectKind, max_length=16)
    subject_id = fields.IntField()
    uploaded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    uploaded_by_id: int | None
    file_name = fields.CharField(max_length=200)
    # Sniffed from the bytes, never taken from the name or the browser.
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    # Images get a smaller copy for the page; the original is kept as uploaded.
    has_preview = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachment"
        ordering = ["id"]
        indexes = (("project_id", "subject_kind", "subject_id"),)
