"""Comments and attachments through the API: the threads under tasks, problems, risks,
meetings and requirements, and the writes (`uploadAttachment` follows the GraphQL multipart
request spec)."""

import datetime
from collections.abc import Sequence

import strawberry
from starlette.datastructures import UploadFile
from strawberry.dataloader import DataLoader
from strawberry.file_uploads import Upload
from strawberry.types import Info

from schema.common import (
    Connection,
    UserError,
    connection,
    decode_any,
    from_global_id,
    page_window,
    refusals_in_payload,
    to_global_id,
)
from schema.context import Context
from schema.org import Node, User
from server.discussion import service as discussion
from server.discussion.models import Attachment as AttachmentRow
from server.discussion.models import Comment as CommentRow
from server.discussion.models import SubjectKind
from server.errors import NotFound
from server.settings import get_settings

# The GraphQL type of each kind of subject, as its global ids name it.
SUBJECT_TYPES = {
    "Task": SubjectKind.TASK,
    "Problem": SubjectKind.PROBLEM,
    "Risk": SubjectKind.RISK,
    "Meeting": SubjectKind.MEETING,
    "Requirement": SubjectKind.REQUIREMENT,
}


@strawberry.type
class Comment(Node):
    body: str
    """The text as stored: mentions read `@[name](user:ID)`."""
    created_at: datetime.datetime
    edited_at: datetime.datetime | None
    withdrawn: bool
    version: int
    author_pk: strawberry.Private[int | None]
    mention_pks: strawberry.Private[list[int]]

    @classmethod
    def of(cls, row: CommentRow) -> "Comment":
        withdrawn = row.withdrawn_at is not None
        return cls(
            id=to_global_id("Comment", row.id),
            body="" if withdrawn else row.body,
            created_at=row.created_at,
            edited_at=row.edited_at,
            withdrawn=withdrawn,
            version=row.version,
            author_pk=row.author_id,
            mention_pks=list(row.mentions),
        )

    @strawberry.field
    async def author(self, info: Info[Context, None]) -> User | None:
        if self.author_pk is None:
            return None
        row = await info.context.users.load(self.author_pk)
        return User.of(row) if row else None

    @strawberry.field
    async def mentions(self, info: Info[Context, None]) -> list[User]:
        rows = await info.context.users.load_many(self.mention_pks)
        return [User.of(row) for row in rows if row is not None]


@strawberry.type
class Attachment(Node):
    file_name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime.datetime
    url: str
    uploader_pk: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: AttachmentRow, project_code: str) -> "Attachment":
        return cls(
            id=to_global_id("Attachment", row.id),
            file_name=row.file_name,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            created_at=row.created_at,
            url=f"{get_settings().base_url}/projects/{project_code}/attachments/{row.id}/"
            f"{row.file_name}",
            uploader_pk=row.uploaded_by_id,
        )

    @strawberry.field
    async def uploaded_by(self, info: Info[Context, None]) -> User | None:
        if self.uploader_pk is None:
            return None
        row = await info.context.users.load(self.uploader_pk)
        return User.of(row) if row else None


def _comment_loader(kind: SubjectKind) -> DataLoader[int, list[CommentRow]]:
    async def load(ids: Sequence[int]) -> list[list[CommentRow]]:
        found = await discussion.comments_for(kind, list(ids))
        return [found[i] for i in ids]

    return DataLoader(load)


def _attachment_loader(kind: SubjectKind) -> DataLoader[int, list[AttachmentRow]]:
    async def load(ids: Sequence[int]) -> list[list[AttachmentRow]]:
        found = await discussion.attachments_for(kind, list(ids))
        return [found[i] for i in ids]

    return DataLoader(load)


async def comments_of(
    info: Info[Context, None], kind: SubjectKind, pk: int, first: int | None, after: str | None
) -> Connection[Comment]:
    """A subject's comments, oldest first, as a connection (one query for every subject
    asked for in the request)."""
    offset, limit = page_window(first, after)
    loader = info.context.loader(f"comments:{kind.value}", lambda: _comment_loader(kind))
    rows = await loader.load(pk)
    return connection(
        [Comment.of(row) for row in rows[offset : offset + limit]], offset=offset, total=len(rows)
    )


async def attachments_of(info: Info[Context, None], kind: SubjectKind, pk: int) -> list[Attachment]:
    loader = info.context.loader(f"attachments:{kind.value}", lambda: _attachment_loader(kind))
    rows = await loader.load(pk)
    return [Attachment.of(row, row.project.code) for row in rows]


def _subject_pk(value: str) -> tuple[SubjectKind, int]:
    decoded = decode_any(value)
    if decoded is None or decoded[0] not in SUBJECT_TYPES:
        raise NotFound("Nothing to comment on here.", field="subjectId")
    return SUBJECT_TYPES[decoded[0]], decoded[1]


async def _subject(info: Info[Context, None], subject_id: str) -> discussion.Subject:
    kind, pk = _subject_pk(subject_id)
    return await discussion.get_subject(info.context.actor, kind=kind, subject_id=pk)


@strawberry.input
class AddCommentInput:
    subject_id: strawberry.ID
    body: str


@strawberry.input
class EditCommentInput:
    id: strawberry.ID
    version: int
    body: str


@strawberry.input
class WithdrawCommentInput:
    id: strawberry.ID
    version: int


@strawberry.input
class UploadAttachmentInput:
    subject_id: strawberry.ID
    file: Upload


@strawberry.type
class CommentPayload:
    comment: Comment | None
    errors: list[UserError]


@strawberry.type
class AttachmentPayload:
    attachment: Attachment | None
    errors: list[UserError]


@strawberry.type
class DiscussionMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def add_comment(
        self, info: Info[Context, None], input: AddCommentInput
    ) -> CommentPayload:
        actor = info.context.actor
        subject = await _subject(info, input.subject_id)
        row = await discussion.add_comment(actor, subject=subject, body=input.body)
        return CommentPayload(comment=Comment.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def edit_comment(
        self, info: Info[Context, None], input: EditCommentInput
    ) -> CommentPayload:
        row = await discussion.edit_comment(
            info.context.actor,
            comment_id=from_global_id(input.id, "Comment", field="id"),
            version=input.version,
            body=input.body,
        )
        return CommentPayload(comment=Comment.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def withdraw_comment(
        self, info: Info[Context, None], input: WithdrawCommentInput
    ) -> CommentPayload:
        row = await discussion.withdraw_comment(
            info.context.actor,
            comment_id=from_global_id(input.id, "Comment", field="id"),
            version=input.version,
        )
        return CommentPayload(comment=Comment.of(row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def upload_attachment(
        self, info: Info[Context, None], input: UploadAttachmentInput
    ) -> AttachmentPayload:
        actor = info.context.actor
        subject = await _subject(info, input.subject_id)
        # Starlette hands the file over as its UploadFile.
        sent: UploadFile = input.file  # type: ignore[assignment]
        data = await sent.read()
        row = await discussion.add_attachment(
            actor, subject=subject, file_name=sent.filename, data=data
        )
        return AttachmentPayload(attachment=Attachment.of(row, subject.project.code), errors=[])


@strawberry.interface
class Discussed:
    """An object people comment on and attach files to."""

    id: strawberry.ID

    @strawberry.field
    async def comments(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[Comment]:
        kind, pk = _subject_pk(self.id)
        return await comments_of(info, kind, pk, first, after)

    @strawberry.field
    async def attachments(self, info: Info[Context, None]) -> list[Attachment]:
        kind, pk = _subject_pk(self.id)
        return await attachments_of(info, kind, pk)
