"""Risks (风险登记表) and problems (问题): the register with its heat map, one risk with its
history, reviews (also from a meeting), and the problem list."""

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server import clock
from server.auth import Action, Actor, may
from server.discussion import service as discussion
from server.discussion.models import SubjectKind
from server.discussion.service import Subject
from server.errors import NotFound
from server.planning import queries as planning_queries
from server.projects import service as projects
from server.projects.models import ProjectStatus
from server.risks import exports as risk_exports
from server.risks import problems as risk_problems
from server.risks import queries as risk_queries
from server.risks import register as risk_register
from server.risks.models import (
    LIVE_RISK_STATUSES,
    ProblemStatus,
    RiskCategory,
    RiskLevel,
    RiskStatus,
    RiskStrategy,
    Severity,
)
from views.common import (
    actor_of,
    form_data,
    is_htmx,
    language_of,
    optional_int,
    page,
    refusal,
    render,
)
from views.discussion import thread_context


async def problems_context(
    request: Request, code: str, *, show_all: bool | None = None
) -> dict[str, Any]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=code)
    if show_all is None:
        show_all = request.query_params.get("all") == "1"
    rows = (await risk_problems.list_problems([project.id], open_only=not show_all))[project.id]
    members = (await projects.list_members([project.id]))[project.id]
    departments = (await projects.list_participating_departments([project.id]))[project.id]
    people = {m.user.id: m.user for m in members}
    return {
        "project": project,
        "problems": rows,
        "risk_of_problem": await risk_queries.risks_of_problems([p.id for p in rows]),
        "may_run_meetings": await may(actor, Action.RUN_MEETINGS, project),
        "may_raise_problem": await may(actor, Action.RAISE_PROBLEM, project),
        "archived": project.status == ProjectStatus.ARCHIVED,
        "show_all": show_all,
        "people": sorted(people.values(), key=lambda u: u.name),
        "departments": departments,
        "severities": [s.value for s in Severity],
        "statuses": [s.value for s in ProblemStatus],
    }


@page
async def problems(request: Request) -> Response:
    context = await problems_context(request, request.path_params["code"])
    return render(request, "risks/problems.html", errors={}, values={}, **context)


@page
async def report(request: Request) -> Response:
    actor = actor_of(request)
    code = request.path_params["code"]
    project = await projects.get_project(actor, code=code)
    form = await form_data(request)
    async with refusal(request) as refused:
        await risk_problems.report_problem(
            actor,
            project_id=project.id,
            data=risk_problems.ProblemInput(
                title=form.get("title"),
                description=form.get("description", ""),
                severity=form.get("severity") or None,
                owner_id=optional_int(form.get("owner_id")),
                department_id=optional_int(form.get("department_id")),
                due_date=form.get("due_date") or None,
            ),
        )
    if refused:
        context = await problems_context(request, code)
        errors = refused.errors
        return render(
            request, "risks/problems.html", status_code=400, errors=errors, values=form, **context
        )
    return RedirectResponse(f"/projects/{code}/problems", status_code=303)


@page
async def update(request: Request) -> Response:
    actor = actor_of(request)
    code = request.path_params["code"]
    problem_id = int(request.path_params["problem_id"])
    form = await form_data(request)
    errors: dict[str, str] = {}
    typed: dict[str, str] | None = None
    async with refusal(request) as refused:
        await risk_problems.update_problem(
            actor,
            problem_id=problem_id,
            version=optional_int(form.get("version")) or 0,
            data=risk_problems.ProblemInput(
                status=form.get("status") or None,
                resolution=form.get("resolution"),
                owner_id=optional_int(form.get("owner_id")),
                due_date=form.get("due_date"),
            ),
        )
    if refused:
        errors = refused.errors
        typed = None if refused.is_conflict else form
    if not is_htmx(request) and not errors:
        return RedirectResponse(f"/projects/{code}/problems", status_code=303)
    context = await problems_context(request, code)
    problem = await risk_problems.get_problem(actor, problem_id=problem_id)
    context["risk_of_problem"] = await risk_queries.risks_of_problems([problem.id])
    return render(
        request,
        "risks/_problem_row.html",
        status_code=400 if errors else 200,
        problem=problem,
        errors=errors,
        typed=typed,
        **context,
    )


