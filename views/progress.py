"""My tasks: the daily update from a phone, one request per task, the row re-rendered in place."""

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.progress import service as progress
from views.common import (
    actor_of,
    form_data,
    is_htmx,
    optional_int,
    page,
    refusal,
    render,
)


@page
async def my_tasks(request: Request) -> Response:
    actor = actor_of(request)
    rows = await progress.my_tasks(actor)
    return render(request, "progress/my_tasks.html", rows=rows, errors={}, failed=None)


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
        errors=errors,
        failed=task_id,
        typed=typed,
    )
