"""Who signs: named delegates, and reminders to the departments that have not signed yet."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from server import clock
from server.audit.service import record
from server.auth import Action, Actor, authorize
from server.errors import Invalid
from server.projects.models import (
    ProjectMember,
)
from server.projects.service import get_project
from server.signoffs.models import (
    DocumentStatus,
    SigningDelegate,
)
from server.signoffs.queries import authorize_edit, document_state
from server.signoffs.service import locked_document, signers_of, tell_signer


async def remind_missing_signers(actor: Actor, *, document_id: int) -> int:
    """One email per missing head, at most once a day per version and department."""
    async with in_transaction():
        document, project = await locked_document(actor, document_id)
        await authorize_edit(actor, project)
        if document.status != DocumentStatus.IN_SIGNING:
            raise Invalid(
                "Only a document out for signing has signers to remind.", field="documentId"
            )
        state = await document_state(actor, document)
        current = state.current
        day = clock.now().date().isoformat()
        queued = 0
        for department in state.missing:
            for signer in signers_of(department.id, state.heads, state.delegates):
                await tell_signer(
                    signer,
                    "signature_reminder",
                    f"sign-remind:{current.id}:{department.id}:{day}:{signer.id}",
                    project,
                    document,
                    current,
                    department,
                )
                queued += 1
        await record(
            actor,
            action="document.remind",
            object_type="signable_document",
            object_id=document.id,
            project_id=project.id,
            summary=f"{document.kind.value} v{current.number}",
            after={"departments": [d.id for d in state.missing]},
        )
    return queued


async def name_delegate(
    actor: Actor, *, project_id: int, department_id: int, user_id: int | None
) -> SigningDelegate | None:
    """A head names who signs for their department in this project (None: nobody)."""
    async with in_transaction():
        project = await get_project(actor, project_id=project_id)
        await authorize(
            actor,
            Action.NAME_SIGNING_DELEGATE,
            project,
            department_id=department_id,
            field="departmentId",
        )
        pair = f"{project.id}:{department_id}"
        await SigningDelegate.filter(pair=pair).delete()
        delegation = None
        if user_id is not None:
            if not await ProjectMember.filter(
                project_id=project.id, user_id=user_id, left_at__isnull=True
            ).exists():
                raise Invalid("The delegate must be on the project's team.", field="userId")
            delegation = await SigningDelegate.create(
                project=project,
                department_id=department_id,
                delegate_id=user_id,
                named_by_id=actor.user_id,
                pair=pair,
            )
        await record(
            actor,
            action="document.delegate",
            object_type="signing_delegate",
            object_id=delegation.id if delegation else 0,
            project_id=project.id,
            summary=str(user_id or ""),
            after={"departmentId": department_id, "userId": user_id},
        )
    return delegation
