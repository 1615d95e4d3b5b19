"""Charter and collaboration confirmation pages: read, edit, send for signing, sign, export."""

from typing import Any
from urllib.parse import quote

from starlette.convertors import Convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.auth import Actor
from server.errors import Forbidden
from server.planning import queries as planning_queries
from server.projects.models import Project
from server.projects.service import get_project
from server.signoffs import content
from server.signoffs import exports as signoff_exports
from server.signoffs import queries as signoff_queries
from server.signoffs import service as signoffs
from server.signoffs import signers as signoff_signers
from server.signoffs.models import (
    KIND_SLUGS,
    SLUG_OF_KIND,
    DocumentKind,
    DocumentStatus,
)
from views.common import (
    Refusal,
    actor_of,
    form_data,
    language_of,
    optional_int,
    page,
    refusal,
    render,
)


class DocumentSlug(Convertor[str]):
    regex = "charter|confirmation"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


async def _document_page_state(
    request: Request,
) -> tuple[Actor, Project, signoff_queries.DocumentState]:
    actor = actor_of(request)
    project = await get_project(actor, code=request.path_params["code"])
    kind = KIND_SLUGS[request.path_params["slug"]]
    document = await signoff_queries.open_document(actor, project_id=project.id, kind=kind)
    return actor, project, await signoff_queries.document_state(actor, document)


async def _context(
    actor: Actor, project: Project, state: signoff_queries.DocumentState
) -> dict[str, Any]:
    signs_for = await signoff_queries.departments_actor_signs_for(actor, project)
    missing = {d.id for d in state.missing}
    return {
        "project": project,
        "state": state,
        "slug": SLUG_OF_KIND[state.document.kind],
        "sections": content.document_lines(state.document.kind, state.current.body),
        "generated_columns": content.generated_columns,
        "table_cells": content.table_cells,
        "may_edit": await signoff_queries.may_edit(actor, project),
        "may_sign": state.document.status == DocumentStatus.IN_SIGNING
        and bool(set(signs_for) & missing),
        "signs_for": [d for d in state.required if d.id in signs_for and d.id in missing],
        "headed": [d for d in state.required if actor.user and _heads(state, d.id, actor)],
        "short": content.short_hash,
        "charter_sections": content.CHARTER_SECTIONS,
        # Beside the signed milestone dates, what the schedule forecasts today (not signed).
        "milestone_reference": (
            await planning_queries.milestone_dates(project.id)
            if state.document.kind == DocumentKind.CHARTER
            else []
        ),
    }


def _heads(state: signoff_queries.DocumentState, department_id: int, actor: Actor) -> bool:
    return any(u.id == actor.user_id for u in state.heads.get(department_id, []))


@page
async def document(request: Request) -> Response:
    actor, project, state = await _document_page_state(request)
    context = await _context(actor, project, state)
    members = await _team(project)
    return render(request, "signoffs/document.html", errors={}, members=members, **context)


async def _team(project: Project) -> list[Any]:
    from server.projects.service import list_members

    return (await list_members([project.id]))[project.id]


@page
async def edit_form(request: Request) -> Response:
    actor, project, state = await _document_page_state(request)
    if not await signoff_queries.may_edit(actor, project):
        raise Forbidden("Your role in this project does not allow this.")
    context = await _context(actor, project, state)
    values = _form_values(state.document.kind, state.current.body)
    return render(request, "signoffs/edit.html", errors={}, values=values, **context)


def _form_values(kind: DocumentKind, body: dict[str, Any]) -> dict[str, str]:
    """The body as the edit form's text boxes (list sections one row per line)."""
    if kind is DocumentKind.COLLABORATION_CONFIRMATION:
        values = {}
        for entry in body.get("departments", []):
            for part in ("requirements", "resources"):
                values[f"{part}-{entry['departmentId']}"] = str(entry.get(part, ""))
        return values
    return {
        s.key: content.rows_text(body.get(s.key, []), s.columns)
        if s.columns
        else str(body.get(s.key, ""))
        for s in content.CHARTER_SECTIONS
    }


def _body_from_form(
    kind: DocumentKind, form: dict[str, str], state: signoff_queries.DocumentState
) -> dict[str, Any]:
    if kind is DocumentKind.COLLABORATION_CONFIRMATION:
        return {
            "departments": [
                {
                    "departmentId": d.id,
                    "requirements": form.get(f"requirements-{d.id}", ""),
                    "resources": form.get(f"resources-{d.id}", ""),
                }
                for d in state.required
            ]
        }
    return {
        s.key: content.parse_rows(form.get(s.key, ""), s.columns)
        if s.columns
        else form.get(s.key, "")
        for s in content.CHARTER_SECTIONS
    }


