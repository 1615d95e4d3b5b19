"""Comments with @mentions and attachments on tasks, problems, risks, meetings and
requirements: who may write them, the 15-minute edit window, withdrawal that keeps the words in
the audit log, and notices to the people mentioned (once each, through the outbox)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tortoise.models import Model
from tortoise.transactions import in_transaction

from server import clock, events, mentions
from server.audit.service import record, snapshot
from server.auth import Action, Actor, authorize, may
from server.db import with_related
from server.discussion import files, stores
from server.discussion.models import Attachment, Comment, SubjectKind
from server.errors import Forbidden, Invalid, NotFound, stale
from server.meetings.models import Meeting
from server.notices import preferences
from server.notices import service as notices
from server.notices.models import ChatRobot, NoticeKind
from server.org.models import User
from server.planning.models import Task
from server.projects.models import Project, ProjectMember
from server.projects.service import get_project
from server.requirements.models import Requirement
from server.risks.models import Problem, Risk
from server.settings import get_settings
from server.validation import Checks

EDIT_WINDOW = timedelta(minutes=15)
MAX_COMMENT = 5_000
SUBJECT_MODELS: dict[SubjectKind, type[Model]] = {
    SubjectKind.TASK: Task,
    SubjectKind.PROBLEM: Problem,
    SubjectKind.RISK: Risk,
    SubjectKind.MEETING: Meeting,
    SubjectKind.REQUIREMENT: Requirement,
}
# Where each subject is shown, under /projects/{code}/.
SUBJECT_PAGES = {
    SubjectKind.TASK: "tasks/{id}",
    SubjectKind.PROBLEM: "problems/{id}",
    SubjectKind.RISK: "risks/{id}",
    SubjectKind.MEETING: "meetings/{id}",
    SubjectKind.REQUIREMENT: "requirements/{id}",
}


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    id: int
    project: Project
    title: str
    department_id: int | None

    @property
    def path(self) -> str:
        page = SUBJECT_PAGES[self.kind].format(id=self.id)
        return f"/projects/{self.project.code}/{page}"

    @property
    def key(self) -> str:
        return f"{self.kind.value.lower()}:{self.id}"


@dataclass
class Thread:
    subject: Subject
    comments: list[Comment]
    attachments: list[Attachment]
    may_write: bool
    # Members by name, for the @ list of the comment box.
    people: list[dict[str, Any]] = field(default_factory=list)

    def editable(self, comment: Comment, actor: Actor) -> bool:
        return _may_still_edit(comment, actor)


def subject_kind(value: str | None, *, field_name: str = "subject") -> SubjectKind:
    try:
        return SubjectKind((value or "").upper())
    except ValueError:
        raise Invalid(
            "Comments are taken on tasks, problems, risks, meetings and requirements.",
            field=field_name,
        ) from None


async def get_subject(actor: Actor, *, kind: SubjectKind, subject_id: int) -> Subject:
    """The object, if the actor may see its project; a guessed id is simply not found."""
    model = SUBJECT_MODELS[kind]
    row = await model.filter(id=subject_id).first()
    if row is None:
        raise NotFound("Nothing to comment on here.", field="subjectId")
    project = await get_project(actor, project_id=row.project_id)  # type: ignore[attr-defined]
    title = getattr(row, "title", None) or getattr(row, "name", "")
    return Subject(kind, row.pk, project, str(title), getattr(row, "department_id", None))


async def get_thread(actor: Actor, *, subject: Subject) -> Thread:
    """The subject's comments and attachments in order, with their people: three queries."""
    where = {
        "project_id": subject.project.id,
        "subject_kind": subject.kind,
        "subject_id": subject.id,
    }
    comments, attachments, members = await asyncio.gather(
        with_related(Comment.filter(**where), "author"),
        with_related(Attachment.filter(**where), "uploaded_by"),
        with_related(
            ProjectMember.filter(project_id=subject.project.id, left_at__isnull=True), "user"
        ).order_by("user__name"),
    )
    may_write = await may(actor, Action.COMMENT, subject.project)
    people = {m.user_id: {"id": m.user_id, "name": m.user.name} for m in members}
    return Thread(subject, list(comments), list(attachments), may_write, list(people.values()))


