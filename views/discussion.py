"""Comments and attachments under any object people work on (the thread fragment every
object page includes) and one attachment's bytes."""

from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from server.discussion import service as discussion
from server.discussion.files import SHOWN_INLINE
from server.discussion.models import SubjectKind
from server.discussion.service import Subject
from server.errors import NotFound
from server.projects import service as projects
from views.common import actor_of, form_data, is_htmx, optional_int, page, refusal, render

ATTACHMENT_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


async def thread_context(
    request: Request, kind: SubjectKind, subject_id: int, *, shown: Subject | None = None
) -> dict[str, Any]:
    """What `discussion/_thread.html` needs; object pages add it to their own context (passing
    the object they already read, so it is not read again)."""
    actor = actor_of(request)
    subject = shown or await discussion.get_subject(actor, kind=kind, subject_id=subject_id)
    if subject.project.code != request.path_params["code"].upper():
        raise NotFound("No such page.")
    thread = await discussion.get_thread(actor, subject=subject)
    return {"thread": thread, "actor": actor, "thread_errors": {}, "thread_values": {}}


def _subject_of(form: dict[str, str]) -> tuple[SubjectKind, int]:
    kind, _, subject_id = form.get("subject", "").partition(":")
    number = optional_int(subject_id)
    if number is None:
        raise NotFound("Nothing to comment on here.")
    return discussion.subject_kind(kind), number


async def _answer(
    request: Request, kind: SubjectKind, subject_id: int, refused: Any, form: dict[str, str]
) -> Response:
    """The thread again: swapped in place over htmx (with the refusal on its field), or back
    to the object's page; a refused post without JavaScript gets the thread on its own."""
    context = await thread_context(request, kind, subject_id)
    if refused:
        context.update(thread_errors=refused.errors, thread_values=form)
        status = 409 if refused.is_conflict else 400
        template = "discussion/_thread.html" if is_htmx(request) else "discussion/thread.html"
        return render(
            request,
            template,
            status_code=status,
            project=context["thread"].subject.project,
            **context,
        )
    if is_htmx(request):
        return render(
            request, "discussion/_thread.html", project=context["thread"].subject.project, **context
        )
    return RedirectResponse(context["thread"].subject.path + "#discussion", status_code=303)


@page
async def add_comment(request: Request) -> Response:
    actor = actor_of(request)
    form = await form_data(request)
    kind, subject_id = _subject_of(form)
    subject = await discussion.get_subject(actor, kind=kind, subject_id=subject_id)
    async with refusal(request) as refused:
        await discussion.add_comment(actor, subject=subject, body=form.get("body"))
    return await _answer(request, kind, subject_id, refused, form)


async def _own_comment_write(request: Request, withdraw: bool) -> Response:
    actor = actor_of(request)
    form = await form_data(request)
    kind, subject_id = _subject_of(form)
    comment_id = int(request.path_params["comment_id"])
    version = optional_int(form.get("version")) or 0
    async with refusal(request) as refused:
        if withdraw:
            await discussion.withdraw_comment(actor, comment_id=comment_id, version=version)
        else:
            await discussion.edit_comment(
                actor, comment_id=comment_id, version=version, body=form.get("body")
            )
    return await _answer(request, kind, subject_id, refused, form | {"comment": str(comment_id)})


@page
async def edit_comment(request: Request) -> Response:
    return await _own_comment_write(request, withdraw=False)


@page
async def withdraw_comment(request: Request) -> Response:
    return await _own_comment_write(request, withdraw=True)


@page
async def upload(request: Request) -> Response:
    actor = actor_of(request)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    kind, subject_id = _subject_of(fields)
    subject = await discussion.get_subject(actor, kind=kind, subject_id=subject_id)
    # The phone's camera button and the file button are two inputs; one of them was used.
    chosen = [
        f for f in (form.get("photo"), form.get("file")) if isinstance(f, UploadFile) and f.size
    ]
    async with refusal(request) as refused:
        data = await chosen[0].read() if chosen else b""
        name = chosen[0].filename if chosen else None
        await discussion.add_attachment(actor, subject=subject, file_name=name, data=data)
    await form.close()
    return await _answer(request, kind, subject_id, refused, fields)


@page
async def attachment(request: Request) -> Response:
    """The file, only to people of its project. Pages show photos and PDFs in place; everything
    else downloads. The browser is told not to guess another type."""
    actor = actor_of(request)
    found = await discussion.get_attachment(
        actor, attachment_id=int(request.path_params["attachment_id"])
    )
    project = await projects.get_project(actor, project_id=found.project_id)
    if project.code != request.path_params["code"].upper():
        raise NotFound("No such attachment.")
    preview = request.query_params.get("preview") == "1" and found.has_preview
    inline = found.content_type in SHOWN_INLINE
    disposition = "inline" if inline else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(found.file_name)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=86400",
        # A PDF or image opened on its own gets no scripts and no forms of ours.
        "Content-Security-Policy": ATTACHMENT_POLICY,
    }
    media_type = "image/jpeg" if preview else found.content_type
    path = discussion.local_file(found, preview=preview)
    if path is not None:
        return FileResponse(path, media_type=media_type, headers=headers)
    data = await discussion.read_attachment(found, preview=preview)
    if data is None:
        raise NotFound("The file is missing from the server's storage.")
    return Response(data, media_type=media_type, headers=headers)
