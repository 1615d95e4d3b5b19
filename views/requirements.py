"""Step 3 as pages: the requirements list (file, edit, review, conflicts), the resource
requests (file, commit or decline, resolve gaps), management's phone page for a gap, and
the two Excel lists. Every form works without JavaScript: post, then back to the list."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server import clock
from server.auth import Action, Actor, may
from server.discussion.models import SubjectKind
from server.errors import NotFound
from server.projects import service as projects
from server.projects.models import Project
from server.requirements import exports as requirement_exports
from server.requirements import queries as requirement_queries
from server.requirements import resources as resource_service
from server.requirements import service as requirement_service
from server.requirements.models import (
    GapResolution,
    Priority,
    RequirementStatus,
    ResourceKind,
    ResourceStatus,
)
from views.common import actor_of, form_data, language_of, optional_int, page, refusal, render
from views.discussion import thread_context

PAGE_SIZE = 200


def _filter(request: Request) -> requirement_queries.ListFilter:
    return requirement_queries.ListFilter(
        department_id=optional_int(request.query_params.get("department")),
        status=request.query_params.get("status") or None,
    )


async def _may_file_for(actor: Actor, project: Project, departments: list[Any]) -> list[Any]:
    return [
        d
        for d in departments
        if await may(actor, Action.FILE_REQUIREMENTS, project, department_id=d.id)
    ]


async def _common(request: Request) -> tuple[Actor, Project, list[Any], dict[str, Any]]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    departments = (await projects.list_participating_departments([project.id]))[project.id]
    context = {
        "project": project,
        "departments": departments,
        "file_departments": await _may_file_for(actor, project, departments),
        "wanted": _filter(request),
        "may_review": await may(actor, Action.REVIEW_REQUIREMENTS, project),
        "query": urlencode(
            [(k, v) for k, v in request.query_params.multi_items() if k in ("department", "status")]
        ),
    }
    return actor, project, departments, context


# --- requirements -------------------------------------------------------------------------------


async def _requirements_context(request: Request) -> dict[str, Any]:
    actor, project, departments, context = await _common(request)
    rows, total = await requirement_queries.list_requirements(
        project.id, context["wanted"], limit=PAGE_SIZE
    )
    all_open = await requirement_queries.list_requirements(
        project.id, requirement_queries.ListFilter(status=RequirementStatus.FILED.value)
    )
    return context | {
        "requirements": rows,
        "total": total,
        "conflicts": await requirement_queries.open_conflicts(project.id),
        "open_requirements": all_open[0],
        "merge_targets": await requirement_queries.merge_targets(project.id),
        "editable_departments": {d.id for d in context["file_departments"]},
        "priorities": [p.value for p in Priority],
        "statuses": [s.value for s in RequirementStatus],
    }


@page
async def requirements_page(request: Request) -> Response:
    context = await _requirements_context(request)
    return render(
        request, "requirements/requirements.html", errors={}, values={}, failed="", **context
    )


Write = Callable[[Actor, Project, dict[str, str]], Awaitable[object]]


@dataclass(frozen=True)
class _ListPage:
    """Where a step-3 form lives: its page's template, how to read that page, and the list
    to go back to."""

    template: str
    context: Callable[[Request], Awaitable[dict[str, Any]]]
    back_to: str


def _write(shown_on: _ListPage, failed: Callable[[Request], str]) -> Callable[[Write], Any]:
    """A POST from a step-3 page: back to its list (or to the meeting it came from), or the
    page again with the errors on the form that was sent."""

    def decorator(write: Write) -> Any:
        @page
        async def handler(request: Request) -> Response:
            actor = actor_of(request)
            code = request.path_params["code"]
            project = await projects.get_project(actor, code=code)
            form = await form_data(request)
            for name in ("requirement_id", "conflict_id", "request_id"):
                if name in request.path_params:
                    form["_id"] = str(request.path_params[name])
            async with refusal(request) as refused:
                await write(actor, project, form)
            if not refused:
                back = form.get("back_to_meeting")
                meeting = f"/projects/{code}/meetings/{back}" if back and back.isdigit() else None
                return RedirectResponse(meeting or f"/projects/{code}/{shown_on.back_to}", 303)
            return render(
                request,
                shown_on.template,
                status_code=409 if refused.is_conflict else 400,
                errors=refused.errors,
                values={} if refused.is_conflict else form,
                failed=failed(request),
                **await shown_on.context(request),
            )

        return handler

    return decorator


REQUIREMENTS = _ListPage("requirements/requirements.html", _requirements_context, "requirements")


def _requirement_input(form: dict[str, str]) -> requirement_service.RequirementInput:
    return requirement_service.RequirementInput(
        department_id=optional_int(form.get("department_id")),
        title=form.get("title"),
        description=form.get("description"),
        priority=form.get("priority") or None,
        asked_of_id=optional_int(form.get("asked_of_id")),
        acceptance_criterion=form.get("acceptance_criterion"),
        needed_by=form.get("needed_by"),
    )


@_write(REQUIREMENTS, lambda request: "new")
async def file_requirement(actor: Actor, project: Project, form: dict[str, str]) -> object:
    return await requirement_service.file_requirement(
        actor, project_id=project.id, data=_requirement_input(form)
    )


def _row(request: Request) -> str:
    return f"r{request.path_params['requirement_id']}"


@_write(REQUIREMENTS, _row)
async def update_requirement(actor: Actor, project: Project, form: dict[str, str]) -> object:
    data = _requirement_input(form)
    data.department_id = None
    return await requirement_service.update_requirement(
        actor,
        requirement_id=int(form["_id"]),
        version=optional_int(form.get("version")) or 0,
        data=data,
    )


@_write(REQUIREMENTS, _row)
async def review_requirement(actor: Actor, project: Project, form: dict[str, str]) -> object:
    return await requirement_service.review_requirement(
        actor,
        requirement_id=int(form["_id"]),
        version=optional_int(form.get("version")) or 0,
        data=requirement_service.ReviewInput(
            decision=form.get("decision"),
            reason=form.get("reason"),
            merge_into_id=optional_int(form.get("merge_into_id")),
            meeting_id=optional_int(form.get("back_to_meeting")),
        ),
    )


@_write(REQUIREMENTS, lambda request: "conflict")
async def flag_conflict(actor: Actor, project: Project, form: dict[str, str]) -> object:
    first = optional_int(form.get("first_id"))
    if first is None:
        raise NotFound("No such requirement.", field="firstId")
    return await requirement_service.flag_conflict(
        actor,
        first_id=first,
        second_id=optional_int(form.get("second_id")) or 0,
        note=form.get("note"),
    )


@_write(REQUIREMENTS, lambda request: f"c{request.path_params['conflict_id']}")
async def resolve_conflict(actor: Actor, project: Project, form: dict[str, str]) -> object:
    return await requirement_service.resolve_conflict(
        actor,
        conflict_id=int(form["_id"]),
        version=optional_int(form.get("version")) or 0,
        decision=form.get("decision"),
    )


@page
async def requirements_xlsx(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    rows, _ = await requirement_queries.list_requirements(project.id, _filter(request))
    return _xlsx(
        requirement_exports.requirements_xlsx(project, rows, language_of(request)),
        f"{project.code}-requirements.xlsx",
    )


def _xlsx(body: bytes, name: str) -> Response:
    return Response(
        body,
        media_type=requirement_exports.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- resource requests --------------------------------------------------------------------------


async def _resources_context(request: Request) -> dict[str, Any]:
    actor, project, departments, context = await _common(request)
    rows, total = await requirement_queries.list_requests(
        project.id, context["wanted"], limit=PAGE_SIZE
    )
    commit_for = {
        d.id
        for d in departments
        if await may(actor, Action.COMMIT_RESOURCES, project, department_id=d.id)
    }
    return context | {
        "requests": rows,
        "total": total,
        "commit_for": commit_for,
        "may_commit_budget": await may(actor, Action.EDIT_PROJECT, project),
        "may_resolve": await may(actor, Action.RESOLVE_GAPS, project),
        "may_decide": await may(actor, Action.DECIDE_GAPS, project),
        "today": clock.local_today(project),
        "kinds": [k.value for k in ResourceKind],
        "statuses": [s.value for s in ResourceStatus] + ["OPEN", "AWAITING_MANAGEMENT"],
        "resolutions": [r.value for r in GapResolution],
    }


@page
async def resources_page(request: Request) -> Response:
    context = await _resources_context(request)
    return render(
        request, "requirements/resources.html", errors={}, values={}, failed="", **context
    )


RESOURCES = _ListPage("requirements/resources.html", _resources_context, "resources")


def _resource_input(form: dict[str, str]) -> resource_service.ResourceInput:
    return resource_service.ResourceInput(
        department_id=optional_int(form.get("department_id")),
        kind=form.get("kind") or None,
        description=form.get("description"),
        quantity=form.get("quantity"),
        unit=form.get("unit"),
        amount=form.get("amount"),
        needed_by=form.get("needed_by"),
        supplier_id=optional_int(form.get("supplier_id")),
        own_budget=form.get("supplier_id") == "",
    )


def _request_row(request: Request) -> str:
    return f"q{request.path_params['request_id']}"


@_write(RESOURCES, lambda request: "new")
async def file_request(actor: Actor, project: Project, form: dict[str, str]) -> object:
    return await resource_service.file_request(
        actor, project_id=project.id, data=_resource_input(form)
    )


@_write(RESOURCES, _request_row)
async def decide_request(actor: Actor, project: Project, form: dict[str, str]) -> object:
    return await resource_service.commit_resource(
        actor,
        request_id=int(form["_id"]),
        version=optional_int(form.get("version")) or 0,
        commit=form.get("decision") == "COMMIT",
        comment=form.get("comment"),
    )


@_write(RESOURCES, _request_row)
async def resolve_gap(actor: Actor, project: Project, form: dict[str, str]) -> object:
    return await resource_service.resolve_gap(
        actor,
        request_id=int(form["_id"]),
        version=optional_int(form.get("version")) or 0,
        data=resource_service.GapInput(
            resolution=form.get("resolution"),
            note=form.get("note"),
            from_department_id=optional_int(form.get("from_department_id")),
        ),
    )


async def _decide_context(request: Request) -> dict[str, Any]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    gap = await resource_service.get_request(
        actor, request_id=int(request.path_params["request_id"])
    )
    if gap.project_id != project.id:
        raise NotFound("No such resource request.")
    await gap.fetch_related("department", "supplier")
    return {
        "project": project,
        "gap": gap,
        "may_decide": await may(actor, Action.DECIDE_GAPS, project),
    }


GAP_DECISION = _ListPage("requirements/decide.html", _decide_context, "resources")


@page
async def gap_page(request: Request) -> Response:
    context = await _decide_context(request)
    return render(request, "requirements/decide.html", errors={}, values={}, failed="", **context)


@_write(GAP_DECISION, _request_row)
async def decide_gap(actor: Actor, project: Project, form: dict[str, str]) -> object:
    return await resource_service.decide_gap(
        actor,
        request_id=int(form["_id"]),
        version=optional_int(form.get("version")) or 0,
        approve=form.get("decision") == "APPROVE",
        comment=form.get("comment"),
    )


@page
async def resources_xlsx(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    rows, _ = await requirement_queries.list_requests(project.id, _filter(request))
    return _xlsx(
        requirement_exports.resources_xlsx(project, rows, language_of(request)),
        f"{project.code}-resources.xlsx",
    )


@page
async def requirement_page(request: Request) -> Response:
    actor = actor_of(request)
    requirement = await requirement_service.get_requirement(
        actor, requirement_id=int(request.path_params["requirement_id"])
    )
    context = await thread_context(request, SubjectKind.REQUIREMENT, requirement.id)
    await requirement.fetch_related("department", "asked_of")
    return render(
        request,
        "requirements/requirement.html",
        project=context["thread"].subject.project,
        requirement=requirement,
        **context,
    )