async def _member_names(project_id: int) -> dict[str, int]:
    rows = await ProjectMember.filter(project_id=project_id, left_at__isnull=True).values_list(
        "user__name", "user_id"
    )
    return {str(name): int(user_id) for name, user_id in rows}


async def _checked_body(project: Project, body: str | None) -> tuple[str, list[int]]:
    checks = Checks()
    text = checks.text("body", body, max_length=MAX_COMMENT, multiline=True)
    checks.done()
    members = await _member_names(project.id)
    text = mentions.link_plain_mentions(text, members)
    member_ids = set(members.values())
    named = mentions.mentioned(text)
    outsiders = [m.name for m in named if m.user_id not in member_ids]
    if outsiders:
        raise Invalid(
            "%(names)s is not on this project's team and would not see the comment.",
            field="body",
            names="、".join(outsiders),
        )
    return text, [m.user_id for m in named]


async def add_comment(actor: Actor, *, subject: Subject, body: str | None) -> Comment:
    async with in_transaction():
        await authorize(actor, Action.COMMENT, subject.project)
        text, mentioned = await _checked_body(subject.project, body)
        comment = await Comment.create(
            project_id=subject.project.id,
            subject_kind=subject.kind,
            subject_id=subject.id,
            author_id=actor.user_id,
            body=text,
            mentions=mentioned,
            # The edit window counts from the one clock (the database's would ignore tests').
            created_at=clock.now(),
        )
        await _audit(actor, "comment.add", comment, subject)
        await _tell_mentioned(actor, comment, subject, mentioned)
    await events.publish("project", subject.project.id, "comment.added", commentId=comment.id)
    return comment


def _may_still_edit(comment: Comment, actor: Actor) -> bool:
    return (
        comment.author_id is not None
        and comment.author_id == actor.user_id
        and comment.withdrawn_at is None
        and clock.now() - comment.created_at <= EDIT_WINDOW
    )


async def _locked_own_comment(
    actor: Actor, comment_id: int, version: int
) -> tuple[Comment, Subject]:
    comment = await Comment.filter(id=comment_id).select_for_update().first()
    if comment is None:
        raise NotFound("No such comment.", field="commentId")
    subject = await get_subject(actor, kind=comment.subject_kind, subject_id=comment.subject_id)
    await authorize(actor, Action.COMMENT, subject.project)
    if comment.author_id != actor.user_id:
        raise Forbidden("Only its author may change a comment.")
    if comment.version != version:
        raise stale(comment.version)
    if comment.withdrawn_at is not None:
        raise Invalid("This comment was withdrawn.", field="commentId")
    return comment, subject


async def edit_comment(actor: Actor, *, comment_id: int, version: int, body: str | None) -> Comment:
    async with in_transaction():
        comment, subject = await _locked_own_comment(actor, comment_id, version)
        if not _may_still_edit(comment, actor):
            raise Invalid(
                "A comment can be edited for 15 minutes after it is posted; withdraw it "
                "or add another.",
                field="body",
            )
        before = snapshot(comment, COMMENT_FIELDS)
        text, mentioned = await _checked_body(subject.project, body)
        newly = [user_id for user_id in mentioned if user_id not in comment.mentions]
        comment.body = text
        comment.mentions = mentioned
        comment.edited_at = clock.now()
        comment.version += 1
        await comment.save()
        await _audit(actor, "comment.edit", comment, subject, before)
        await _tell_mentioned(actor, comment, subject, newly)
    await events.publish("project", subject.project.id, "comment.edited", commentId=comment.id)
    return comment


