"""The weekly progress tracking table (项目进度跟踪表): page, cause and action, Excel, chart."""

from io import BytesIO

from starlette.requests import Request
from starlette.responses import Response

from server.errors import Conflict, DomainError, Forbidden, NotFound
from server.i18n import gettext as _
from server.progress import tracking as progress_tracking
from server.projects import service as projects
from server.templating import render as render_template
from views.common import (
    actor_of,
    field_errors,
    form_data,
    language_of,
    optional_int,
    page,
    render,
)

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 240, 36


def chart(table: progress_tracking.TrackingTable) -> dict[str, object]:
    """Planned and actual % over the snapshot days as SVG polyline points."""
    shots = table.snapshots
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    step = inner_w / max(len(shots) - 1, 1)

    def y(percent: float) -> float:
        return round(CHART_PAD + inner_h * (1 - percent / 100), 1)

    def points(values: list[float]) -> str:
        return " ".join(f"{round(CHART_PAD + i * step, 1)},{y(v)}" for i, v in enumerate(values))

    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "pad": CHART_PAD,
        "planned": points([s.planned_percent for s in shots]),
        "actual": points([s.actual_percent for s in shots]),
        "grid": [(p, y(p)) for p in (0, 25, 50, 75, 100)],
        "first": shots[0].day if shots else None,
        "last": shots[-1].day if shots else None,
        "count": len(shots),
    }


async def _table(request: Request) -> progress_tracking.TrackingTable:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    week = request.query_params.get("week") or None
    return await progress_tracking.tracking_table(actor, project_id=project.id, week=week)


@page
async def tracking(request: Request) -> Response:
    try:
        table = await _table(request)
    except DomainError as error:
        if isinstance(error, Forbidden):
            raise
        return Response(error.translated(language_of(request)), status_code=400)
    return render(
        request,
        "progress/tracking.html",
        project=table.project,
        table=table,
        chart=chart(table),
        errors={},
        failed=None,
    )


@page
async def tracking_svg(request: Request) -> Response:
    table = await _table(request)
    body = render_template(
        "progress/_progress_chart.svg", language_of(request), chart=chart(table), standalone=True
    )
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
    try:
        await progress_tracking.explain_late_task(
            actor,
            project_id=project.id,
            task_id=task_id,
            week=week,
            cause=form.get("cause", ""),
            action=form.get("action", ""),
            version=optional_int(form.get("version")),
        )
    except (Forbidden, NotFound):
        raise
    except DomainError as error:
        errors = field_errors(error, language_of(request))
        typed = None if isinstance(error, Conflict) else form
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
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from server.sheets import append_text_safe

    table = await _table(request)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Progress tracking")[:31]
    figures = table.measured.figures
    append_text_safe(sheet, [table.project.name, table.week, table.day.isoformat()])
    append_text_safe(
        sheet,
        [
            _("Planned progress"),
            figures.planned_percent,
            _("Actual progress"),
            figures.actual_percent,
        ]
        + [
            _("SPI"),
            figures.spi if figures.spi is not None else "",
            _("Late tasks"),
            figures.late_tasks,
        ],
    )
    append_text_safe(sheet, [])
    header = [
        _("WBS"),
        _("Task"),
        _("Owner"),
        _("Department"),
        _("Due"),
        _("Planned progress"),
        _("Actual progress"),
        _("Variance"),
        _("Working days late"),
        _("Forecast finish"),
        _("Cause"),
        _("Action"),
    ]
    append_text_safe(sheet, header)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for r in table.rows:
        m = r.measure
        append_text_safe(
            sheet,
            [
                r.task.wbs_code,
                r.task.name,
                r.task.owner.name if r.task.owner else "",
                r.task.department.name if r.task.department else "",
                m.due,
                m.planned_percent,
                m.actual_percent,
                m.variance,
                m.days_late,
                m.forecast_finish,
                r.note.cause if r.note else "",
                r.note.action if r.note else "",
            ],
        )
    buffer = BytesIO()
    book.save(buffer)
    filename = f"{table.project.code}-tracking-{table.week}.xlsx"
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