# --- the risk register --------------------------------------------------------------------------

REGISTER_PAGE_SIZE = 100


def _risk_filter(request: Request) -> risk_queries.RiskFilter:
    params = request.query_params
    p, i = optional_int(params.get("p")), optional_int(params.get("i"))
    status = params.get("status") or ""
    level = params.get("level") or ""
    return risk_queries.RiskFilter(
        status=RiskStatus(status) if status in RiskStatus.__members__ else None,
        level=RiskLevel(level) if level in RiskLevel.__members__ else None,
        department_id=optional_int(params.get("department")),
        cell=(p, i) if p and i else None,
        live_only=params.get("all") != "1",
    )


async def _register_context(request: Request, code: str) -> dict[str, Any]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=code)
    wanted = _risk_filter(request)
    offset = max(optional_int(request.query_params.get("from")) or 0, 0)
    rows, total = await risk_queries.list_risks(
        project.id, wanted, offset=offset, limit=REGISTER_PAGE_SIZE
    )
    live = await risk_queries.live_risks(project.id)
    members = (await projects.list_members([project.id]))[project.id]
    departments = (await projects.list_participating_departments([project.id]))[project.id]
    tasks = (await planning_queries.list_tasks([project.id]))[project.id]
    counts = risk_queries.heat_map(live)
    return {
        "project": project,
        "risks": rows,
        "total": total,
        "more_link": _more_link(request, offset + REGISTER_PAGE_SIZE, total),
        "wanted": wanted,
        "threatened": await risk_queries.threatened_tasks([r.id for r in rows]),
        "heat_map": risk_exports.heat_map_svg(
            project, counts, language_of(request), standalone=False, link="?"
        ),
        "trend": await risk_queries.high_risk_trend(project.id),
        "people": sorted({m.user.id: m.user for m in members}.values(), key=lambda u: u.name),
        "departments": departments,
        "tasks": tasks,
        "may_raise": await may(actor, Action.RAISE_RISK, project),
        "may_set_matrix": await may(actor, Action.EDIT_PROJECT, project),
        **RISK_CHOICES,
    }


def _more_link(request: Request, offset: int, total: int) -> str | None:
    if offset >= total:
        return None
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "from"]
    return "?" + urlencode([*params, ("from", str(offset))])


RISK_CHOICES = {
    "categories": [c.value for c in RiskCategory],
    "levels": [v.value for v in RiskLevel],
    "strategies": [s.value for s in RiskStrategy],
    "risk_statuses": [s.value for s in RiskStatus],
    "live_statuses": [s.value for s in LIVE_RISK_STATUSES],
}


@page
async def register(request: Request) -> Response:
    context = await _register_context(request, request.path_params["code"])
    return render(request, "risks/register.html", errors={}, values={}, **context)


def _risk_input(form: dict[str, str], *, with_tasks: bool) -> risk_register.RiskInput:
    return risk_register.RiskInput(
        title=form.get("title"),
        description=form.get("description"),
        category=form.get("category") or None,
        department_id=optional_int(form.get("department_id")),
        owner_id=optional_int(form.get("owner_id")),
        probability=form.get("probability"),
        impact=form.get("impact"),
        level=form.get("level") or None,
        level_reason=form.get("level_reason"),
        use_matrix=not form.get("level"),
        strategy=form.get("strategy"),
        measures=form.get("measures"),
        trigger=form.get("trigger"),
        review_date=form.get("review_date"),
        status=form.get("status") or None,
        task_ids=[int(t) for t in form.get("task_ids", "").split(",") if t.isdigit()]
        if with_tasks
        else None,
    )


async def _form_with_tasks(request: Request) -> dict[str, str]:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    values["task_ids"] = ",".join(v for v in form.getlist("task_ids") if isinstance(v, str))
    return values


