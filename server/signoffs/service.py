"""Signable documents: versions bound by content hash, and department heads' signatures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import clock, domain_events
from server.audit.service import record
from server.auth import Action, Actor, Relation, authorize
from server.db import with_related
from server.domain_events import ConfirmationToBeSent, ProjectDepartmentsChanged, handles
from server.errors import Conflict, Invalid, stale
from server.notices.service import queue_email
from server.org.models import Department, User
from server.projects import lifecycle
from server.projects.models import (
    Project,
    ProjectDepartment,
    ProjectMember,
    Role,
)
from server.projects.service import list_participating_departments
from server.settings import get_settings
from server.signoffs import bodies, content
from server.signoffs.drafting import ensure_document
from server.signoffs.models import (
    SLUG_OF_KIND,
    Decision,
    DocumentKind,
    DocumentStatus,
    DocumentVersion,
    SignableDocument,
    Signature,
)
from server.signoffs.queries import (
    authorize_edit,
    delegates_by_department,
    get_document_by_id,
    signers_by_department,
    signing_rights,
)
from server.validation import Checks

# --- writing -----------------------------------------------------------------------------


async def write_report_body(
    actor: Actor, project: Project, kind: DocumentKind, body: dict[str, Any]
) -> tuple[SignableDocument, bool]:
    """Put a body generated elsewhere (the closing report's figures) into the project's
    document of that kind, made on first use; a body equal to the current one changes
    nothing. Inside the caller's transaction. Returns the document and whether it changed."""
    document = await ensure_document(project, kind, actor.language)
    document = await SignableDocument.filter(id=document.id).select_for_update().get()
    current = await DocumentVersion.get(document_id=document.id, number=document.current_number)
    cleaned = content.normalized(body)
    if content.normalized(current.body) == cleaned:
        return document, False
    await _store_revision(actor, project, document, current, cleaned)
    return document, True


async def _store_revision(
    actor: Actor,
    project: Project,
    document: SignableDocument,
    current: DocumentVersion,
    body: dict[str, Any],
) -> None:
    revised = await _write_version(document, current, body, actor.user_id)
    await record(
        actor,
        action="document.revise",
        object_type="signable_document",
        object_id=document.id,
        project_id=project.id,
        summary=f"{document.kind.value} v{revised.number}",
        after={"number": revised.number, "contentHash": revised.content_hash},
    )


async def locked_document(actor: Actor, document_id: int) -> tuple[SignableDocument, Project]:
    """The document, locked for this transaction (PostgreSQL; SQLite writers are serial)."""
    visible = await get_document_by_id(actor, document_id=document_id)
    document = await SignableDocument.filter(id=visible.id).select_for_update().get()
    project = await Project.get(id=document.project_id)
    return document, project


async def revise_document(
    actor: Actor, *, document_id: int, body: Any, version: int | None = None
) -> SignableDocument:
    """Save new content. A version in signing is never changed: the edit becomes a new
    draft version; a draft nobody was asked to sign yet is edited where it is."""
    async with in_transaction():
        document, project = await locked_document(actor, document_id)
        await authorize_edit(actor, project)
        if version is not None and version != document.version:
            raise stale(document.version)
        required = (await list_participating_departments([project.id]))[project.id]
        current = await DocumentVersion.get(document_id=document.id, number=document.current_number)
        cleaned = bodies.checked_body(document.kind, body, required, current.body)
        if content.normalized(current.body) == cleaned:
            raise Invalid(
                "Nothing changed: the content is the same as version %(number)s.",
                field="body",
                number=current.number,
            )
        await _store_revision(actor, project, document, current, cleaned)
    return document


async def _write_version(
    document: SignableDocument,
    current: DocumentVersion,
    body: dict[str, Any],
    author_id: int | None,
) -> DocumentVersion:
    """A draft nobody was asked to sign is changed where it is; a version in signing (or
    signed) never is: the change is the next version, and the heads sign again."""
    if current.submitted_at is None:
        current.body = body
        current.content_hash = content.content_hash(document.id, current.number, body)
        current.author_id = author_id
        await current.save()
        revised = current
    else:
        number = document.current_number + 1
        revised = await DocumentVersion.create(
            document=document,
            number=number,
            number_slot=f"{document.id}:{number}",
            body=body,
            content_hash=content.content_hash(document.id, number, body),
            author_id=author_id,
        )
        document.current_number = number
    document.status = DocumentStatus.DRAFT
    document.signed_at = None
    document.version += 1
    await document.save()
    return revised


async def write_generated_parts(
    project: Project, generated: dict[int, dict[str, str]], language: str
) -> None:
    """Put the parts generated from requirements and resources into the confirmation
    (inside the caller's transaction). Nothing happens when they are already there."""
    document = await ensure_document(project, DocumentKind.COLLABORATION_CONFIRMATION, language)
    document = await SignableDocument.filter(id=document.id).select_for_update().get()
    current = await DocumentVersion.get(document_id=document.id, number=document.current_number)
    body = content.normalized(current.body)
    entries = []
    for entry in body.get("departments", []):
        parts = generated.get(int(entry.get("departmentId", 0)), {})
        kept = {k: v for k, v in entry.items() if k not in content.GENERATED_PARTS}
        entries.append(kept | {p: parts[p] for p in content.GENERATED_PARTS if parts.get(p)})
    revised_body = content.normalized({**body, "departments": entries})
    if revised_body != body:
        await _store_revision(Actor.system(), project, document, current, revised_body)


async def request_signatures(actor: Actor, *, document_id: int) -> SignableDocument:
    """Send the current draft into signing and ask every required head by email."""
    async with in_transaction():
        document, project = await locked_document(actor, document_id)
        await authorize_edit(actor, project)
        current = await DocumentVersion.get(document_id=document.id, number=document.current_number)
        if current.submitted_at is not None:
            raise Invalid(
                "Version %(number)s is already out for signing; "
                "revise the document to start a new version.",
                field="documentId",
                number=current.number,
            )
        if document.kind is DocumentKind.COLLABORATION_CONFIRMATION:
            await domain_events.announce(ConfirmationToBeSent(project.id))
        required = (await list_participating_departments([project.id]))[project.id]
        heads = await signers_by_department(project.id)
        delegates = await delegates_by_department(project.id)
        headless = [d.name for d in required if not heads.get(d.id) and d.id not in delegates]
        if headless:
            raise Invalid(
                "These departments have no department head in the team directory "
                "to sign: %(names)s.",
                field="documentId",
                names="、".join(headless),
            )
        current.submitted_at = clock.now()
        await current.save()
        document.status = DocumentStatus.IN_SIGNING
        document.version += 1
        await document.save()
        await record(
            actor,
            action="document.request",
            object_type="signable_document",
            object_id=document.id,
            project_id=project.id,
            summary=f"{document.kind.value} v{current.number}",
            after={"number": current.number, "contentHash": current.content_hash},
        )
        for department in required:
            for signer in signers_of(department.id, heads, delegates):
                await tell_signer(
                    signer,
                    "signature_requested",
                    f"sign-request:{current.id}:{department.id}:{signer.id}",
                    project,
                    document,
                    current,
                    department,
                )
    return document


def signers_of(
    department_id: int, heads: dict[int, list[User]], delegates: dict[int, User]
) -> list[User]:
    people = list(heads.get(department_id, []))
    delegate = delegates.get(department_id)
    if delegate is not None and all(p.id != delegate.id for p in people):
        people.append(delegate)
    return people


async def tell_signer(
    signer: User,
    template: str,
    dedup_key: str,
    project: Project,
    document: SignableDocument,
    current: DocumentVersion,
    department: Department,
) -> None:
    """A head or delegate asked (or reminded) to sign one version for one department."""
    await queue_email(
        recipient=signer,
        template=template,
        dedup_key=dedup_key,
        project_id=project.id,
        project=project,
        document=document,
        number=current.number,
        short_hash=content.short_hash(current.content_hash),
        department=department,
        link=sign_link(project, document),
    )


def sign_link(project: Project, document: SignableDocument) -> str:
    return f"/projects/{project.code}/{SLUG_OF_KIND[document.kind]}/sign"


@dataclass
class SignInput:
    document_id: int
    content_hash: str
    decision: Decision | str
    comment: str = ""
    department_id: int | None = None


async def sign_document(actor: Actor, data: SignInput) -> SignableDocument:
    checks = Checks()
    try:
        decision = Decision(data.decision)
    except ValueError:
        checks.fail("decision", "Choose approve or reject.")
        decision = Decision.APPROVE
    comment = checks.text(
        "comment",
        data.comment,
        required=decision is Decision.REJECT,
        max_length=2000,
        multiline=True,
    )
    async with in_transaction():
        document, project = await locked_document(actor, data.document_id)
        department_id = await _department_signed_for(actor, project, data.department_id)
        # What the signer read is checked before anything else: a page opened on an older
        # version always hears that the document changed, and which version is current.
        current = await DocumentVersion.get(document_id=document.id, number=document.current_number)
        if data.content_hash.strip().lower() != current.content_hash:
            raise Conflict(
                "The document has changed since you opened it: version %(number)s (%(hash)s) is "
                "current. Read it and sign again.",
                field="contentHash",
                number=current.number,
                hash=content.short_hash(current.content_hash),
            )
        checks.done()
        _refuse_unless_in_signing(document)
        await _refuse_second_signature(project, current, department_id)
        signature = await _store_signature(
            actor, document, current, department_id, decision, comment
        )
        await record(
            actor,
            action="document.sign" if decision is Decision.APPROVE else "document.reject",
            object_type="signable_document",
            object_id=document.id,
            project_id=project.id,
            summary=f"{document.kind.value} v{current.number}",
            after={
                "departmentId": department_id,
                "decision": decision.value,
                "comment": comment,
                "contentHash": current.content_hash,
                "signatureId": signature.id,
            },
        )
        await _settle(document, project, current)
    return document


def _refuse_unless_in_signing(document: SignableDocument) -> None:
    if document.status == DocumentStatus.DRAFT:
        raise Invalid("This version has not been sent for signing yet.", field="documentId")
    if document.status == DocumentStatus.SIGNED:
        raise Invalid("This version is already signed by every department.", field="documentId")
    if document.status == DocumentStatus.REJECTED:
        raise Invalid("This version was rejected; it waits for a new version.", field="documentId")


async def _department_signed_for(actor: Actor, project: Project, wanted: int | None) -> int:
    """The department asked for, or else the only one the actor may sign for."""
    headed, delegated = await signing_rights(actor, project)
    if wanted is None and len(headed | delegated) > 1:
        raise Invalid("You sign for several departments; choose one.", field="departmentId")
    if wanted is None and headed | delegated:
        wanted = next(iter(headed | delegated))
    await authorize(
        actor,
        Action.SIGN_DOCUMENTS,
        project,
        department_id=wanted,
        relations=(Relation.SIGNING_DELEGATE,) if wanted in delegated else (),
        field="departmentId",
    )
    assert wanted is not None  # authorize refuses a signature for no department
    return wanted


async def _refuse_second_signature(
    project: Project, current: DocumentVersion, department_id: int
) -> None:
    if not await ProjectDepartment.filter(
        project_id=project.id, department_id=department_id
    ).exists():
        raise Invalid("This department does not take part in the project.", field="departmentId")
    if await Signature.filter(document_version_id=current.id, department_id=department_id).exists():
        raise Invalid(
            "Your department has already signed version %(number)s.",
            field="documentId",
            number=current.number,
        )


async def _store_signature(
    actor: Actor,
    document: SignableDocument,
    current: DocumentVersion,
    department_id: int,
    decision: Decision,
    comment: str,
) -> Signature:
    assert actor.user_id is not None
    # Whole seconds: the seal covers the time, and every database keeps seconds exactly.
    signed_at = clock.now().replace(microsecond=0)
    facts = content.SealedFacts(
        document_id=document.id,
        version_number=current.number,
        content_hash=current.content_hash,
        department_id=department_id,
        signer_id=actor.user_id,
        decision=decision.value,
        signed_at_epoch=int(signed_at.timestamp()),
    )
    try:
        return await Signature.create(
            document=document,
            document_version=current,
            department_id=department_id,
            signer_id=actor.user_id,
            decision=decision,
            comment=comment,
            content_hash=current.content_hash,
            slot=f"{current.id}:{department_id}",
            signed_at=signed_at,
            seal=content.signature_seal(get_settings().secret_key, facts),
        )
    except IntegrityError as error:
        raise Invalid(
            "Your department has already signed version %(number)s.",
            field="documentId",
            number=current.number,
        ) from error


async def _settle(document: SignableDocument, project: Project, current: DocumentVersion) -> None:
    """Move the status on after a signature; tell the PM and the signers once."""
    signatures = await Signature.filter(document_version_id=current.id).values(
        "department_id", "decision"
    )
    required = {
        int(str(d))
        for d in await ProjectDepartment.filter(project_id=project.id).values_list(
            "department_id", flat=True
        )
    }
    approved = {int(s["department_id"]) for s in signatures if s["decision"] == Decision.APPROVE}
    if any(s["decision"] == Decision.REJECT for s in signatures):
        status = DocumentStatus.REJECTED
    elif required <= approved:
        status = DocumentStatus.SIGNED
    else:
        return
    if document.status == status:
        return
    document.status = status
    document.signed_at = clock.now() if status == DocumentStatus.SIGNED else None
    document.version += 1
    await document.save()
    await _tell_outcome(document, project, current, status)
    if status == DocumentStatus.SIGNED and document.kind == DocumentKind.CHARTER:
        await lifecycle.activate_when_ready(project.id)


async def _tell_outcome(
    document: SignableDocument, project: Project, current: DocumentVersion, status: DocumentStatus
) -> None:
    managers = await ProjectMember.filter(
        project_id=project.id, role=Role.MANAGER, left_at__isnull=True
    ).values_list("user_id", flat=True)
    signers = await Signature.filter(document_version_id=current.id).values_list(
        "signer_id", flat=True
    )
    recipients = await User.filter(id__in={*managers, *signers}, is_active=True)
    signatures = await with_related(
        Signature.filter(document_version_id=current.id), "department", "signer"
    )
    for recipient in recipients:
        await queue_email(
            recipient=recipient,
            template="document_outcome",
            dedup_key=f"sign-outcome:{current.id}:{status.value}:{recipient.id}",
            project_id=project.id,
            project=project,
            document=document,
            status=status.value,
            number=current.number,
            short_hash=content.short_hash(current.content_hash),
            signatures=signatures,
            link=f"/projects/{project.code}/{SLUG_OF_KIND[document.kind]}",
        )


@handles(ProjectDepartmentsChanged)
async def settle_after_department_change(event: ProjectDepartmentsChanged) -> None:
    """A department left or joined: a document in signing may now be fully signed."""
    documents = await SignableDocument.filter(
        project_id=event.project_id, status=DocumentStatus.IN_SIGNING
    )
    if not documents:
        return
    project = await Project.get(id=event.project_id)
    for document in documents:
        current = await DocumentVersion.get(document_id=document.id, number=document.current_number)
        await _settle(document, project, current)
