"""Signed documents check themselves: every read recomputes each version's hash from its body
and verifies each signature's seal; `xietong verify` and a daily job check them all and alert
the administrators once per finding."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from server.audit.service import record
from server.auth import Action, Actor, authorize
from server.db import with_related
from server.notices.service import queue_email
from server.org.models import Department, User
from server.projects.models import Project
from server.settings import get_settings
from server.signoffs import content
from server.signoffs.models import (
    Decision,
    DocumentStatus,
    DocumentVersion,
    SignableDocument,
    Signature,
)


@dataclass
class SignatureView:
    signature: Signature
    department: Department
    signer: User
    number: int
    # The seal verifies and the signed hash is the version's, recomputed from its body.
    integrity_ok: bool = True


def verify_signatures(
    document: SignableDocument, versions: list[DocumentVersion], signatures: list[Signature]
) -> tuple[frozenset[int], list[SignatureView]]:
    """Version numbers that cannot be trusted, and each signature with its verdict.

    A version is untrusted when its body no longer hashes to its stored hash, or when the
    document says SIGNED but that version (the current one) carries no intact approval: a
    version slipped in behind the signatures. Signatures must come with department and
    signer loaded; one pointing at a version of another document fails.
    """
    secret = get_settings().secret_key
    by_id = {v.id: v for v in versions}
    altered = {
        v.number
        for v in versions
        if content.content_hash(document.id, v.number, v.body) != v.content_hash
    }
    views = []
    for s in signatures:
        version = by_id.get(s.document_version_id)
        if version is None:
            views.append(SignatureView(s, s.department, s.signer, 0, False))
            continue
        facts = content.SealedFacts(
            document_id=document.id,
            version_number=version.number,
            content_hash=s.content_hash,
            department_id=s.department.id,
            signer_id=s.signer.id,
            decision=s.decision.value,
            signed_at_epoch=int(s.signed_at.timestamp()),
        )
        intact = (
            version.number not in altered
            and s.content_hash == version.content_hash
            and content.seal_holds(secret, facts, s.seal)
        )
        views.append(SignatureView(s, s.department, s.signer, version.number, intact))
    if document.status == DocumentStatus.SIGNED:
        current = [v for v in views if v.number == document.current_number]
        approved = [v for v in current if v.signature.decision == Decision.APPROVE]
        if not approved or not all(v.integrity_ok for v in current):
            altered.add(document.current_number)
    return frozenset(altered), views


@dataclass(frozen=True)
class IntegrityFinding:
    project: Project
    document: SignableDocument
    altered_versions: frozenset[int]
    broken_signatures: int

    @property
    def fingerprint(self) -> str:
        """Names this finding, so one alert goes out per distinct tampering."""
        text = f"{sorted(self.altered_versions)}:{self.broken_signatures}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IntegrityReport:
    documents: int
    signatures: int
    findings: list[IntegrityFinding]


async def verify_all_documents(actor: Actor) -> IntegrityReport:
    """Every document of every project, in four queries."""
    await authorize(actor, Action.ADMINISTER)
    documents = await SignableDocument.all().select_related("project").order_by("id")
    versions = await DocumentVersion.all().order_by("document_id", "number")
    signatures = await with_related(Signature.all(), "department", "signer").order_by("id")
    versions_of: dict[int, list[DocumentVersion]] = {}
    for v in versions:
        versions_of.setdefault(v.document_id, []).append(v)
    signatures_of: dict[int, list[Signature]] = {}
    for s in signatures:
        signatures_of.setdefault(s.document_id, []).append(s)
    findings = []
    for document in documents:
        altered, views = verify_signatures(
            document, versions_of.get(document.id, []), signatures_of.get(document.id, [])
        )
        broken = sum(1 for view in views if not view.integrity_ok)
        if altered or broken:
            findings.append(IntegrityFinding(document.project, document, altered, broken))
    return IntegrityReport(len(documents), len(signatures), findings)


async def alert_integrity_findings(findings: list[IntegrityFinding]) -> None:
    """An audit row and an email to every administrator, once per finding."""
    if not findings:
        return
    admins = await User.filter(is_admin=True, is_active=True)
    async with in_transaction():
        for finding in findings:
            document, project = finding.document, finding.project
            key = f"integrity:{document.id}:{finding.fingerprint}"
            await record(
                Actor.system(),
                action="document.integrity_failed",
                object_type="document",
                object_id=document.id,
                project_id=project.id,
                summary=f"{project.code} {document.kind.value}",
                after={
                    "alteredVersions": sorted(finding.altered_versions),
                    "brokenSignatures": finding.broken_signatures,
                },
            )
            for admin in admins:
                await queue_email(
                    recipient=admin,
                    template="integrity_alert",
                    dedup_key=f"{key}:{admin.id}",
                    project_id=project.id,
                    project=project,
                    document=document,
                    finding=finding,
                )
