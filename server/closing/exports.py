"""The acceptance sheet (验收单) as a spreadsheet: pure, data in, bytes out."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from server import i18n
from server.closing.models import ACCEPTANCE_STATUS_LABELS, Acceptance
from server.i18n import gettext as _
from server.projects.models import Project
from server.sheets import XLSX_MEDIA_TYPE as XLSX_MEDIA_TYPE
from server.sheets import append_text_safe


def acceptance_file_name(project: Project) -> str:
    return f"{project.code}-acceptance.xlsx"


def acceptance_xlsx(
    project: Project, acceptances: Sequence[Acceptance], language: str, zone: str
) -> bytes:
    """One row per hand-over: what was delivered, to whom, the verdict, by whom and when."""
    with i18n.speaking(language):
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = _("Acceptance sheet")[:31]
        append_text_safe(sheet, [_("Acceptance sheet"), project.name, project.code])
        append_text_safe(
            sheet,
            [
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
            ],
        )
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for a in acceptances:
            append_text_safe(
                sheet,
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
                ],
            )
        widths = (8, 24, 30, 12, 10, 18, 10, 10, 18, 30, 30)
        for column, width in zip("ABCDEFGHIJK", widths, strict=True):
            sheet.column_dimensions[column].width = width
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
