"""What the sign-off pages and the API read: a document's state, who signs for which department,
and the charter's status line."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.auth import Action, Actor, authorize
from server.db import with_related
from server.errors import Forbidden, NotFound
from server.org.models import Department, User
from server.projects.models import (
    Project,
    ProjectMember,
    Role,
)
from server.projects.service import get_project, list_participating_departments
from server.signoffs import content
from server.signoffs.drafting import ensure_document
from server.signoffs.integrity import SignatureView, verify_signatures
from server.signoffs.models import (
    Decision,
    DocumentKind,
    DocumentStatus,
    DocumentVersion,
    SignableDocument,
    Signature,
    SigningDelegate,
)

# --- reading -----------------------------------------------------------------------------


@dataclass
class DocumentState:
    """Everything a page or a client shows about a document, read in a fixed few queries."""

    project: Project
    document: SignableDocument
    versions: list[DocumentVersion]
    signatures: list[SignatureView]
    required: list[Department]
    heads: dict[int, list[User]] = field(default_factory=dict)
    delegates: dict[int, User] = field(default_factory=dict)

    # Version numbers whose stored body no longer hashes to their stored content hash.
    altered_versions: frozenset[int] = frozenset()

    @property
    def integrity_ok(self) -> bool:
        return not self.altered_versions and all(s.integrity_ok for s in self.signatures)

    @property
    def current(self) -> DocumentVersion:
        return next(v for v in self.versions if v.number == self.document.current_number)

    @property
    def previous(self) -> DocumentVersion | None:
        older = [v for v in self.versions if v.number < self.document.current_number]
        return older[-1] if older else None

    @property
    def current_signatures(self) -> list[SignatureView]:
        return [s for s in self.signatures if s.number == self.document.current_number]

    def _approved_now(self) -> set[int]:
        if self.current.submitted_at is None or self.current.number in self.altered_versions:
            return set()
        return {
            s.department.id
            for s in self.current_signatures
            if s.signature.decision == Decision.APPROVE and s.integrity_ok
        }

    @property
    def missing(self) -> list[Department]:
        approved = self._approved_now()
        return [d for d in self.required if d.id not in approved]

    @property
    def is_fully_signed(self) -> bool:
        """Signed, and every signature still verifies against the stored text."""
        return self.document.status == DocumentStatus.SIGNED and self.integrity_ok

    @property
    def must_sign_again(self) -> list[Department]:
        """Departments that approved an older version but not this one."""
        earlier = {
            s.department.id
            for s in self.signatures
            if s.number < self.document.current_number and s.signature.decision == Decision.APPROVE
        }
        missing = {d.id for d in self.missing}
        return [d for d in self.required if d.id in earlier and d.id in missing]

    @property
    def diff(self) -> list[content.SectionDiff]:
        previous = self.previous
        if previous is None:
            return []
        return content.diff(self.document.kind, previous.body, self.current.body)


async def open_document(actor: Actor, *, project_id: int, kind: DocumentKind) -> SignableDocument:
    """The project's charter or confirmation; the first open drafts its first version from the
    project as it stands then (departments added before that appear in it)."""
    project = await get_project(actor, project_id=project_id)
    return await ensure_document(project, kind, actor.language)


async def get_document_by_id(actor: Actor, *, document_id: int) -> SignableDocument:
    """A document of a project the actor may see; anything else is not found."""
    document = await SignableDocument.get_or_none(id=document_id)
    if document is None:
        raise NotFound("No such document.", field="documentId")
    await get_project(actor, project_id=document.project_id)
    return document


async def signers_by_department(project_id: int) -> dict[int, list[User]]:
    """Who may sign for each department: its DEPARTMENT_HEAD members."""
    rows = await with_related(
        ProjectMember.filter(
            project_id=project_id, role=Role.DEPARTMENT_HEAD, left_at__isnull=True
        ),
        "user",
    )
    result: dict[int, list[User]] = {}
    for row in rows:
        result.setdefault(row.department_id, []).append(row.user)
    return result


async def delegates_by_department(project_id: int) -> dict[int, User]:
    rows = await with_related(SigningDelegate.filter(project_id=project_id), "delegate")
    return {row.department_id: row.delegate for row in rows}


async def document_state(actor: Actor, document: SignableDocument) -> DocumentState:
    project = await get_project(actor, project_id=document.project_id)
    versions = list(await DocumentVersion.filter(document_id=document.id).order_by("number"))
    signatures = await with_related(
        Signature.filter(document_id=document.id), "department", "signer"
    ).order_by("id")
    altered, views = verify_signatures(document, versions, signatures)
    required = (await list_participating_departments([project.id]))[project.id]
    if document.status == DocumentStatus.SIGNED:
        # A signed document keeps the departments it was signed by; one added later
        # signs the next version.
        signed_by = {s.department.id for s in views if s.number == document.current_number}
        required = [d for d in required if d.id in signed_by] or required
    return DocumentState(
        project=project,
        document=document,
        versions=versions,
        signatures=views,
        required=required,
        heads=await signers_by_department(project.id),
        delegates=await delegates_by_department(project.id),
        altered_versions=altered,
    )


async def signing_rights(actor: Actor, project: Project) -> tuple[set[int], set[int]]:
    """Departments the actor heads in this project, and those they were named delegate for."""
    if actor.user is None:
        return set(), set()
    headed = {
        dept for role, dept in await actor.roles_in(project.id) if role == Role.DEPARTMENT_HEAD
    }
    delegated = await SigningDelegate.filter(
        project_id=project.id, delegate_id=actor.user.id
    ).values_list("department_id", flat=True)
    return headed, {int(str(d)) for d in delegated}


async def departments_actor_signs_for(actor: Actor, project: Project) -> list[int]:
    """Departments the actor heads in this project, or was named delegate for."""
    headed, delegated = await signing_rights(actor, project)
    return sorted(headed | delegated)


async def may_edit(actor: Actor, project: Project) -> bool:
    try:
        await authorize_edit(actor, project)
    except Forbidden:
        return False
    return True


async def authorize_edit(actor: Actor, project: Project) -> None:
    """The PM, or the head of the initiating department."""
    await authorize(
        actor,
        Action.EDIT_DOCUMENTS,
        project,
        department_id=project.initiating_department_id,
    )


@dataclass
class CharterSummary:
    status: DocumentStatus
    number: int
    approved_department_ids: set[int]
    integrity_ok: bool = True


async def charter_summary(project_id: int) -> CharterSummary:
    """The charter's status line for the overview, without making the document (1–3 queries).
    Signatures of the current version are verified as everywhere else."""
    slot = f"{project_id}:{DocumentKind.CHARTER.value}"
    document = await SignableDocument.get_or_none(kind_slot=slot)
    if document is None:
        return CharterSummary(DocumentStatus.DRAFT, 1, set())
    current = await DocumentVersion.get(document_id=document.id, number=document.current_number)
    signatures = await with_related(
        Signature.filter(document_version_id=current.id), "department", "signer"
    )
    altered, views = verify_signatures(document, [current], list(signatures))
    approved = {
        v.department.id
        for v in views
        if v.signature.decision == Decision.APPROVE and v.integrity_ok
    }
    intact = not altered and all(v.integrity_ok for v in views)
    return CharterSummary(document.status, document.current_number, approved, intact)
