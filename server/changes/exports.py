"""The change log as a spreadsheet and one change request as Word: pure, data in, bytes out."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from io import BytesIO
from typing import Any

from docx import Document
from openpyxl import Workbook
from openpyxl.styles import Font

from server import i18n
from server.changes.models import CHANGE_KIND_LABELS, CHANGE_STATUS_LABELS, ChangeRequest
from server.i18n import gettext as _
from server.projects.models import Project
from server.sheets import append_text_safe


def log_file_name(project: Project) -> str:
    return f"{project.code}-changes.xlsx"


def request_file_name(project: Project, request: ChangeRequest) -> str:
    return f"{project.code}-{request.code}.docx"


def _finish(request: ChangeRequest) -> str:
    delta = request.impact.get("deltaWorkingDays")
    return "" if delta is None else f"{int(delta):+d}"


def change_log_xlsx(
    project: Project, requests: Sequence[ChangeRequest], language: str, zone: str
) -> bytes:
    """The change log (变更记录): one row per request, newest first, as on the page."""
    with i18n.speaking(language):
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = _("Change requests")[:31]
        append_text_safe(sheet, [_("Change requests"), project.name, project.code])
        append_text_safe(
            sheet,
            [
                _("Number"),
                _("Title"),
                _("Kind of change"),
                _("Requested by department"),
                _("Status"),
                _("Finish moves (working days)"),
                _("Cost change (CNY)"),
                _("Submitted"),
                _("Decided"),
                _("Reason"),
            ],
        )
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for r in requests:
            sheet.append(
                [
                    r.code,
                    r.title,
                    _(CHANGE_KIND_LABELS[r.kind]),
                    r.requester_department.name if r.requester_department else "",
                    _(CHANGE_STATUS_LABELS[r.status]),
                    _finish(r),
                    float(Decimal(r.cost_delta)),
                    i18n.format_instant(r.submitted_at, zone) if r.submitted_at else "",
                    i18n.format_instant(r.decided_at, zone) if r.decided_at else "",
                    r.reason,
                ]
            )
            sheet.cell(row=sheet.max_row, column=7).number_format = "#,##0.00"
        for column, width in zip(
            "ABCDEFGHIJ", (10, 28, 10, 14, 12, 12, 14, 18, 18, 40), strict=True
        ):
            sheet.column_dimensions[column].width = width
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def request_docx(
    project: Project,
    request: ChangeRequest,
    edits: Sequence[str],
    approvers: Sequence[tuple[str, str]],
    language: str,
) -> bytes:
    """One request to print or file: what changes and why, its computed impact, its edits in
    words, and where the approvals stand (`approvers`: who, and their decision)."""
    impact: dict[str, Any] = request.impact
    with i18n.speaking(language):
        doc = Document()
        doc.add_heading(f"{request.code} {request.title}", level=0)
        doc.add_paragraph(
            f"{project.name} ({project.code}) · {_(CHANGE_STATUS_LABELS[request.status])}"
        )
        doc.add_paragraph(f"{_('Kind of change')}: {_(CHANGE_KIND_LABELS[request.kind])}")
        doc.add_paragraph(f"{_('Reason')}: {request.reason}")
        doc.add_paragraph(f"{_('Cost change (CNY)')}: {Decimal(request.cost_delta):,.2f}")
        if request.impact_notes:
            doc.add_paragraph(f"{_('Other effects')}: {request.impact_notes}")
        doc.add_heading(_("Impact (computed from the plan)"), level=1)
        if impact.get("finishBefore"):
            doc.add_paragraph(
                f"{_('Project finish')}: {impact['finishBefore']} → {impact['finishAfter']} "
                f"({_finish(request)})"
            )
            for moved in impact.get("milestones", []):
                doc.add_paragraph(
                    f"{moved['name']}: {moved['before'] or '—'} → {moved['after'] or '—'}",
                    style="List Bullet",
                )
            for department in impact.get("departments", []):
                doc.add_paragraph(
                    f"{department['name']}: "
                    + _("%(count)s tasks move", count=len(department["tasksMoved"])),
                    style="List Bullet",
                )
        doc.add_heading(_("Proposed edits"), level=1)
        for line in edits:
            doc.add_paragraph(line, style="List Number")
        doc.add_heading(_("Approvals"), level=1)
        table = doc.add_table(rows=len(approvers), cols=2)
        table.style = "Table Grid"
        for row, (who, decision) in zip(table.rows, approvers, strict=True):
            row.cells[0].text, row.cells[1].text = who, decision
        doc.add_paragraph(f"{_('Content hash')}: {request.content_hash}")
    buffer = BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
