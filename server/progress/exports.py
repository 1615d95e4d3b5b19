"""The weekly tracking table out of Xietong: its chart as SVG and the table as Excel, in the
reader's language. Pure: a tracking table in, bytes out (the page draws the same chart)."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from server import i18n
from server.i18n import gettext as _
from server.progress.tracking import TrackingTable
from server.sheets import XLSX_MEDIA_TYPE as XLSX_MEDIA_TYPE
from server.sheets import append_text_safe
from server.templating import render

# The left margin holds "100%" at 15 px; 36 clipped it to "00%".
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 240, 52


def chart(table: TrackingTable) -> dict[str, object]:
    """Planned and actual % over the snapshot days as SVG polyline points."""
    shots = table.snapshots
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    step = inner_w / max(len(shots) - 1, 1)

    def y(percent: float) -> float:
        return round(CHART_PAD + inner_h * (1 - percent / 100), 1)

    def coordinates(values: list[float]) -> list[tuple[float, float]]:
        return [(round(CHART_PAD + i * step, 1), y(v)) for i, v in enumerate(values)]

    def points(values: list[float]) -> str:
        return " ".join(f"{x},{yy}" for x, yy in coordinates(values))

    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "pad": CHART_PAD,
        "planned": points([s.planned_percent for s in shots]),
        "actual": points([s.actual_percent for s in shots]),
        # Dots as well as lines: one snapshot is a point a line cannot draw.
        "planned_dots": coordinates([s.planned_percent for s in shots]),
        "actual_dots": coordinates([s.actual_percent for s in shots]),
        "grid": [(p, y(p)) for p in (0, 25, 50, 75, 100)],
        "first": shots[0].day if shots else None,
        "last": shots[-1].day if shots else None,
        "count": len(shots),
    }


def tracking_svg(table: TrackingTable, language: str) -> bytes:
    svg = render("progress/_progress_chart.svg", language, chart=chart(table), standalone=True)
    return svg.encode()


def tracking_file_name(table: TrackingTable) -> str:
    return f"{table.project.code}-tracking-{table.week}.xlsx"


def tracking_xlsx(table: TrackingTable, language: str) -> bytes:
    with i18n.speaking(language):
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
    return buffer.getvalue()
