"""Step 7 as pages: the change log, one change request with its edits, computed impact and
approvals, and the approver's one-tap decision."""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server import i18n
from server.auth import Action, may
from server.changes import approvals as change_approvals
from server.changes import charter as change_charter
from server.changes import exports as change_exports
from server.changes import queries as change_queries
from server.changes import service as changes
from server.changes.models import (
    CHANGE_KIND_LABELS,
    ApprovalDecision,
    ChangeApproval,
    ChangeKind,
    ChangeRequest,
)
from server.errors import Forbidden
from server.planning import queries as planning_queries
from server.projects import service as projects
from server.projects.models import Project
from server.sheets import XLSX_MEDIA_TYPE
from server.templating import render as render_template
from views.common import actor_of, form_data, language_of, optional_int, page, refusal, render

EDIT_FIELDS = ("task_id", "name", "planned_start", "duration_days", "owner_id", "department_id",
               "predecessor", "successor", "type", "lag", "key", "parent_id", "section",
               "value", "resource_id", "quantity", "amount", "needed_by")  # fmt: skip


async def _departments_i_ask_for(request: Request, project: Project) -> list[Any]:
    actor = actor_of(request)
    departments = (await projects.list_participating_departments([project.id]))[project.id]
    return [
        d
        for d in departments
        if await may(actor, Action.REQUEST_CHANGES, project, department_id=d.id)
    ]


async def _log_context(request: Request) -> dict[str, Any]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    return {
        "project": project,
        "requests": await change_queries.list_change_requests(project.id),
        "ask_for": await _departments_i_ask_for(request, project),
        "kinds": [(k.value, CHANGE_KIND_LABELS[k]) for k in ChangeKind],
        "thresholds": changes.thresholds_of(project),
        "may_set_thresholds": await may(actor, Action.EDIT_PROJECT, project),
        "errors": {},
        "values": {},
        "failed": "",
    }


