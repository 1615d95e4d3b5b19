"""Step 3 out of Xietong: the requirements and the resource requests as Excel, in the
reader's language. Pure: rows in, bytes out."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from server import i18n
from server.i18n import gettext as _
from server.projects.models import Project
from server.requirements.models import (
    GAP_RESOLUTION_LABELS,
    GAP_STATE_LABELS,
    PRIORITY_LABELS,
    REQUIREMENT_STATUS_LABELS,
    RESOURCE_KIND_LABELS,
    RESOURCE_STATUS_LABELS,
    Requirement,
    ResourceRequest,
)
from server.sheets import XLSX_MEDIA_TYPE as XLSX_MEDIA_TYPE
from server.sheets import append_text_safe


def _book(title: str, project: Project, header: list[str]) -> tuple[Workbook, Worksheet]:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    append_text_safe(sheet, [project.name, project.code])
    append_text_safe(sheet, header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    return book, sheet


def _bytes(book: Workbook) -> bytes:
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def requirements_xlsx(project: Project, rows: Sequence[Requirement], language: str) -> bytes:
    with i18n.speaking(language):
        header = [
            _("No."),
            _("Department"),
            _("Requirement"),
            _("Priority"),
            _("Asked of"),
            _("Acceptance criterion"),
            _("Needed by"),
            _("Status"),
            _("Review decision"),
            _("Merged into"),
            _("Description"),
        ]
        book, sheet = _book(_("Requirements"), project, header)
        for r in rows:
            append_text_safe(
                sheet,
                [
                    r.id,
                    r.department.name,
                    r.title,
                    _(PRIORITY_LABELS[r.priority]),
                    r.asked_of.name if r.asked_of else "",
                    r.acceptance_criterion,
                    r.needed_by,
                    _(REQUIREMENT_STATUS_LABELS[r.status]),
                    r.decision_reason,
                    r.merged_into.title if r.merged_into else "",
                    r.description,
                ],
            )
    return _bytes(book)


def resources_xlsx(project: Project, rows: Sequence[ResourceRequest], language: str) -> bytes:
    with i18n.speaking(language):
        header = [
            _("No."),
            _("Department"),
            _("Kind"),
            _("Description"),
            _("Quantity"),
            _("Unit"),
            _("Amount"),
            _("Currency"),
            _("Needed by"),
            _("Supplier"),
            _("Status"),
            _("Supplier's comment"),
            _("Gap"),
            _("Gap resolution"),
            _("Resolution note"),
            _("Management's comment"),
        ]
        book, sheet = _book(_("Resource requests"), project, header)
        for q in rows:
            append_text_safe(
                sheet,
                [
                    q.id,
                    q.department.name,
                    _(RESOURCE_KIND_LABELS[q.kind]),
                    q.description,
                    q.quantity,
                    q.unit,
                    q.amount,
                    q.currency,
                    q.needed_by,
                    q.supplier.name if q.supplier else _("project budget"),
                    _(RESOURCE_STATUS_LABELS[q.status]),
                    q.decision_comment,
                    _(GAP_STATE_LABELS[q.gap_state]),
                    _(GAP_RESOLUTION_LABELS[q.gap_resolution]) if q.gap_resolution else "",
                    q.gap_note,
                    q.management_comment,
                ],
            )
            amount_cell = sheet.cell(sheet.max_row, 7)
            amount_cell.number_format = "#,##0.00"
    return _bytes(book)