async def withdraw_comment(actor: Actor, *, comment_id: int, version: int) -> Comment:
    """The comment leaves the thread (its place says it was withdrawn); its words stay in the
    audit log, for whoever later asks what was said."""
    async with in_transaction():
        comment, subject = await _locked_own_comment(actor, comment_id, version)
        before = snapshot(comment, COMMENT_FIELDS)
        comment.withdrawn_at = clock.now()
        comment.version += 1
        await comment.save()
        await _audit(actor, "comment.withdraw", comment, subject, before)
    await events.publish("project", subject.project.id, "comment.withdrawn", commentId=comment.id)
    return comment


COMMENT_FIELDS = ["subject_kind", "subject_id", "body", "mentions", "withdrawn_at"]


async def _audit(
    actor: Actor,
    action: str,
    comment: Comment,
    subject: Subject,
    before: dict[str, Any] | None = None,
) -> None:
    await record(
        actor,
        action=action,
        object_type="comment",
        object_id=comment.id,
        project_id=subject.project.id,
        summary=subject.title,
        before=before,
        after=snapshot(comment, COMMENT_FIELDS),
    )


async def _tell_mentioned(
    actor: Actor, comment: Comment, subject: Subject, user_ids: list[int]
) -> None:
    """Each person mentioned is told once per comment: by mail where they have an address, and
    in the project's (or their department's) group chat with an @ on their mobile, so people
    without email hear of it too."""
    wanted = [uid for uid in user_ids if uid != actor.user_id]
    if not wanted:
        return
    people = await User.filter(id__in=wanted, deactivated_at__isnull=True)
    author = actor.user.name if actor.user else ""
    context: dict[str, object] = {
        "project": subject.project,
        "subject_title": subject.title,
        "author": author,
        "text": mentions.as_text(comment.body),
        "link": f"{get_settings().base_url}{subject.path}#comment-{comment.id}",
    }
    for person in people:
        if person.email:
            await notices.queue_email(
                recipient=person,
                template="mention",
                dedup_key=f"mention:c{comment.id}:u{person.id}",
                project_id=subject.project.id,
                context=context,
            )
    await _post_mentions_to_chats(comment, subject, people, context)


async def _post_mentions_to_chats(
    comment: Comment, subject: Subject, people: list[User], context: dict[str, object]
) -> None:
    departments = dict(
        await ProjectMember.filter(
            project_id=subject.project.id,
            user_id__in=[p.id for p in people],
            left_at__isnull=True,
        ).values_list("user_id", "department_id")
    )
    robots = await ChatRobot.filter(active=True).filter(
        project_id=subject.project.id
    ) + await ChatRobot.filter(
        active=True, project_id=None, department_id__in=list(set(departments.values()))
    )
    for robot in robots:
        reached = [
            p
            for p in people
            if p.mobile
            and preferences.wants_chat(p, NoticeKind.MENTIONS)
            and (robot.department_id is None or departments.get(p.id) == robot.department_id)
        ]
        if not reached:
            continue
        names = ",".join(str(p.id) for p in reached)
        await notices.queue_chat(
            robot=robot,
            template="mention",
            dedup_key=f"mention:c{comment.id}:r{robot.id}:u{names}",
            project_id=subject.project.id,
            mentions=[p.mobile for p in reached if p.mobile],
            names="、".join(p.name for p in reached),
            **context,
        )


