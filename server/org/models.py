from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.manager import Manager
from tortoise.models import Model
from tortoise.queryset import QuerySet


class Department(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    parent: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "department"
        ordering = ["name"]


class WithoutSecrets(Manager):
    """Every query of a model through its manager (`User.get`, `await task.owner`) leaves its
    secret columns out; the few reads that need one name it (server/org/service.py)."""

    def get_queryset(self) -> QuerySet[Any]:
        from server.db import readable_columns

        return super().get_queryset().only(*readable_columns(self._model))


class User(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254, unique=True, null=True)
    mobile = fields.CharField(max_length=32, unique=True, null=True)
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="users", on_delete=fields.RESTRICT
    )
    department_id: int
    position = fields.CharField(max_length=100, default="")
    # The org chart's head of their department. It only pre-fills a project's
    # DEPARTMENT_HEAD; the project's team directory decides who signs.
    heads_department = fields.BooleanField(default=False)
    password_hash = fields.CharField(max_length=255, default="")
    # Random, the user's own: calendar feed links are derived from it and die when it changes.
    feed_secret = fields.CharField(max_length=64, default="")
    is_admin = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)
    time_zone = fields.CharField(max_length=64, default="Asia/Shanghai")
    language = fields.CharField(max_length=8, default="zh-CN")
    # Notice preferences (server/notices/preferences.py): kinds of notice not wanted by mail
    # or with an @ in group chats, single mails held for one daily digest, and quiet hours
    # (local, from..until) during which mail waits.
    # (Nullable: the columns came after people existed, and Tortoise adds a column without a
    # database default; None reads as nothing turned off, no digest.)
    email_off: fields.Field[list[str] | None] = fields.JSONField(default=list, null=True)
    chat_off: fields.Field[list[str] | None] = fields.JSONField(default=list, null=True)
    digest_mode = fields.BooleanField(default=False, null=True)
    quiet_from = fields.SmallIntField(null=True)
    quiet_until = fields.SmallIntField(null=True)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    deactivated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "app_user"
        ordering = ["name"]
        manager = WithoutSecrets()


class Session(Model):
    # A browser login; the cookie holds a random token, the row only its SHA-256.

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    user_id: int
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "session"


class ApiToken(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="api_tokens", on_delete=fields.CASCADE
    )
    user_id: int
    name = fields.CharField(max_length=100)
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=12)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    # The scope: the projects the token reaches (null: every project of its user) and
    # whether it may only read.
    project_ids: fields.Field[list[int] | None] = fields.JSONField(null=True)
    read_only = fields.BooleanField(default=False)

    class Meta:
        table = "api_token"
        ordering = ["-created_at"]


class LoginThrottle(Model):
    # Failed logins per (login name, client address) and per client address, counted before
    # the password is checked, so a burst cannot run more checks than the limit.

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=320, unique=True)
    failures = fields.IntField(default=0)
    last_failure_at = fields.DatetimeField(null=True)
    next_allowed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "login_throttle"