@page
async def revise(request: Request) -> Response:
    actor, project, state = await _document_page_state(request)
    form = await form_data(request)
    body = _body_from_form(state.document.kind, form, state)
    async with refusal(request) as refused:
        await signoffs.revise_document(
            actor,
            document_id=state.document.id,
            body=body,
            version=optional_int(form.get("version")) or 0,
        )
    if refused:
        state = await signoff_queries.document_state(actor, state.document)
        context = await _context(actor, project, state)
        values = {key: form.get(key, "") for key in _form_values(state.document.kind, body)}
        errors = refused.errors
        return render(
            request, "signoffs/edit.html", status_code=422, errors=errors, values=values, **context
        )
    return RedirectResponse(_url(project, state), status_code=303)


def _url(project: Project, state: signoff_queries.DocumentState, suffix: str = "") -> str:
    return f"/projects/{quote(project.code)}/{SLUG_OF_KIND[state.document.kind]}{suffix}"


async def _action_or_errors(
    request: Request,
    action: str,
    actor: Actor,
    project: Project,
    state: signoff_queries.DocumentState,
) -> Response:
    async with refusal(request) as refused:
        if action == "request":
            await signoffs.request_signatures(actor, document_id=state.document.id)
        else:
            await signoff_signers.remind_missing_signers(actor, document_id=state.document.id)
    return await _document_after(request, refused, actor, project, state)


async def _document_after(
    request: Request,
    refused: Refusal,
    actor: Actor,
    project: Project,
    state: signoff_queries.DocumentState,
) -> Response:
    """Back to the document; a refusal shows it again with the message on its field."""
    if not refused:
        return RedirectResponse(_url(project, state), status_code=303)
    context = await _context(actor, project, state)
    return render(
        request,
        "signoffs/document.html",
        status_code=422,
        errors=refused.errors,
        members=await _team(project),
        **context,
    )


@page
async def request_signatures(request: Request) -> Response:
    actor, project, state = await _document_page_state(request)
    return await _action_or_errors(request, "request", actor, project, state)


@page
async def remind(request: Request) -> Response:
    actor, project, state = await _document_page_state(request)
    return await _action_or_errors(request, "remind", actor, project, state)


@page
async def name_delegate(request: Request) -> Response:
    actor, project, state = await _document_page_state(request)
    form = await form_data(request)
    async with refusal(request) as refused:
        await signoff_signers.name_delegate(
            actor,
            project_id=project.id,
            department_id=optional_int(form.get("department_id")) or 0,
            user_id=optional_int(form.get("user_id")),
        )
    return await _document_after(request, refused, actor, project, state)


@page
async def sign_form(request: Request) -> Response:
    actor, project, state = await _document_page_state(request)
    context = await _context(actor, project, state)
    return render(request, "signoffs/sign.html", errors={}, comment="", **context)


@page
async def sign(request: Request) -> Response:
    actor, project, state = await _document_page_state(request)
    form = await form_data(request)
    async with refusal(request, shown_by_page=()) as refused:
        await signoffs.sign_document(
            actor,
            signoffs.SignInput(
                document_id=state.document.id,
                content_hash=form.get("content_hash", ""),
                decision=form.get("decision", ""),
                comment=form.get("comment", ""),
                department_id=optional_int(form.get("department_id")),
            ),
        )
    if refused:
        # A changed document is shown again as it is now, with what the signer typed.
        state = await signoff_queries.document_state(actor, state.document)
        context = await _context(actor, project, state)
        errors = refused.errors
        return render(
            request,
            "signoffs/sign.html",
            status_code=409 if refused.is_conflict else 422,
            errors=errors,
            comment=form.get("comment", ""),
            **context,
        )
    return RedirectResponse(_url(project, state), status_code=303)


# --- exports -------------------------------------------------------------------------------


@page
async def export_markdown(request: Request) -> Response:
    _actor, project, state = await _document_page_state(request)
    text = signoff_exports.document_markdown(state, language_of(request))
    return _download(text, state, "md", "text/markdown; charset=utf-8")


@page
async def export_docx(request: Request) -> Response:
    _actor, project, state = await _document_page_state(request)
    return _download(
        signoff_exports.document_docx(state, language_of(request)),
        state,
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )


def _download(
    body: str | bytes, state: signoff_queries.DocumentState, ext: str, media: str
) -> Response:
    name = signoff_exports.file_name(state, ext)
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
