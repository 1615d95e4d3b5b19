"""Signable documents (charter, collaboration confirmation) and signatures."""

import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.common import UserError, from_global_id, refusals_in_payload, to_global_id
from schema.context import Context
from schema.org import Department, Node, User
from server.signoffs import queries as signoff_queries
from server.signoffs import service as signoffs
from server.signoffs import signers as signoff_signers
from server.signoffs.models import Decision as DecisionValue
from server.signoffs.models import DocumentKind as DocumentKindValue
from server.signoffs.models import DocumentStatus as DocumentStatusValue
from server.signoffs.models import SignableDocument as DocumentRow

DocumentKind = strawberry.enum(DocumentKindValue, name="DocumentKind")
DocumentStatus = strawberry.enum(DocumentStatusValue, name="DocumentStatus")
Decision = strawberry.enum(DecisionValue, name="Decision")


@strawberry.type
class DocumentVersion:
    number: int
    content_hash: str
    short_hash: str
    body: JSON
    created_at: datetime.datetime
    submitted_at: datetime.datetime | None


@strawberry.type
class Signature:
    department: Department
    signer: User
    decision: Decision  # type: ignore[valid-type]
    comment: str
    content_hash: str
    version_number: int
    signed_at: datetime.datetime
    integrity_ok: bool = strawberry.field(
        description="The seal verifies and the signed hash is that of the stored body."
    )


@strawberry.type
class SignableDocument(Node):
    kind: DocumentKind  # type: ignore[valid-type]
    status: DocumentStatus  # type: ignore[valid-type]
    current_version: DocumentVersion
    versions: list[DocumentVersion]
    required_departments: list[Department]
    missing_departments: list[Department]
    must_sign_again: list[Department]
    signatures: list[Signature]
    is_fully_signed: bool
    version: int
    integrity_ok: bool = strawberry.field(
        description="Every version's hash recomputed from its body matches, every seal verifies."
    )

    @classmethod
    def of(cls, state: signoff_queries.DocumentState) -> "SignableDocument":
        versions = [
            DocumentVersion(
                number=v.number,
                content_hash=v.content_hash,
                short_hash=v.content_hash[:10],
                body=v.body,
                created_at=v.created_at,
                submitted_at=v.submitted_at,
            )
            for v in state.versions
        ]
        return cls(
            id=to_global_id("SignableDocument", state.document.id),
            kind=state.document.kind,
            status=state.document.status,
            current_version=next(v for v in versions if v.number == state.current.number),
            versions=versions,
            required_departments=[Department.of(d) for d in state.required],
            missing_departments=[Department.of(d) for d in state.missing],
            must_sign_again=[Department.of(d) for d in state.must_sign_again],
            signatures=[
                Signature(
                    department=Department.of(s.department),
                    signer=User.of(s.signer),
                    decision=s.signature.decision,
                    comment=s.signature.comment,
                    content_hash=s.signature.content_hash,
                    version_number=s.number,
                    signed_at=s.signature.signed_at,
                    integrity_ok=s.integrity_ok,
                )
                for s in state.signatures
            ],
            is_fully_signed=state.is_fully_signed,
            version=state.document.version,
            integrity_ok=state.integrity_ok,
        )


async def load_document(info: Info[Context, None], row: DocumentRow) -> SignableDocument:
    return SignableDocument.of(await signoff_queries.document_state(info.context.actor, row))


@strawberry.type
class DocumentPayload:
    document: SignableDocument | None
    errors: list[UserError]


@strawberry.input
class ReviseDocumentInput:
    document_id: strawberry.ID
    body: JSON
    version: int | None = None


@strawberry.input
class DocumentIdInput:
    document_id: strawberry.ID


@strawberry.input
class SignDocumentInput:
    document_id: strawberry.ID
    content_hash: str
    decision: Decision  # type: ignore[valid-type]
    comment: str | None = None
    department_id: strawberry.ID | None = None


@strawberry.input
class NameSigningDelegateInput:
    project_id: strawberry.ID
    department_id: strawberry.ID
    user_id: strawberry.ID | None = None


@strawberry.type
class SigningDelegatePayload:
    delegate: User | None
    errors: list[UserError]


def _document_pk(value: strawberry.ID) -> int:
    return from_global_id(value, "SignableDocument", field="documentId")


async def _payload(info: Info[Context, None], document_id: int) -> DocumentPayload:
    row = await signoff_queries.get_document_by_id(info.context.actor, document_id=document_id)
    return DocumentPayload(document=await load_document(info, row), errors=[])


@strawberry.type
class SignoffMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def revise_document(
        self, info: Info[Context, None], input: ReviseDocumentInput
    ) -> DocumentPayload:
        pk = _document_pk(input.document_id)
        await signoffs.revise_document(
            info.context.actor, document_id=pk, body=input.body, version=input.version
        )
        return await _payload(info, pk)

    @strawberry.mutation
    @refusals_in_payload
    async def request_signatures(
        self, info: Info[Context, None], input: DocumentIdInput
    ) -> DocumentPayload:
        pk = _document_pk(input.document_id)
        await signoffs.request_signatures(info.context.actor, document_id=pk)
        return await _payload(info, pk)

    @strawberry.mutation
    @refusals_in_payload
    async def sign_document(
        self, info: Info[Context, None], input: SignDocumentInput
    ) -> DocumentPayload:
        pk = _document_pk(input.document_id)
        department = (
            from_global_id(input.department_id, "Department", field="departmentId")
            if input.department_id
            else None
        )
        await signoffs.sign_document(
            info.context.actor,
            signoffs.SignInput(
                document_id=pk,
                content_hash=input.content_hash,
                decision=input.decision,
                comment=input.comment or "",
                department_id=department,
            ),
        )
        return await _payload(info, pk)

    @strawberry.mutation
    @refusals_in_payload
    async def remind_missing_signers(
        self, info: Info[Context, None], input: DocumentIdInput
    ) -> DocumentPayload:
        pk = _document_pk(input.document_id)
        await signoff_signers.remind_missing_signers(info.context.actor, document_id=pk)
        return await _payload(info, pk)

    @strawberry.mutation
    @refusals_in_payload
    async def name_signing_delegate(
        self, info: Info[Context, None], input: NameSigningDelegateInput
    ) -> SigningDelegatePayload:
        row = await signoff_signers.name_delegate(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
            department_id=from_global_id(input.department_id, "Department", field="departmentId"),
            user_id=from_global_id(input.user_id, "User", field="userId")
            if input.user_id
            else None,
        )
        delegate = await row.delegate if row is not None else None
        return SigningDelegatePayload(
            delegate=User.of(delegate) if delegate is not None else None, errors=[]
        )
