"""Progress pages: my tasks (the daily update from a phone, one request per task, the row
re-rendered in place) and the weekly tracking table (项目进度跟踪表) with its causes and
actions, Excel and chart."""

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.errors import Forbidden, NotFound
from server.progress import exports as progress_exports
from server.progress import service as progress
from server.progress import tracking as progress_tracking
from server.projects import service as projects
from server.risks import queries as risk_queries
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


@page
async def my_tasks(request: Request) -> Response:
    actor = actor_of(request)
    rows = await progress.my_tasks(actor)
    reviews = await risk_queries.reviews_due(actor)
    return render(
        request, "progress/my_tasks.html", rows=rows, reviews=reviews, errors={}, failed=None
    )


@page
async def report(request: Request) -> Response:
    actor = actor_of(request)
    task_id = request.path_params["task_id"]
    form = await form_data(request)
    errors: dict[str, str] = {}
    typed: dict[str, str] | None = None
    async with refusal(request) as refused:
        await progress.report_progress(
            actor,
            progress.ProgressInput(
                task_id=task_id,
                version=optional_int(form.get("version")) or 0,
                percent_complete=form.get("percent_complete"),
                note=form.get("note", ""),
                blocker=form.get("blocker") == "1",
                actual_finish=form.get("actual_finish") or None,
                deliverable=form.get("deliverable"),
                remaining_days=form.get("remaining_days") or None,
            ),
        )
    if refused:
        errors = refused.errors
        # A conflict shows the newer values; other refusals keep what was typed.
        typed = None if refused.is_conflict else form
    if not errors and not is_htmx(request):
        return RedirectResponse("/my/tasks", status_code=303)
    rows = await progress.my_tasks(actor)
    row = next((r for r in rows if r.task.id == task_id), None)
    if row is None:
        return RedirectResponse("/my/tasks", status_code=303)
    if is_htmx(request):
        return render(request, "progress/_my_task_row.html", row=row, errors=errors, typed=typed)
    return render(
        request,
        "progress/my_tasks.html",
        status_code=400,
        rows=rows,
        reviews=await risk_queries.reviews_due(actor),
        errors=errors,
        failed=task_id,
        typed=typed,
    )


# --- the weekly tracking table -----------------------------------------------------------


async def _table(request: Request) -> progress_tracking.TrackingTable:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    week = request.query_params.get("week") or None
    return await progress_tracking.tracking_table(actor, project_id=project.id, week=week)


@page
async def tracking(request: Request) -> Response:
    async with refusal(request) as refused:
        table = await _table(request)
    if refused:
        return Response(refused.message, status_code=400)
    return render(
        request,
        "progress/tracking.html",
        project=table.project,
        table=table,
        chart=progress_exports.chart(table),
        errors={},
        failed=None,
    )


@page
async def tracking_svg(request: Request) -> Response:
    table = await _table(request)
    body = progress_exports.tracking_svg(table, language_of(request))
    return Response(body, media_type="image/svg+xml")


@page
async def explain(request: Request) -> Response:
    actor = actor_of(request)
    task_id = int(request.path_params["task_id"])
    form = await form_data(request)
    week = form.get("week", "")
    errors: dict[str, str] = {}
    typed: dict[str, str] | None = None
    project = await projects.get_project(actor, code=request.path_params["code"])
    async with refusal(request, shown_by_page=(Forbidden, NotFound)) as refused:
        await progress_tracking.explain_late_task(
            actor,
            project_id=project.id,
            task_id=task_id,
            week=week,
            cause=form.get("cause", ""),
            action=form.get("action", ""),
            version=optional_int(form.get("version")),
        )
    if refused:
        errors = refused.errors
        typed = None if refused.is_conflict else form
    table = await progress_tracking.tracking_table(actor, project_id=project.id, week=week)
    row = next((r for r in table.rows if r.task.id == task_id), None)
    if row is None:
        raise NotFound("No such task in this project.", field="taskId")
    return render(
        request,
        "progress/_tracking_row.html",
        status_code=400 if errors else 200,
        project=project,
        table=table,
        row=row,
        errors=errors,
        typed=typed,
    )


@page
async def tracking_xlsx(request: Request) -> Response:
    table = await _table(request)
    return Response(
        progress_exports.tracking_xlsx(table, language_of(request)),
        media_type=progress_exports.XLSX_MEDIA_TYPE,
        headers={
            "Content-Disposition": (
                f'attachment; filename="{progress_exports.tracking_file_name(table)}"'
            )
        },
    )
