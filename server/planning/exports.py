"""The plan out of Xietong: the Gantt chart as SVG and the work breakdown as Excel, in the
reader's language, and the plan page's chart, phone list and task list drawn from the same
rows. Pure: a plan view in, text or bytes out."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from html import escape
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from server import i18n
from server.i18n import gettext as _
from server.i18n import working_days
from server.planning.calendar import WorkingCalendar
from server.planning.queries import PlanRow, PlanView
from server.projects.models import Project
from server.sheets import XLSX_MEDIA_TYPE as XLSX_MEDIA_TYPE
from server.sheets import append_text_safe
from server.validation import CONTROL_CHARACTERS

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
    with i18n.speaking(language):
        return gantt_markup(project, geometry, standalone=True).encode()


def _text(value: object) -> str:
    """Text entering the markup: escaped, and without the control characters XML forbids
    (rows stored before they were refused). A page writes each task's name and code four
    times (chart, names column, phone list, task list): short texts are escaped once per
    process, in a plain dict (some 7,000 look-ups a page, where lru_cache's own cost showed);
    long ones (a deliverable may be pages) are not kept."""
    text = value if type(value) is str else str(value)
    escaped = _ESCAPED_TEXTS.get(text)
    if escaped is None:
        escaped = _escaped(text)
        if len(text) <= 200:
            if len(_ESCAPED_TEXTS) >= 1 << 14:
                _ESCAPED_TEXTS.clear()  # bounded: a fresh start costs one page's escaping
            _ESCAPED_TEXTS[text] = escaped
    return escaped


_ESCAPED_TEXTS: dict[str, str] = {}


def _day(value: date) -> str:
    """A day as the reader's language writes it, escaped: kept per process and language (a
    plan repeats a few hundred days some 3,000 times)."""
    return _escaped_day(value, i18n.current_language.get())


@lru_cache(maxsize=1 << 14)
def _escaped_day(value: date, language: str) -> str:
    return _escaped(i18n.format_day(value, language))


def _escaped(text: str) -> str:
    return escape(CONTROL_CHARACTERS.sub("", text))


def gantt_markup(
    project: Project, gantt: dict[str, Any], *, standalone: bool = False, edit_links: bool = False
) -> str:
    """The chart as SVG text. Built as strings, not by the template engine: a 500-task plan
    is some 10,000 attributes, and only names and dates are text that needs escaping."""
    labels = 220 if standalone else 0
    width, height = gantt["width"] + labels, gantt["height"]
    day_width = gantt["day_width"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gantt" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_text(_("Gantt chart"))} {_text(project.name)}" '
        'font-family="sans-serif" font-size="11">'
    ]
    if labels:
        parts.extend(_task_labels(gantt, labels))
    parts.append(
        '<defs><marker id="arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#52606d"/>'
        "</marker></defs>"
    )
    parts.extend(
        f'<rect x="{x}" y="16" width="{day_width}" height="{height - 16}" fill="#eef2f6"/>'
        for x in gantt["shaded"]
    )
    parts.extend(
        f'<line x1="{x}" y1="0" x2="{x}" y2="{height}" stroke="#cbd2d9"/>'
        f'<text x="{x + 3}" y="11" fill="#52606d">{_text(label)}</text>'
        for x, label in gantt["months"]
    )
    parts.extend(
        f'<path d="{path}" fill="none" stroke="#52606d" stroke-width="1" marker-end="url(#arrow)"/>'
        for path in gantt["arrows"]
    )
    bars = _Bars(project.code, day_width, edit_links and not standalone)
    parts.extend(bars.bar(bar) for bar in gantt["bars"])
    if gantt["today"] is not None:
        parts.append(
            f'<line x1="{gantt["today"]}" y1="14" x2="{gantt["today"]}" y2="{height}" '
            'stroke="#2563eb" stroke-width="2" stroke-dasharray="4 3"/>'
        )
    if labels:
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def gantt_names_markup(rows: list[PlanRow]) -> str:
    """The names column the page shows beside the chart, a line for each row of it."""
    return "".join(
        f'<div class="gantt-name depth-{row.depth}{" summary" if row.is_summary else ""}">'
        f"{_text(row.task.wbs_code)} {_text(row.task.name)}</div>"
        for row in rows
    )


class _TaskList:
    """The words and days the task list repeats on every row, translated and escaped once
    per page."""

    def __init__(self, plan_url: str, can_edit: bool) -> None:
        self.plan_url = _text(plan_url)
        self.can_edit = can_edit
        self.labels = [
            _text(word)
            for word in (
                _("WBS"),
                _("Task"),
                _("Owner"),
                _("Department"),
                _("Start"),
                _("Finish"),
                _("Float"),
                _("Deliverable"),
            )
        ]
        self.milestone = f' <span class="badge">{_text(_("Milestone"))}</span>'
        self.critical = f' <span class="badge critical">{_text(_("Critical"))}</span>'
        self.details = _text(_("Details"))

    def row(self, row: PlanRow) -> str:
        task, schedule, label = row.task, row.schedule, self.labels
        critical = schedule is not None and schedule.is_critical
        kind = ("summary" if row.is_summary else "") + (" critical" if critical else "")
        name = f"<strong>{_text(task.name)}</strong>"
        if self.can_edit:
            edit = f"{self.plan_url}/plan/tasks/{task.id}/edit"
            name = (
                f'<a href="{edit}" hx-get="{edit}" hx-target="#task-{task.id}" '
                f'hx-swap="outerHTML">{name}</a>'
            )
        if task.is_milestone:
            name += self.milestone
        if critical and not row.is_summary:
            name += self.critical
        name += (
            f' <a class="task-details" href="{self.plan_url}/tasks/{task.id}">{self.details}</a>'
        )
        start = finish = slack = ""
        if schedule is not None:
            start, finish = _day(schedule.early_start), _day(schedule.early_finish)
            if not row.is_summary:
                slack = _text(working_days(schedule.total_float))
        if row.forecast_late:
            words = _("Forecast late by %(days)s working days", days=row.forecast_late)
            finish += f' <span class="badge late">{_text(words)}</span>'
        return (
            f'<tr id="task-{task.id}" class="{kind}">'
            f'<td data-label="{label[0]}">{_text(task.wbs_code)}</td>'
            f'<td data-label="{label[1]}">{name}</td>'
            f'<td data-label="{label[2]}">{_text(row.owner or "—")}</td>'
            f'<td data-label="{label[3]}">{_text(row.department or "—")}</td>'
            f'<td data-label="{label[4]}">{start}</td>'
            f'<td data-label="{label[5]}">{finish}</td>'
            f'<td data-label="{label[6]}">{slack}</td>'
            f'<td data-label="{label[7]}">{_text(task.deliverable or "—")}</td></tr>'
        )


def task_list_rows(rows: list[PlanRow], plan_url: str, can_edit: bool) -> list[tuple[int, str]]:
    """The task list beside the chart, a table row for each task (keyed by task, so the page
    can put the open form in its task's place). Built as strings for the same reason as
    the chart: some 13,000 values on a 500-task plan, a handful of them text."""
    words = _TaskList(plan_url, can_edit)
    return [(row.task.id, words.row(row)) for row in rows]


def phase_options(rows: list[Any], form_id: str, selected: str | None) -> str:
    """The phase picker's choices in a task's form: phases and top-level tasks, in outline
    order, never a milestone or the task itself. Built as strings: a 500-task plan lists
    hundreds, and the form is opened by a tap that waits for them."""
    options = []
    for row in rows:
        task = row.task
        if not (row.is_summary or not task.parent_id) or task.is_milestone:
            continue
        value = str(task.id)
        if value == form_id:
            continue
        chosen = " selected" if value == selected else ""
        options.append(
            f'<option value="{value}"{chosen}>{_text(task.wbs_code)} {_text(task.name)}</option>'
        )
    return "".join(options)


def predecessor_options(rows: list[Any], task_id: int, chosen: int | None) -> str:
    """The predecessor picker's choices in a task's form: the given tasks that are not
    phases, other than the task itself, in the order given."""
    options = []
    for row in rows:
        task = row.task
        if row.is_summary or task.id == task_id:
            continue
        label = f"{_text(task.wbs_code)} {_text(task.name)}"
        selected = " selected" if task.id == chosen else ""
        options.append(f'<option value="{task.id}"{selected}>{label}</option>')
    return "".join(options)


def gantt_phone_markup(project: Project, gantt: dict[str, Any]) -> str:
    """Phones (< 700 px): the plan as a list, each task a full-width row to tap, with its bar
    drawn to the same time scale as the chart (SVG attributes, no inline styles)."""
    bars = _Bars(project.code, gantt["day_width"], edit_links=False)
    scale = 1000 / (gantt["width"] or 1)
    items = "".join(bars.phone_row(bar, scale) for bar in gantt["bars"])
    return f'<ol class="gantt-phone" aria-label="{_text(_("Gantt chart"))}">{items}</ol>'


def _task_labels(gantt: dict[str, Any], labels: int) -> list[str]:
    """A file shared on its own (PNG in a chat, PDF on paper) names its tasks; the page shows
    them in its table."""
    parts = [
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="4" y="11" fill="#52606d">{_text(_("Task"))}</text>',
    ]
    for bar in gantt["bars"]:
        row = bar["row"]
        name = row.task.name if len(row.task.name) <= 16 else row.task.name[:15] + "…"
        weight = ' font-weight="bold"' if row.is_summary else ""
        parts.append(
            f'<text x="{4 + 8 * row.depth}" y="{bar["y"] + 13}" fill="#1f2933"{weight}>'
            f"{_text(row.task.wbs_code)} {_text(name)}</text>"
        )
    parts.append(
        f'<line x1="{labels - 1}" y1="0" x2="{labels - 1}" y2="{gantt["height"]}" '
        'stroke="#cbd2d9"/>'
    )
    parts.append(f'<g transform="translate({labels},0)">')
    return parts


class _Bars:
    """One task's bar; the words every bar repeats are translated once per chart."""

    def __init__(self, project_code: str, day_width: int, edit_links: bool) -> None:
        self.project_code = _text(project_code)
        self.day_width = day_width
        self.edit_links = edit_links
        self.float_word = _text(_("Float"))
        self.critical_word = _text(_("Critical"))

    def bar(self, bar: dict[str, Any]) -> str:
        row, x, y = bar["row"], bar["x"], bar["y"]
        task, schedule = row.task, row.schedule
        critical = schedule.is_critical
        floats = "" if row.is_summary else f" · {self.float_word} {schedule.total_float}"
        parts = [
            f'<g class="bar{" critical" if critical else ""}" id="bar-{task.id}">'
            f"<title>{_text(task.wbs_code)} {_text(task.name)}: "
            f"{_day(schedule.early_start)} – {_day(schedule.early_finish)}{floats}"
            "</title>"
        ]
        if bar["baseline"]:
            left, span = bar["baseline"]
            parts.append(
                f'<rect x="{left}" y="{y + 15}" width="{span}" height="4" fill="#9aa5b1"/>'
            )
        if task.is_milestone:
            parts.append(
                f'<path d="M{x + self.day_width / 2:g},{y + 1} l7,8 l-7,8 l-7,-8 z" '
                f'fill="{"#c81e1e" if critical else "#1f2933"}"/>'
            )
        elif row.is_summary:
            parts.append(self._summary(bar, task))
        else:
            parts.append(self._work(bar, critical))
        parts.append("</g>")
        if self.edit_links:
            edit = f"/projects/{self.project_code}/plan/tasks/{task.id}/edit"
            parts.insert(
                0,
                f'<a href="{edit}" hx-get="{edit}" hx-target="#task-{task.id}" '
                f'hx-swap="outerHTML show:#task-{task.id}:top" class="bar-link">',
            )
            parts.append("</a>")
        return "".join(parts)

    def phone_row(self, bar: dict[str, Any], scale: float) -> str:
        row, task, schedule = bar["row"], bar["row"].task, bar["row"].schedule
        critical = schedule.is_critical
        words = f"{_day(schedule.early_start)} – {_day(schedule.early_finish)}"
        if not row.is_summary:
            slack = self.critical_word if critical else _text(working_days(schedule.total_float))
            words += f" · {slack}"
        if task.percent_complete:
            words += f" · {task.percent_complete}%"
        left = round(bar["x"] * scale, 1)
        width = round(max(bar["width"] * scale, 6), 1)
        shapes = '<rect x="0" y="5" width="1000" height="2" fill="#e4e7eb"/>'
        if not row.is_summary and bar["float_to"] > bar["x"] + bar["width"]:
            slack_width = round((bar["float_to"] - bar["x"] - bar["width"]) * scale, 1)
            shapes += (
                f'<rect x="{left + width:g}" y="5" width="{slack_width:g}" height="2" '
                'fill="#7b8794"/>'
            )
        colour = "#1f2933" if row.is_summary else ("#f8b4b4" if critical else "#a7d7c5")
        shapes += f'<rect x="{left:g}" y="1" width="{width:g}" height="10" rx="2" fill="{colour}"/>'
        if bar["progress"] and not row.is_summary:
            shapes += (
                f'<rect x="{left:g}" y="1" width="{round(width * bar["progress"] / 100, 1):g}" '
                f'height="10" rx="2" fill="{"#c81e1e" if critical else "#0b6e4f"}"/>'
            )
        kind = (" summary" if row.is_summary else "") + (" critical" if critical else "")
        return (
            f'<li class="depth-{row.depth}{kind}">'
            f'<a href="/projects/{self.project_code}/tasks/{task.id}" class="gantt-phone-row">'
            f'<span class="gantt-phone-name">{_text(task.wbs_code)} {_text(task.name)}</span>'
            f'<span class="gantt-phone-dates muted">{words}</span>'
            '<svg class="gantt-phone-bar" viewBox="0 0 1000 12" preserveAspectRatio="none" '
            f'aria-hidden="true">{shapes}</svg></a></li>'
        )

    def _summary(self, bar: dict[str, Any], task: Any) -> str:
        x, y, buffer = bar["x"], bar["y"], bar["buffer"]
        width = bar["width"] - (buffer[1] if buffer else 0)
        text = f'<rect x="{x}" y="{y + 3}" width="{width}" height="7" fill="#1f2933"/>'
        if buffer:
            words = _text(_("Buffer: %(days)s working days", days=task.buffer_days))
            text += (
                f'<rect class="buffer" x="{buffer[0]}" y="{y + 3}" width="{buffer[1]}" '
                'height="7" fill="#f7c948" stroke="#cb6e17" stroke-dasharray="3 2">'
                f"<title>{words}</title></rect>"
            )
        return text

    def _work(self, bar: dict[str, Any], critical: bool) -> str:
        x, y, width = bar["x"], bar["y"], bar["width"]
        text = ""
        if bar["float_to"] > x + width:
            text += (
                f'<line x1="{x + width}" y1="{y + 9}" x2="{bar["float_to"]}" y2="{y + 9}" '
                'stroke="#7b8794" stroke-width="1.5" stroke-dasharray="3 2"/>'
            )
        text += (
            f'<rect x="{x}" y="{y + 2}" width="{width}" height="13" rx="2" '
            f'fill="{"#f8b4b4" if critical else "#a7d7c5"}"/>'
        )
        if bar["progress"]:
            text += (
                f'<rect x="{x}" y="{y + 2}" width="{width * bar["progress"] / 100:g}" '
                f'height="13" rx="2" fill="{"#c81e1e" if critical else "#0b6e4f"}"/>'
            )
        return text


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
