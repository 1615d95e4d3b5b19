"""The plan out of Xietong: the Gantt chart as SVG and the work breakdown as Excel, in the
reader's language. Pure: a plan view in, bytes out (the page draws the same geometry)."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from server import i18n
from server.i18n import gettext as _
from server.planning.calendar import WorkingCalendar
from server.planning.queries import PlanRow, PlanView
from server.projects.models import Project
from server.sheets import XLSX_MEDIA_TYPE as XLSX_MEDIA_TYPE
from server.sheets import append_text_safe
from server.templating import render

DAY_WIDTH = 14
ROW_HEIGHT = 28
LABEL_WIDTH = 0  # names sit in the list beside the chart, not inside it


def _buffer_bar(row: PlanRow, calendar: WorkingCalendar, x: Any) -> tuple[int, int] | None:
    """Where a phase's buffer sits: after its last task, up to the phase's finish."""
    if not row.is_summary or not row.task.buffer_days or row.schedule is None:
        return None
    work_done = calendar.add_working_days(row.schedule.early_finish, -row.task.buffer_days)
    left = x(work_done) + DAY_WIDTH
    return left, x(row.schedule.early_finish) + DAY_WIDTH - left


def gantt_geometry(
    rows: list[PlanRow], calendar: WorkingCalendar, start: date, today: date
) -> dict[str, Any]:
    """Geometry of the chart: one column per calendar day, non-working days shaded."""
    finish = max(
        [r.schedule.late_finish for r in rows if r.schedule]
        + [r.baseline.finish for r in rows if r.baseline]
        + [start],
    )
    days = (finish - start).days + 8

    def x(day: date) -> int:
        return (day - start).days * DAY_WIDTH

    shaded = [
        x(start + timedelta(days=i))
        for i in range(days)
        if not calendar.is_working_day(start + timedelta(days=i))
    ]
    months = []
    for i in range(days):
        day = start + timedelta(days=i)
        if day.day == 1 or i == 0:
            months.append((x(day), f"{day.year}-{day.month:02d}"))
    position = {r.task.id: i for i, r in enumerate(rows)}
    bars: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        if not r.schedule:
            continue
        s = r.schedule
        y = 24 + i * ROW_HEIGHT
        bars.append(
            {
                "row": r,
                "y": y,
                "x": x(s.early_start),
                "width": max((s.early_finish - s.early_start).days + 1, 1) * DAY_WIDTH,
                "float_to": x(s.late_finish) + DAY_WIDTH,
                "baseline": (
                    x(r.baseline.start),
                    ((r.baseline.finish - r.baseline.start).days + 1) * DAY_WIDTH,
                )
                if r.baseline
                else None,
                "progress": r.task.percent_complete,
                "buffer": _buffer_bar(r, calendar, x),
            }
        )
    by_task = {b["row"].task.id: b for b in bars}
    arrows = []
    for b in bars:
        for predecessor in b["row"].predecessors:
            p = by_task.get(predecessor)
            if p is None or predecessor not in position:
                continue
            x1, y1 = p["x"] + p["width"], p["y"] + 9
            x2, y2 = b["x"], b["y"] + 9
            arrows.append(f"M{x1},{y1} H{max(x1 + 4, x2 - 6)} V{y2} H{x2}")
    return {
        "width": days * DAY_WIDTH,
        "height": 24 + len(rows) * ROW_HEIGHT + 8,
        "shaded": shaded,
        "months": months,
        "bars": bars,
        "arrows": arrows,
        "today": x(today) if start <= today <= finish else None,
        "day_width": DAY_WIDTH,
        "row_height": ROW_HEIGHT,
    }


def gantt_svg(project: Project, view: PlanView, today: date, language: str) -> bytes:
    geometry = gantt_geometry(view.rows, view.calendar, project.start_date, today)
    svg = render("planning/_gantt.svg", language, project=project, gantt=geometry, standalone=True)
    return svg.encode()


def predecessors_text(row: PlanRow, codes: dict[int, str]) -> str:
    """The task's predecessors in MS Project's notation with WBS codes: "1.2" for
    finish-to-start, "1.2SS+2" otherwise or with a lag (working days)."""
    parts = []
    for link in row.links:
        if link.successor_id != row.task.id or link.predecessor_id not in codes:
            continue
        kind = str(link.type)
        shown = "" if kind == "FS" and not link.lag_days else kind
        lag = f"{link.lag_days:+d}" if link.lag_days else ""
        parts.append(f"{codes[link.predecessor_id]}{shown}{lag}")
    return ", ".join(parts)


def plan_xlsx(
    view: PlanView, language: str, attachments: dict[int, list[str]] | None = None
) -> bytes:
    """The work breakdown; `attachments` are each task's file links (name: address)."""
    attachments = attachments or {}
    with i18n.speaking(language):
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = _("Work breakdown")[:31]
        append_text_safe(
            sheet,
            [
                _("WBS"),
                _("Task"),
                _("Owner"),
                _("Department"),
                _("Scheduled start"),
                _("Scheduled finish"),
                _("Working days"),
                _("Predecessors"),
                _("Total float"),
                _("Critical"),
                _("Deliverable"),
                _("Baseline finish"),
                _("Forecast late (working days)"),
                _("Attachments"),
            ],
        )
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        codes = {r.task.id: r.task.wbs_code for r in view.rows}
        for r in view.rows:
            s = r.schedule
            append_text_safe(
                sheet,
                [
                    r.task.wbs_code,
                    ("    " * r.depth) + r.task.name,
                    r.owner,
                    r.department,
                    s.early_start if s else r.task.planned_start,
                    s.early_finish if s else r.task.planned_finish,
                    r.task.duration_days,
                    predecessors_text(r, codes),
                    s.total_float if s else None,
                    _("Yes") if s and s.is_critical else "",
                    r.task.deliverable,
                    r.baseline.finish if r.baseline else None,
                    r.forecast_late or None,
                    "\n".join(attachments.get(r.task.id, [])),
                ],
            )
        widths = (8, 32, 10, 10, 12, 12, 10, 14, 10, 8, 30, 12, 12, 40)
        for column, width in zip("ABCDEFGHIJKLMN", widths, strict=True):
            sheet.column_dimensions[column].width = width
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
