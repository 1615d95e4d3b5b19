"""Step 8 as pages: hand-overs of deliverables and their acceptance (验收), the sheet, the
retrospective and lessons learned."""

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.auth import Action, may
from server.closing import acceptance as closing
from server.closing import exports as closing_exports
from server.closing import retrospectives
from server.closing.models import AcceptanceStatus
from server.org import service as org
from server.projects import service as projects
from views.common import actor_of, form_data, language_of, optional_int, page, refusal, render


async def _context(request: Request) -> dict[str, Any]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    rows = await closing.list_acceptances(project.id)
    ready = await closing.ready_to_hand_over(project.id)
    may_hand_over = {t.id for t in ready if await closing.may_hand_over(actor, project, t)}
    return {
        "project": project,
        "waiting": [a for a in rows if a.status == AcceptanceStatus.SUBMITTED],
        "decided": [a for a in rows if a.status != AcceptanceStatus.SUBMITTED],
        "ready": [t for t in ready if t.id in may_hand_over],
        "may_decide": {a.id for a in rows if await closing.may_decide(actor, project, a)},
        "departments": (await projects.list_participating_departments([project.id]))[project.id],
        "errors": {},
        "values": {},
        "failed": "",
    }


@page
async def acceptance_page(request: Request) -> Response:
    return render(request, "closing/acceptance.html", **await _context(request))


async def _answer(request: Request, refused: Any, form: dict[str, str], failed: str) -> Response:
    code = request.path_params["code"]
    if not refused:
        return RedirectResponse(f"/projects/{code}/acceptance", status_code=303)
    context = await _context(request)
    context.update(errors=refused.errors, values=form, failed=failed)
    status = 409 if refused.is_conflict else 400
    return render(request, "closing/acceptance.html", status_code=status, **context)


@page
async def hand_over(request: Request) -> Response:
    actor = actor_of(request)
    await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    task_id = optional_int(form.get("task_id")) or 0
    async with refusal(request) as refused:
        await closing.submit_for_acceptance(
            actor,
            closing.Handover(
                task_id=task_id,
                receiving_department_id=optional_int(form.get("receiving_department_id")),
                note=form.get("note"),
            ),
        )
    return await _answer(request, refused, form, f"t{task_id}")


@page
async def decide(request: Request) -> Response:
    actor = actor_of(request)
    await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    acceptance_id = int(request.path_params["acceptance_id"])
    async with refusal(request) as refused:
        await closing.decide_acceptance(
            actor,
            acceptance_id=acceptance_id,
            version=optional_int(form.get("version")) or 0,
            verdict=closing.Verdict(
                decision=form.get("decision", ""),
                comment=form.get("comment"),
                evidence_link=form.get("evidence_link"),
            ),
        )
    return await _answer(request, refused, form, f"a{acceptance_id}")


@page
async def acceptance_xlsx(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    rows = await closing.list_acceptances(project.id)
    name = closing_exports.acceptance_file_name(project)
    return Response(
        closing_exports.acceptance_xlsx(project, rows, language_of(request), project.time_zone),
        media_type=closing_exports.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@page
async def acceptance_docx(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    rows = await closing.list_acceptances(project.id)
    name = closing_exports.acceptance_file_name(project, "docx")
    return Response(
        closing_exports.acceptance_docx(project, rows, language_of(request), project.time_zone),
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _retrospective_context(request: Request) -> dict[str, Any]:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    departments = (await projects.list_participating_departments([project.id]))[project.id]
    mine = [
        d
        for d in departments
        if await may(actor, Action.FILE_RETROSPECTIVE, project, department_id=d.id)
    ]
    filed = await retrospectives.list_retrospectives(project.id)
    return {
        "project": project,
        "entries": filed,
        "filed_by_department": {r.department_id: r for r in filed},
        "my_departments": mine,
        "errors": {},
        "values": {},
    }


@page
async def retrospective_page(request: Request) -> Response:
    return render(request, "closing/retrospective.html", **await _retrospective_context(request))


@page
async def file_retrospective(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    async with refusal(request) as refused:
        await retrospectives.file_retrospective(
            actor,
            project_id=project.id,
            data=retrospectives.RetrospectiveInput(
                department_id=optional_int(form.get("department_id")),
                went_well=form.get("went_well"),
                to_improve=form.get("to_improve"),
                lessons=form.get("lessons"),
                tags=form.get("tags"),
                version=optional_int(form.get("version")),
            ),
        )
    if not refused:
        return RedirectResponse(f"/projects/{project.code}/retrospective", status_code=303)
    context = await _retrospective_context(request)
    context.update(errors=refused.errors, values=form)
    status = 409 if refused.is_conflict else 400
    return render(request, "closing/retrospective.html", status_code=status, **context)


@page
async def lessons_page(request: Request) -> Response:
    actor = actor_of(request)
    wanted = retrospectives.LessonFilter(
        department_id=optional_int(request.query_params.get("department")),
        tag=request.query_params.get("tag") or None,
        text=request.query_params.get("q") or None,
    )
    rows, total = await retrospectives.list_lessons(actor, wanted)
    return render(
        request,
        "closing/lessons.html",
        lessons=rows,
        total=total,
        wanted=wanted,
        tags=await retrospectives.all_tags(),
        departments=await org.list_departments(actor),
    )
