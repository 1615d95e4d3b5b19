"""The plan page: Gantt chart (server-rendered SVG), the task list and its Excel export."""

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server import clock, i18n
from server.discussion import service as discussion
from server.discussion.models import SubjectKind
from server.planning import company_calendar as planning_company_calendar
from server.planning import exports as planning_exports
from server.planning import mspdi
from server.planning import project_calendar as planning_project_calendar
from server.planning import queries as planning_queries
from server.planning import scheduling as planning_scheduling
from server.planning import service as planning
from server.planning import task_form as planning_task_form
from server.planning.calendar import WorkingCalendar
from server.planning.scheduling import status_date_of
from server.progress import service as progress
from server.progress import snapshots
from server.projects import service as projects
from server.projects.models import Project
from server.templating import CleanMarkup
from views.common import actor_of, language_of, page, refusal, render
from views.discussion import thread_context


def _years_without_holidays(
    calendar: WorkingCalendar, rows: list[planning_queries.PlanRow], start: date
) -> list[int]:
    finishes = [r.schedule.early_finish for r in rows if r.schedule] or [start]
    return [
        y for y in range(start.year, max(finishes).year + 1) if not calendar.has_holidays_for(y)
    ]


def _chart(
    request: Request,
    project: Project,
    rows: list[planning_queries.PlanRow],
    geometry: dict[str, Any],
    can_edit: bool,
) -> dict[str, Any]:
    """The chart's parts and the task list's rows as markup: drawn as strings by the planning
    exports, which escape every text they take in."""
    with i18n.speaking(language_of(request)):
        return {
            "svg": CleanMarkup(
                planning_exports.gantt_markup(project, geometry, edit_links=can_edit)
            ),
            "phone": CleanMarkup(planning_exports.gantt_phone_markup(project, geometry)),
            "names": CleanMarkup(planning_exports.gantt_names_markup(rows)),
            # Joined around the open form, if any, by rows_around.
            "task_rows": planning_exports.task_list_rows(
                rows, f"/projects/{project.code}", can_edit
            ),
        }


def _rows_around(
    task_rows: list[tuple[int, str]], editing_id: int | None
) -> tuple[CleanMarkup, CleanMarkup, bool]:
    """The task list's rows before and after the one whose form is open, each part joined
    once (the template would otherwise walk hundreds of rows), and whether it is open."""
    at = next((i for i, (task_id, _) in enumerate(task_rows) if task_id == editing_id), None)
    if at is None:
        return CleanMarkup("".join(row for _, row in task_rows)), CleanMarkup(""), False
    return (
        CleanMarkup("".join(row for _, row in task_rows[:at])),
        CleanMarkup("".join(row for _, row in task_rows[at + 1 :])),
        True,
    )


def _pickers() -> dict[str, Any]:
    """The task form's pickers, drawn as strings by the planning exports (the full page
    of a 500-task plan lists every task in them), and the task list around the open form."""
    return {
        "rows_around": _rows_around,
        "phase_options": lambda rows, form_id, selected: CleanMarkup(
            planning_exports.phase_options(rows, form_id, selected)
        ),
        "predecessor_options": lambda rows, task_id, chosen: CleanMarkup(
            planning_exports.predecessor_options(rows, task_id, chosen)
        ),
        "task_in": lambda rows, task_id: next(r for r in rows if r.task.id == task_id),
    }


async def _plan_context(request: Request, project: Project) -> dict[str, Any]:
    from server.auth import Action, may
    from views.common import optional_int

    actor = actor_of(request)
    baselines = await planning_queries.list_baselines(project.id)
    wanted = optional_int(request.query_params.get("baseline"))
    chosen = next((b for b in baselines if b.id == wanted), baselines[-1] if baselines else None)
    people = (await projects.list_members([project.id]))[project.id]
    departments = (await projects.list_participating_departments([project.id]))[project.id]
    view = await planning_queries.plan_view(
        project, chosen.id if chosen else None, people=people, plan_departments=departments
    )
    status_date = status_date_of(project)
    geometry = planning_exports.gantt_geometry(
        view.rows, view.calendar, project.start_date, status_date
    )
    can_edit = await may(actor, Action.EDIT_PLAN, project)
    return {
        "chart": _chart(request, project, view.rows, geometry, can_edit),
        "chosen_baseline": chosen,
        # The project's own days, as the calendar the plan was just read with holds them.
        "calendar_days": view.calendar.project_days,
        "can_approve": await may(actor, Action.APPROVE_PLAN, project),
        "project": project,
        "rows": view.rows,
        "status_date": status_date,
        "missing_years": _years_without_holidays(view.calendar, view.rows, project.start_date),
        "baselines": baselines,
        "can_edit": can_edit,
        "people": people,
        "plan_departments": departments,
        "errors": {},
        "values": {},
        **_pickers(),
    }


