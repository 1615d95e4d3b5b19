from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from server.i18n import N_
from server.org.models import Department, User
from server.projects.models import Project


class DocumentKind(StrEnum):
    CHARTER = "CHARTER"
    COLLABORATION_CONFIRMATION = "COLLABORATION_CONFIRMATION"
    PLAN = "PLAN"
    CHANGE = "CHANGE"
    CLOSING_REPORT = "CLOSING_REPORT"


class DocumentStatus(StrEnum):
    DRAFT = "DRAFT"
    IN_SIGNING = "IN_SIGNING"
    SIGNED = "SIGNED"
    REJECTED = "REJECTED"


class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


KIND_LABELS: dict[DocumentKind, str] = {
    DocumentKind.CHARTER: N_("Project charter"),
    DocumentKind.COLLABORATION_CONFIRMATION: N_("Collaboration confirmation"),
    DocumentKind.PLAN: N_("Project plan"),
    DocumentKind.CHANGE: N_("Change request"),
    DocumentKind.CLOSING_REPORT: N_("Closing report"),
}
DOCUMENT_STATUS_LABELS: dict[DocumentStatus, str] = {
    DocumentStatus.DRAFT: N_("Draft"),
    DocumentStatus.IN_SIGNING: N_("In signing"),
    DocumentStatus.SIGNED: N_("Signed"),
    DocumentStatus.REJECTED: N_("Rejected"),
}
DECISION_LABELS: dict[Decision, str] = {
    Decision.APPROVE: N_("Approved"),
    Decision.REJECT: N_("Rejected"),
}


class SignableDocument(Model):
    # A document every participating department head signs. Its status follows the
    # current version: signatures of older versions stay, but never count for it.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="documents", on_delete=fields.CASCADE
    )
    project_id: int
    kind = fields.CharEnumField(DocumentKind, max_length=32)
    status = fields.CharEnumField(DocumentStatus, default=DocumentStatus.DRAFT, max_length=16)
    current_number = fields.IntField(default=1)
    # "project:kind" for the one charter and one confirmation a project has; NULL for
    # kinds a project has many of (change requests).
    kind_slot = fields.CharField(max_length=64, null=True, unique=True)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    signed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "signable_document"


class DocumentVersion(Model):
    # One version's content. Immutable once it has entered signing.

    id = fields.IntField(primary_key=True)
    document: fields.ForeignKeyRelation[SignableDocument] = fields.ForeignKeyField(
        "models.SignableDocument", related_name="versions", on_delete=fields.CASCADE
    )
    document_id: int
    number = fields.IntField()
    number_slot = fields.CharField(max_length=32, unique=True)
    body: Any = fields.JSONField()
    content_hash = fields.CharField(max_length=64)
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="document_versions", null=True, on_delete=fields.RESTRICT
    )
    author_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    submitted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "document_version"
        ordering = ["number"]


class Signature(Model):
    id = fields.IntField(primary_key=True)
    document: fields.ForeignKeyRelation[SignableDocument] = fields.ForeignKeyField(
        "models.SignableDocument", related_name="signatures", on_delete=fields.CASCADE
    )
    document_id: int
    document_version: fields.ForeignKeyRelation[DocumentVersion] = fields.ForeignKeyField(
        "models.DocumentVersion", related_name="signatures", on_delete=fields.CASCADE
    )
    document_version_id: int
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="signatures", on_delete=fields.RESTRICT
    )
    department_id: int
    signer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="signatures", on_delete=fields.RESTRICT
    )
    signer_id: int
    decision = fields.CharEnumField(Decision, max_length=8)
    comment = fields.TextField(default="")
    content_hash = fields.CharField(max_length=64)
    # "version:department": one signature per department and version, even when two
    # people who may sign for it press the button at once.
    slot = fields.CharField(max_length=32, unique=True)
    signed_at = fields.DatetimeField()
    # HMAC over what the signature attests (content.signature_seal), checked on every read.
    seal = fields.CharField(max_length=64, default="")

    class Meta:
        table = "signature"
        ordering = ["id"]


class SigningDelegate(Model):
    # Someone a department head named to sign for their department in one project.

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="signing_delegates", on_delete=fields.CASCADE
    )
    project_id: int
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="signing_delegates", on_delete=fields.RESTRICT
    )
    department_id: int
    delegate: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="signing_delegations", on_delete=fields.RESTRICT
    )
    delegate_id: int
    named_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="named_delegations", on_delete=fields.RESTRICT
    )
    named_by_id: int
    # "project:department": one delegate per department and project.
    pair = fields.CharField(max_length=32, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "signing_delegate"


# Column headings of the charter's tables (goals, milestones, core team).
COLUMN_LABELS = {
    "goal": N_("Goal"),
    "target": N_("Measurable target"),
    "name": N_("Name"),
    "date": N_("Date"),
    "department": N_("Department"),
    "role": N_("Role"),
}


# URL names of the documents a project has one of.
KIND_SLUGS = {
    "charter": DocumentKind.CHARTER,
    "confirmation": DocumentKind.COLLABORATION_CONFIRMATION,
    "closing-report": DocumentKind.CLOSING_REPORT,
}
SLUG_OF_KIND = {kind: slug for slug, kind in KIND_SLUGS.items()}