@page
async def set_thresholds(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    async with refusal(request) as refused:
        await changes.set_change_thresholds(
            actor,
            project_id=project.id,
            version=optional_int(form.get("version")) or 0,
            finish_days=form.get("finish_days"),
            cost=form.get("cost"),
        )
    if not refused:
        return RedirectResponse(f"/projects/{project.code}/changes", 303)
    context = await _log_context(request)
    context.update(errors=refused.errors, values=form, failed="thresholds")
    status = 409 if refused.is_conflict else 400
    return render(request, "changes/log.html", status_code=status, **context)


@page
async def change_log(request: Request) -> Response:
    return render(request, "changes/log.html", **await _log_context(request))


def _input(form: dict[str, str], edits: list[dict[str, Any]] | None = None) -> changes.ChangeInput:
    return changes.ChangeInput(
        title=form.get("title"),
        reason=form.get("reason"),
        kind=form.get("kind"),
        requester_department_id=optional_int(form.get("requester_department_id")),
        edits=edits or [],
        cost_delta=form.get("cost_delta"),
        impact_notes=form.get("impact_notes"),
        rebaseline=form.get("rebaseline") == "on",
    )


@page
async def draft(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    async with refusal(request) as refused:
        created = await changes.draft_change_request(
            actor, project_id=project.id, data=_input(form)
        )
    if not refused:
        return RedirectResponse(f"/projects/{project.code}/changes/{created.number}", 303)
    context = await _log_context(request)
    context.update(errors=refused.errors, values=form)
    return render(request, "changes/log.html", status_code=400, **context)


async def _request_context(request: Request) -> dict[str, Any]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    number = int(request.path_params["number"])
    change = await change_queries.by_number(project, number)
    if (await changes.refresh_impact(change)).version != change.version:
        change = await change_queries.by_number(project, number)  # with its relations
    tasks = (await planning_queries.list_tasks([project.id]))[project.id]
    parents = {t.parent_id for t in tasks if t.parent_id}
    choices = await change_queries.edit_choices(project.id)
    may_edit = change.status in changes.OPEN and await _may_author(request, project, change)
    return {
        "project": project,
        "change": change,
        "approvals": await change_queries.approvals_of(actor, project, change),
        "names": {t.id: f"{t.wbs_code} {t.name}" for t in tasks}
        | {key: name for key, name in _new_names(change).items()},
        "leaves": [t for t in tasks if t.id not in parents],
        "phases": [t for t in tasks if t.id in parents],
        "links": choices.links,
        "departments": (await projects.list_participating_departments([project.id]))[project.id],
        "members": (await projects.list_members([project.id]))[project.id],
        "kinds": [(k.value, CHANGE_KIND_LABELS[k]) for k in ChangeKind],
        "ask_for": await _departments_i_ask_for(request, project),
        "may_edit": may_edit,
        "needs_management": changes.needs_management(project, change),
        "new_index": len(change.edits),
        "charter_labels": change_charter.LABELS,
        # Rows come back from PostgreSQL's JSON with their keys reordered.
        "charter_columns": change_charter.COLUMNS,
        "resources": choices.resources,
        "resource_names": {q.id: q.description for q in choices.resources},
        "errors": {},
        "values": {},
        "failed": "",
    }


def _new_names(change: ChangeRequest) -> dict[str, str]:
    return {e["key"]: e["name"] for e in change.edits if e["op"] == "add_task"}


async def _may_author(request: Request, project: Project, change: ChangeRequest) -> bool:
    try:
        await changes.authorize_author(actor_of(request), project, change)
    except Forbidden:
        return False
    return True


@page
async def change_page(request: Request) -> Response:
    return render(request, "changes/request.html", **await _request_context(request))


async def _answer(request: Request, refused: Any, form: dict[str, str], failed: str) -> Response:
    code, number = request.path_params["code"], request.path_params["number"]
    if not refused:
        return RedirectResponse(f"/projects/{code}/changes/{number}", status_code=303)
    context = await _request_context(request)
    context.update(errors=refused.errors, values=form, failed=failed)
    status = 409 if refused.is_conflict else 400
    return render(request, "changes/request.html", status_code=status, **context)


async def _current(request: Request) -> ChangeRequest:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    return await change_queries.by_number(project, int(request.path_params["number"]))


def _as_input(change: ChangeRequest) -> changes.ChangeInput:
    return changes.ChangeInput(
        title=change.title,
        reason=change.reason,
        kind=str(change.kind),
        requester_department_id=change.requester_department_id,
        edits=list(change.edits),
        cost_delta=change.cost_delta,
        impact_notes=change.impact_notes,
        named_department_ids=list(change.named_department_ids),
        rebaseline=change.rebaseline,
    )


def _edit_of(form: dict[str, str]) -> dict[str, Any]:
    edit: dict[str, Any] = {"op": form.get("op", "")}
    for name in EDIT_FIELDS:
        if form.get(name) not in (None, ""):
            edit[name] = form[name]
    if form.get("link") and ":" in form["link"]:
        edit["predecessor"], edit["successor"] = form["link"].split(":", 1)
    edit["cancel"] = form.get("cancel") == "on"
    edit["is_milestone"] = form.get("is_milestone") == "on"
    return edit


@page
async def add_edit(request: Request) -> Response:
    change = await _current(request)
    form = await form_data(request)
    async with refusal(request) as refused:
        data = _as_input(change)
        await changes.update_change_request(
            actor_of(request),
            request_id=change.id,
            version=optional_int(form.get("version")) or 0,
            data=replace(data, edits=[*data.edits, _edit_of(form)]),
        )
    return await _answer(request, refused, form, form.get("op", ""))


@page
async def remove_edit(request: Request) -> Response:
    change = await _current(request)
    form = await form_data(request)
    index = int(request.path_params["index"])
    async with refusal(request) as refused:
        data = _as_input(change)
        kept = [e for n, e in enumerate(data.edits) if n != index]
        await changes.update_change_request(
            actor_of(request),
            request_id=change.id,
            version=optional_int(form.get("version")) or 0,
            data=replace(data, edits=kept),
        )
    return await _answer(request, refused, form, "edits")


@page
async def update_details(request: Request) -> Response:
    change = await _current(request)
    form = await form_data(request)
    async with refusal(request) as refused:
        await changes.update_change_request(
            actor_of(request),
            request_id=change.id,
            version=optional_int(form.get("version")) or 0,
            data=replace(_input(form, list(change.edits)), named_department_ids=[
                int(str(v)) for v in (await request.form()).getlist("named_department_ids")
                if str(v).isdigit()
            ]),
        )  # fmt: skip
    return await _answer(request, refused, form, "details")


async def _move(request: Request, move: Any) -> Response:
    """Submit or withdraw: one call with the request's version, errors above the buttons."""
    change = await _current(request)
    form = await form_data(request)
    async with refusal(request) as refused:
        await move(
            actor_of(request), request_id=change.id, version=optional_int(form.get("version")) or 0
        )
    return await _answer(request, refused, form, "submit")


@page
async def submit(request: Request) -> Response:
    return await _move(request, change_approvals.submit_change_request)


@page
async def withdraw(request: Request) -> Response:
    return await _move(request, changes.withdraw_change_request)


@page
async def decide(request: Request) -> Response:
    change = await _current(request)
    form = await form_data(request)
    async with refusal(request) as refused:
        await change_approvals.decide_change_request(
            actor_of(request),
            request_id=change.id,
            data=change_approvals.DecisionInput(
                decision=form.get("decision", ""),
                content_hash=form.get("content_hash", ""),
                comment=form.get("comment"),
            ),
        )
    return await _answer(request, refused, form, "decide")


@page
async def change_log_xlsx(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    rows = await change_queries.list_change_requests(project.id)
    name = change_exports.log_file_name(project)
    return Response(
        change_exports.change_log_xlsx(project, rows, language_of(request), project.time_zone),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _words(fragment: str) -> str:
    """An HTML fragment's text on one line (the Word file is not HTML)."""
    return html.unescape(" ".join(fragment.split()))


def _decision_words(approval: ChangeApproval) -> str:
    decided = "Approved" if approval.decision == ApprovalDecision.APPROVE else "Rejected"
    who = approval.user.name if approval.user else ""
    return f"{i18n.gettext(decided)} · {who} {approval.comment}".strip()


@page
async def change_docx(request: Request) -> Response:
    context = await _request_context(request)
    language = language_of(request)
    change: ChangeRequest = context["change"]
    edits = [
        html.unescape(
            " ".join(render_template("changes/_edit_words.html", language, e=e, **context).split())
        )
        for e in change.edits
    ]
    with i18n.speaking(language):
        approvers = [
            (
                i18n.gettext("Project manager")
                if a.is_pm
                else i18n.gettext("Management")
                if a.is_management
                else (a.department.name if a.department else a.slot),
                _decision_words(a.approval) if a.approval else i18n.gettext("waiting"),
            )
            for a in context["approvals"].approvers
        ]
    project = context["project"]
    name = change_exports.request_file_name(project, change)
    return Response(
        change_exports.request_docx(project, change, edits, approvers, language),
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