async def plan_page_refused(
    request: Request, project: Project, errors_name: str, error: Any, form: dict[str, str]
) -> Response:
    """The plan page again, the refusal shown on the form (under `errors_name`) that sent it."""
    from views.common import field_errors, language_of

    context = await _plan_context(request, project)
    context.update({errors_name: field_errors(error, language_of(request)), "values": form})
    return render(request, "planning/plan.html", status_code=400, **context)


@page
async def plan(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    return render(request, "planning/plan.html", **await _plan_context(request, project))


def _task_values(task: Any) -> dict[str, str]:
    return {
        "name": task.name,
        "parent_id": str(task.parent_id or ""),
        "planned_start": task.planned_start.isoformat(),
        "duration_days": str(task.duration_days),
        "owner_id": str(task.owner_id or ""),
        "department_id": str(task.department_id or ""),
        "deliverable": task.deliverable,
    }


def _task_input(form: dict[str, str]) -> planning.TaskInput:
    from views.common import optional_int

    return planning.TaskInput(
        name=form.get("name"),
        planned_start=form.get("planned_start"),
        duration_days=optional_int(form.get("duration_days")),
        parent_id=optional_int(form.get("parent_id")),
        owner_id=optional_int(form.get("owner_id")),
        department_id=optional_int(form.get("department_id")),
        deliverable=form.get("deliverable"),
        is_milestone=True if form.get("is_milestone") == "1" else None,
    )


async def _edit(context: dict[str, Any], task: Any, find: str = "") -> None:
    """The task whose form is open, with what its pickers offer (the predecessors matching
    `find` when something was typed), its progress history and problems."""
    from server.progress.service import recent_updates
    from server.risks.problems import problems_of_task

    project = context["project"]
    context["editing"] = await planning_task_form.task_form(project, task)
    context["find"] = find
    if find.strip():
        context["found"], context["found_chosen"] = await planning_task_form.predecessor_choices(
            project, task, find
        )
    context["history"] = await recent_updates(task.id)
    context["task_problems"] = await problems_of_task(task.id)


async def _task_form_row(
    request: Request,
    project: Project,
    task: Any,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    """The one task's form swapped in for its row: the task, what its pickers offer, people
    and departments; not the plan's schedules or chart."""
    context: dict[str, Any] = {
        "project": project,
        "people": (await projects.list_members([project.id]))[project.id],
        "plan_departments": (await projects.list_participating_departments([project.id]))[
            project.id
        ],
        "values": values,
        "errors": errors or {},
        **_pickers(),
    }
    await _edit(context, task)
    return render(request, "planning/_task_form_row.html", **context)


@page
async def edit_task_form(request: Request) -> Response:
    from views.common import is_htmx

    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    task = await planning_queries.project_task(project, request.path_params["task_id"])
    if is_htmx(request):
        return await _task_form_row(request, project, task, _task_values(task))
    context = await _plan_context(request, project)
    await _edit(context, task, request.query_params.get("find", ""))
    context.update(values=_task_values(task))
    return render(request, "planning/plan.html", **context)


@page
async def predecessor_choices(request: Request) -> Response:
    """The predecessor picker's choices for what was typed in its search field (htmx
    swaps them into the picker): the nearest tasks again when the field is emptied."""
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    task = await planning_queries.project_task(project, request.path_params["task_id"])
    found, chosen = await planning_task_form.predecessor_choices(
        project, task, request.query_params.get("find", "")
    )
    return render(
        request,
        "planning/_predecessor_choices.html",
        choices=found,
        task_id=task.id,
        chosen=chosen,
        **_pickers(),
    )


@page
async def save_task(request: Request) -> Response:
    from starlette.responses import RedirectResponse

    from views.common import form_data, is_htmx, optional_int

    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    task_id = request.path_params.get("task_id")
    if task_id is not None:  # a task of this project, whatever the address says
        task_id = (await planning_queries.project_task(project, task_id)).id
    form = await form_data(request)
    async with refusal(request) as refused:
        if task_id is None:
            await planning.create_task(actor, project_id=project.id, data=_task_input(form))
        else:
            await planning.update_task(
                actor,
                task_id=task_id,
                version=optional_int(form.get("version")) or 0,
                data=_task_input(form),
            )
    if refused and task_id is not None and is_htmx(request):
        task = await planning_queries.project_task(project, task_id)
        response = await _task_form_row(request, project, task, form, refused.errors)
        response.headers["HX-Retarget"] = f"#task-{task_id}"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    if refused:
        context = await _plan_context(request, project)
        context.update(errors=refused.errors, values=form)
        if task_id is None:
            context.update(adding=True)
            template = "planning/_plan.html" if is_htmx(request) else "planning/plan.html"
            return render(
                request, template, status_code=200 if is_htmx(request) else 400, **context
            )
        await _edit(context, await planning_queries.project_task(project, task_id))
        return render(request, "planning/plan.html", status_code=400, **context)
    if is_htmx(request):
        return render(request, "planning/_plan.html", **await _plan_context(request, project))
    return RedirectResponse(f"/projects/{project.code}/plan", status_code=303)


@page
async def gantt_svg(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    # The chart names tasks, not their owners or departments: those two reads are spared.
    view = await planning_queries.plan_view(project, people=[], plan_departments=[])
    return Response(
        planning_exports.gantt_svg(project, view, clock.local_today(project), language_of(request)),
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="{project.code}-gantt.svg"'},
    )


@page
async def plan_xml(request: Request) -> Response:
    """The plan for MS Project and ProjectLibre (MSPDI)."""
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    view = await planning_queries.plan_view(project)
    return Response(
        mspdi.plan_xml(project, view.rows, view.calendar),
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{project.code}-plan.xml"'},
    )


@page
async def plan_xlsx(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    view = await planning_queries.plan_view(project)
    links = await discussion.attachment_links(SubjectKind.TASK, [r.task.id for r in view.rows])
    return Response(
        planning_exports.plan_xlsx(view, language_of(request), links),
        media_type=planning_exports.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{project.code}-wbs.xlsx"'},
    )


@page
async def calendar_page(request: Request) -> Response:
    from server.auth import Action, authorize

    actor = actor_of(request)
    await authorize(actor, Action.ADMINISTER)
    return await _calendar_response(request, errors={}, values={})


async def _calendar_response(
    request: Request, *, errors: dict[str, str], values: dict[str, str], status_code: int = 200
) -> Response:
    from views.common import optional_int

    actor = actor_of(request)
    year = optional_int(request.query_params.get("year")) or clock.now().year
    rows = await planning_company_calendar.list_calendar_days(actor, year=year)
    calendar = await planning_scheduling.working_calendar(0)
    return render(
        request,
        "planning/company_calendar.html",
        status_code=status_code,
        year=year,
        rows=rows,
        has_holidays=calendar.has_holidays_for(year),
        errors=errors,
        values=values,
    )


@page
async def set_calendar_day(request: Request) -> Response:
    from starlette.responses import RedirectResponse

    from views.common import form_data

    actor = actor_of(request)
    form = await form_data(request)
    async with refusal(request) as refused:
        if form.get("remove") == "1":
            await planning_company_calendar.remove_calendar_day(actor, day=form.get("day", ""))
        else:
            await planning_company_calendar.set_calendar_day(
                actor,
                day=form.get("day", ""),
                is_working=form.get("is_working") == "1",
                name=form.get("name", ""),
            )
    if refused:
        return await _calendar_response(
            request, errors=refused.errors, values=form, status_code=400
        )
    year = form.get("day", "")[:4]
    return RedirectResponse(f"/admin/calendar?year={year}", status_code=303)


async def _plan_after_change(
    request: Request, project: Project, task_id: int, errors: dict[str, str]
) -> Response:
    """The plan again with the task's form still open, showing what was refused (if anything)."""
    from starlette.responses import RedirectResponse

    from views.common import is_htmx

    if not errors and not is_htmx(request):
        return RedirectResponse(
            f"/projects/{project.code}/plan/tasks/{task_id}/edit", status_code=303
        )
    task = await planning_queries.project_task(project, task_id)
    context = await _plan_context(request, project)
    await _edit(context, task)
    context.update(values=_task_values(task), errors=errors)
    template = "planning/_plan.html" if is_htmx(request) else "planning/plan.html"
    status = 200 if is_htmx(request) or not errors else 400
    return render(request, template, status_code=status, **context)


@page
async def add_dependency(request: Request) -> Response:
    from views.common import form_data, optional_int

    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    task_id = (await planning_queries.project_task(project, request.path_params["task_id"])).id
    form = await form_data(request)
    errors: dict[str, str] = {}
    async with refusal(request) as refused:
        await planning.add_dependency(
            actor,
            predecessor_id=optional_int(form.get("predecessor_id")) or 0,
            successor_id=task_id,
            type=form.get("type", "FS"),
            lag_days=optional_int(form.get("lag_days")) or 0,
        )
    if refused:
        errors = refused.errors
    return await _plan_after_change(request, project, task_id, errors)


@page
async def remove_dependency(request: Request) -> Response:

    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    task_id = (await planning_queries.project_task(project, request.path_params["task_id"])).id
    errors: dict[str, str] = {}
    async with refusal(request) as refused:
        await planning.remove_dependency(
            actor, predecessor_id=request.path_params["predecessor_id"], successor_id=task_id
        )
    if refused:
        errors = refused.errors
    return await _plan_after_change(request, project, task_id, errors)


@page
async def set_project_calendar_day(request: Request) -> Response:
    from starlette.responses import RedirectResponse

    from views.common import form_data

    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    async with refusal(request) as refused:
        if form.get("remove") == "1":
            await planning_project_calendar.remove_project_calendar_day(
                actor, project_id=project.id, day=form.get("day", "")
            )
        else:
            await planning_project_calendar.set_project_calendar_day(
                actor,
                project_id=project.id,
                day=form.get("day", ""),
                is_working=form.get("is_working") == "1",
                name=form.get("name", ""),
            )
    if refused:
        return await plan_page_refused(request, project, "calendar_errors", refused.error, form)
    return RedirectResponse(f"/projects/{project.code}/plan#calendar", status_code=303)


@page
async def save_schedule_settings(request: Request) -> Response:
    """The PM sets the status date, a deadline, retained logic and the critical threshold."""
    from starlette.responses import RedirectResponse

    from views.common import form_data, optional_int

    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    async with refusal(request) as refused:
        await projects.update_project(
            actor,
            project_id=project.id,
            version=optional_int(form.get("version")) or 0,
            data=projects.ProjectInput(
                status_date=form.get("status_date", ""),
                deadline=form.get("deadline", ""),
                retained_logic=form.get("retained_logic") == "1",
                critical_threshold_days=optional_int(form.get("critical_threshold_days")) or 0,
            ),
        )
    if refused:
        return await plan_page_refused(request, project, "settings_errors", refused.error, form)
    return RedirectResponse(f"/projects/{project.code}/plan", status_code=303)


@page
async def approve_plan(request: Request) -> Response:
    """Freeze a baseline; a refusal names what is missing (liaisons, owners)."""
    from starlette.responses import RedirectResponse

    from views.common import form_data

    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    async with refusal(request) as refused:
        baseline = await snapshots.approve_plan(
            actor, project_id=project.id, name=form.get("name") or None
        )
    if refused:
        return await plan_page_refused(request, project, "approve_errors", refused.error, form)
    return RedirectResponse(
        f"/projects/{project.code}/plan?baseline={baseline.id}#approve", status_code=303
    )


@page
async def task_page(request: Request) -> Response:
    actor = actor_of(request)
    task = await planning_queries.get_task(actor, task_id=int(request.path_params["task_id"]))
    context = await thread_context(request, SubjectKind.TASK, task.id)
    project = context["thread"].subject.project
    schedules = await planning_queries.schedules_for([task.id])
    updates = await progress.recent_updates(task.id)
    await task.fetch_related("owner", "department")
    return render(
        request,
        "planning/task.html",
        project=project,
        task=task,
        schedule=schedules.get(task.id),
        updates=updates,
        **context,
    )
