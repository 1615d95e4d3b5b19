"""Problems (问题): the list, raising one, and moving one along in place."""

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.projects import service as projects
from server.risks import problems as risk_problems
from server.risks.models import ProblemStatus, Severity
from views.common import (
    actor_of,
    form_data,
    is_htmx,
    optional_int,
    page,
    refusal,
    render,
)


async def _context(request: Request, code: str) -> dict[str, Any]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=code)
    show_all = request.query_params.get("all") == "1"
    rows = (await risk_problems.list_problems([project.id], open_only=not show_all))[project.id]
    members = (await projects.list_members([project.id]))[project.id]
    departments = (await projects.list_participating_departments([project.id]))[project.id]
    people = {m.user.id: m.user for m in members}
    return {
        "project": project,
        "problems": rows,
        "show_all": show_all,
        "people": sorted(people.values(), key=lambda u: u.name),
        "departments": departments,
        "severities": [s.value for s in Severity],
        "statuses": [s.value for s in ProblemStatus],
    }


@page
async def problems(request: Request) -> Response:
    context = await _context(request, request.path_params["code"])
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
        context = await _context(request, code)
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
    context = await _context(request, code)
    problem = await risk_problems.get_problem(actor, problem_id=problem_id)
    return render(
        request,
        "risks/_problem_row.html",
        status_code=400 if errors else 200,
        problem=problem,
        errors=errors,
        typed=typed,
        **context,
    )
