"""Spreadsheet rows that show text as text, whatever a user typed into it, and the CSV twin
of every workbook. Pure, no I/O."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, datetime, time
from io import BytesIO, StringIO
from typing import Any

from openpyxl import load_workbook
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


CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# A cell starting with one of these is a formula to Excel and WPS opening a CSV.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        # The apostrophe Excel itself shows for text that looks like a formula.
        return "'" + value
    return value


def csv_from_xlsx(data: bytes) -> bytes:
    """The first sheet of a workbook as CSV: UTF-8 with a byte-order mark, so Excel on
    Windows reads Chinese correctly, and no cell that Excel would run as a formula.

    Made from the workbook itself, so the two files of an export never differ."""
    book = load_workbook(BytesIO(data), read_only=True, data_only=True)
    try:
        out = StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for row in book.worksheets[0].iter_rows(values_only=True):
            writer.writerow([_csv_cell(value) for value in row])
    finally:
        book.close()
    return ("\ufeff" + out.getvalue()).encode("utf-8")
