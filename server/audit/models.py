from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from server.org.models import User


class AuditEntry(Model):
    # Append-only: who did what to which object, with the values before and after.

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    action = fields.CharField(max_length=64)
    object_type = fields.CharField(max_length=32)
    object_id = fields.IntField()
    project_id = fields.IntField(null=True, db_index=True)
    summary = fields.CharField(max_length=255, default="")
    before: Any = fields.JSONField(null=True)
    after: Any = fields.JSONField(null=True)

    class Meta:
        table = "audit_entry"
        ordering = ["-id"]
