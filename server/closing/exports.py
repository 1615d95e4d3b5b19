"""The acceptance sheet (验收单) as a spreadsheet and as Word: pure, data in, bytes out."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from docx import Document
from docx.enum.section import WD_ORIENT
from openpyxl import Workbook
from openpyxl.styles import Font

from server import i18n
from server.closing.models import ACCEPTANCE_STATUS_LABELS, Acceptance
from server.i18n import gettext as _
from server.projects.models import Project
from server.sheets import XLSX_MEDIA_TYPE as XLSX_MEDIA_TYPE
from server.sheets import append_text_safe


def acceptance_file_name(project: Project, extension: str = "xlsx") -> str:
    return f"{project.code}-acceptance.{extension}"


def _header() -> list[str]:
    return [
        _("WBS"),
        _("Task"),
        _("Deliverable"),
        _("Receiving department"),
        _("Submitted by"),
        _("Submitted"),
        _("Status"),
        _("Decided by"),
        _("Decided"),
        _("Comment"),
        _("Evidence"),
    ]


def _rows(acceptances: Sequence[Acceptance], zone: str) -> list[list[str]]:
    """One row per hand-over: what was delivered, to whom, the verdict, by whom and when."""
    return [
        [
            a.task.wbs_code,
            a.task.name,
            a.deliverable,
            a.receiving_department.name,
            a.submitted_by.name if a.submitted_by else "",
            i18n.format_instant(a.submitted_at, zone),
            _(ACCEPTANCE_STATUS_LABELS[a.status]),
            a.decided_by.name if a.decided_by else "",
            i18n.format_instant(a.decided_at, zone) if a.decided_at else "",
            a.comment,
            a.evidence_link,
        ]
        for a in acceptances
    ]


def acceptance_xlsx(
    project: Project, acceptances: Sequence[Acceptance], language: str, zone: str
) -> bytes:
    with i18n.speaking(language):
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = _("Acceptance sheet")[:31]
        append_text_safe(sheet, [_("Acceptance sheet"), project.name, project.code])
        append_text_safe(sheet, _header())
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in _rows(acceptances, zone):
            append_text_safe(sheet, row)
        widths = (8, 24, 30, 12, 10, 18, 10, 10, 18, 30, 30)
        for column, width in zip("ABCDEFGHIJK", widths, strict=True):
            sheet.column_dimensions[column].width = width
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def acceptance_docx(
    project: Project, acceptances: Sequence[Acceptance], language: str, zone: str
) -> bytes:
    """The same sheet as a Word document to print and sign on paper, landscape."""
    with i18n.speaking(language):
        doc = Document()
        section = doc.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
        doc.add_heading(f"{project.name} · {_('Acceptance sheet')}", level=0)
        doc.add_paragraph(project.code)
        header = _header()
        rows = _rows(acceptances, zone)
        table = doc.add_table(rows=1 + len(rows), cols=len(header))
        table.style = "Table Grid"
        for r, cells in enumerate([header, *rows]):
            for i, text in enumerate(cells):
                table.rows[r].cells[i].text = text
    buffer = BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