@page
async def raise_risk(request: Request) -> Response:
    actor = actor_of(request)
    code = request.path_params["code"]
    project = await projects.get_project(actor, code=code)
    form = await _form_with_tasks(request)
    async with refusal(request) as refused:
        risk = await risk_register.raise_risk(
            actor, project_id=project.id, data=_risk_input(form, with_tasks=True)
        )
    if refused:
        context = await _register_context(request, code)
        return render(
            request,
            "risks/register.html",
            status_code=400,
            errors=refused.errors,
            values=form,
            **context,
        )
    return RedirectResponse(f"/projects/{code}/risks/{risk.id}", status_code=303)


@page
async def risk_matrix(request: Request) -> Response:
    actor = actor_of(request)
    code = request.path_params["code"]
    project = await projects.get_project(actor, code=code)
    form = await form_data(request)
    async with refusal(request) as refused:
        await risk_register.set_risk_matrix(
            actor,
            project_id=project.id,
            version=optional_int(form.get("version")) or 0,
            high_from=form.get("high_from"),
            medium_from=form.get("medium_from"),
        )
    if refused:
        context = await _register_context(request, code)
        return render(
            request,
            "risks/register.html",
            status_code=400,
            errors=refused.errors,
            values=form,
            **context,
        )
    return RedirectResponse(f"/projects/{code}/risks", status_code=303)


