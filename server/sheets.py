"""Spreadsheet rows that show text as text, whatever a user typed into it. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet


def append_text_safe(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Append a row in which no user text becomes a formula (a task named
    '=HYPERLINK(…)' stays those characters) and control characters, which the file format
    cannot hold, are left out."""
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
