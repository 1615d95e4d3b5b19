from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    # Append-only: who did what to which object, with the values before and after.

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor = fields.ForeignKeyField(
        "models.User", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharField(max_length=64)
    object_type = fields.CharField(max_length=32)
    object_id = fields.IntField()
    project_id = fields.IntField(null=True, db_index=True)
    summary = fields.CharField(max_length=255, default="")
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)

    class Meta:
        table = "audit_entry"
        ordering = ["-id"]