async def _risk_context(request: Request, risk_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    detail = await risk_queries.risk_detail(actor, risk_id=risk_id)
    if detail.risk.project_id != project.id:
        raise NotFound("No such risk.")
    members = (await projects.list_members([project.id]))[project.id]
    departments = (await projects.list_participating_departments([project.id]))[project.id]
    tasks = (await planning_queries.list_tasks([project.id]))[project.id]
    return {
        "project": project,
        "detail": detail,
        "risk": detail.risk,
        "linked_task_ids": {t.task.id for t in detail.tasks},
        "may_change": await risk_register.may_change(actor, project, detail.risk),
        "people": sorted({m.user.id: m.user for m in members}.values(), key=lambda u: u.name),
        "departments": departments,
        "tasks": tasks,
        "today": clock.local_today(project),
        **RISK_CHOICES,
        **await thread_context(
            request,
            SubjectKind.RISK,
            risk_id,
            shown=Subject(
                SubjectKind.RISK, risk_id, project, detail.risk.title, detail.risk.department_id
            ),
        ),
    }


@page
async def risk_page(request: Request) -> Response:
    context = await _risk_context(request, int(request.path_params["risk_id"]))
    return render(request, "risks/risk.html", errors={}, values={}, form_name="", **context)


RiskWrite = Callable[[Actor, int, int, dict[str, str]], Awaitable[object]]


def _risk_write(form_name: str, *, with_tasks: bool = False) -> Callable[[RiskWrite], Any]:
    """A POST on one risk: back to its page, or the page again with the errors on the form
    that was sent (a stale version shows the newer risk, not what was typed)."""

    def decorator(write: RiskWrite) -> Any:
        @page
        async def handler(request: Request) -> Response:
            actor = actor_of(request)
            code = request.path_params["code"]
            risk_id = int(request.path_params["risk_id"])
            await _risk_context(request, risk_id)  # the risk is in this project
            form = await (_form_with_tasks(request) if with_tasks else form_data(request))
            version = optional_int(form.get("version")) or 0
            async with refusal(request) as refused:
                await write(actor, risk_id, version, form)
            if not refused:
                return RedirectResponse(f"/projects/{code}/risks/{risk_id}", status_code=303)
            context = await _risk_context(request, risk_id)
            return render(
                request,
                "risks/risk.html",
                status_code=409 if refused.is_conflict else 400,
                errors=refused.errors,
                values={} if refused.is_conflict else form,
                form_name=form_name,
                **context,
            )

        return handler

    return decorator


@_risk_write("edit", with_tasks=True)
async def update_risk(actor: Actor, risk_id: int, version: int, form: dict[str, str]) -> object:
    return await risk_register.update_risk(
        actor, risk_id=risk_id, version=version, data=_risk_input(form, with_tasks=True)
    )


@_risk_write("occurred")
async def risk_occurred(actor: Actor, risk_id: int, version: int, form: dict[str, str]) -> object:
    return await risk_register.risk_occurred(
        actor,
        risk_id=risk_id,
        version=version,
        note=form.get("note"),
        due_date=form.get("due_date"),
    )


@_risk_write("close")
async def close_risk(actor: Actor, risk_id: int, version: int, form: dict[str, str]) -> object:
    return await risk_register.close_risk(
        actor, risk_id=risk_id, version=version, note=form.get("note")
    )


def _review_input(form: dict[str, str]) -> risk_register.ReviewInput:
    return risk_register.ReviewInput(
        probability=form.get("probability"),
        impact=form.get("impact"),
        measures=form.get("measures"),
        note=form.get("note"),
        next_review=form.get("next_review") or None,
        level=form.get("level") or None,
        level_reason=form.get("level_reason"),
        use_matrix=not form.get("level"),
        meeting_id=optional_int(form.get("meeting_id")),
    )


@page
async def review_risk(request: Request) -> Response:
    """From the risk's page, or from a meeting's "risks to review" (htmx: the row again)."""
    actor = actor_of(request)
    code = request.path_params["code"]
    risk_id = int(request.path_params["risk_id"])
    context = await _risk_context(request, risk_id)
    form = await form_data(request)
    async with refusal(request) as refused:
        await risk_register.review_risk(
            actor,
            risk_id=risk_id,
            version=optional_int(form.get("version")) or 0,
            data=_review_input(form),
        )
    in_meeting = bool(form.get("meeting_id"))
    if in_meeting and is_htmx(request):
        risk = await risk_queries.get_risk(actor, risk_id=risk_id)
        return render(
            request,
            "risks/_meeting_review.html",
            status_code=(409 if refused.is_conflict else 400) if refused else 200,
            project=context["project"],
            risk=risk,
            meeting_id=form["meeting_id"],
            errors=refused.errors,
            values={} if refused.is_conflict or not refused else form,
            reviewed=not refused,
            **RISK_CHOICES,
        )
    if not refused:
        back = f"/projects/{code}/meetings/{form['meeting_id']}" if in_meeting else None
        return RedirectResponse(back or f"/projects/{code}/risks/{risk_id}", status_code=303)
    context = await _risk_context(request, risk_id)
    return render(
        request,
        "risks/risk.html",
        status_code=409 if refused.is_conflict else 400,
        errors=refused.errors,
        values={} if refused.is_conflict else form,
        form_name="review",
        **context,
    )


@page
async def register_xlsx(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    rows, _ = await risk_queries.list_risks(project.id, risk_queries.RiskFilter())
    body = risk_exports.register_xlsx(
        project,
        rows,
        await risk_queries.threatened_tasks([r.id for r in rows]),
        language_of(request),
        await discussion.attachment_links(SubjectKind.RISK, [r.id for r in rows]),
    )
    name = risk_exports.register_file_name(project)
    return Response(
        body,
        media_type=risk_exports.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@page
async def heat_map_svg(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    counts = risk_queries.heat_map(await risk_queries.live_risks(project.id))
    body = risk_exports.heat_map_svg(project, counts, language_of(request))
    return Response(body, media_type="image/svg+xml")


@page
async def problem_page(request: Request) -> Response:
    problem_id = int(request.path_params["problem_id"])
    context = await thread_context(request, SubjectKind.PROBLEM, problem_id)
    listed = await problems_context(request, request.path_params["code"], show_all=True)
    problem = next((p for p in listed["problems"] if p.id == problem_id), None)
    if problem is None:
        raise NotFound("No such problem.")
    return render(
        request, "risks/problem.html", problem=problem, errors={}, typed=None, **listed, **context
    )