async def add_attachment(
    actor: Actor, *, subject: Subject, file_name: str | None, data: bytes
) -> Attachment:
    """Keep the file (by content hash) and list it under the subject. The type comes from
    the bytes; the name is only shown."""
    await authorize(actor, Action.COMMENT, subject.project)
    checks = Checks()
    name = (
        checks.text("file", (file_name or "").replace("/", "_").replace("\\", "_"), max_length=200)
        or "file"
    )
    limit = get_settings().attachment_max_bytes
    if not data:
        checks.fail("file", "Choose a file to attach.")
    elif len(data) > limit:
        checks.fail("file", "A file may be at most %(size)s MB.", size=limit // (1024 * 1024))
    checks.done()
    sniffed = files.sniff(data)
    if sniffed is None:
        raise Invalid(
            "This kind of file cannot be attached: photos, PDF, office documents, archives "
            "and plain text can.",
            field="file",
        )
    sha = files.digest(data)
    store = stores.store_for(get_settings())
    has_preview = sniffed.content_type in files.PREVIEWED
    try:
        preview = await asyncio.to_thread(files.preview_of, data) if has_preview else b""
    except files.NotAnImage:
        raise Invalid("This image cannot be read; is the file damaged?", field="file") from None
    # Bytes first, row second: a crash between leaves an unlisted file, never a listed one
    # without its bytes (and the same upload again finds the file there).
    await asyncio.to_thread(store.put, sha, data)
    if has_preview:
        await asyncio.to_thread(store.put, sha, preview, preview=True)
    async with in_transaction():
        await authorize(actor, Action.COMMENT, subject.project)
        attachment = await Attachment.create(
            project_id=subject.project.id,
            subject_kind=subject.kind,
            subject_id=subject.id,
            uploaded_by_id=actor.user_id,
            file_name=name,
            content_type=sniffed.content_type,
            size=len(data),
            sha256=sha,
            has_preview=has_preview,
        )
        await record(
            actor,
            action="attachment.add",
            object_type="attachment",
            object_id=attachment.id,
            project_id=subject.project.id,
            summary=f"{subject.title}: {name}",
            after=snapshot(attachment, ["subject_kind", "subject_id", "file_name", "sha256"]),
        )
    await events.publish(
        "project", subject.project.id, "attachment.added", attachmentId=attachment.id
    )
    return attachment


async def get_attachment(actor: Actor, *, attachment_id: int) -> Attachment:
    """An attachment of a project the actor may see (NotFound otherwise, as for a missing one)."""
    attachment = await Attachment.filter(id=attachment_id).first()
    if attachment is None:
        raise NotFound("No such attachment.", field="attachmentId")
    await get_project(actor, project_id=attachment.project_id)
    return attachment


async def read_attachment(attachment: Attachment, *, preview: bool = False) -> bytes | None:
    """The bytes of an attachment the caller has found (through get_attachment)."""
    store = stores.store_for(get_settings())
    return await asyncio.to_thread(
        store.get, attachment.sha256, preview=preview and attachment.has_preview
    )


def local_file(attachment: Attachment, *, preview: bool = False) -> Path | None:
    """The file on this server's disk, when attachments are kept in the data folder."""
    store = stores.store_for(get_settings())
    return store.local_path(attachment.sha256, preview=preview and attachment.has_preview)


async def comments_for(kind: SubjectKind, subject_ids: list[int]) -> dict[int, list[Comment]]:
    """Comments of many subjects of one kind in one query (callers have scoped the subjects)."""
    rows = await with_related(
        Comment.filter(subject_kind=kind, subject_id__in=subject_ids), "author"
    )
    found: dict[int, list[Comment]] = {i: [] for i in subject_ids}
    for row in rows:
        found[row.subject_id].append(row)
    return found


async def attachments_for(kind: SubjectKind, subject_ids: list[int]) -> dict[int, list[Attachment]]:
    rows = await Attachment.filter(subject_kind=kind, subject_id__in=subject_ids).select_related(
        "project"
    )
    found: dict[int, list[Attachment]] = {i: [] for i in subject_ids}
    for row in rows:
        found[row.subject_id].append(row)
    return found


async def attachment_links(kind: SubjectKind, subject_ids: list[int]) -> dict[int, list[str]]:
    """Each subject's files as "name: address" lines, for exports people hand around (the
    address asks the reader to sign in, as the page does)."""
    base = get_settings().base_url
    found = await attachments_for(kind, subject_ids)
    return {
        subject_id: [
            f"{a.file_name}: {base}/projects/{a.project.code}/attachments/{a.id}/"
            f"{quote(a.file_name)}"
            for a in rows
        ]
        for subject_id, rows in found.items()
        if rows
    }


async def get_comment(actor: Actor, *, comment_id: int) -> Comment:
    comment = await with_related(Comment.filter(id=comment_id), "author").first()
    if comment is None:
        raise NotFound("No such comment.", field="commentId")
    await get_project(actor, project_id=comment.project_id)
    return comment
