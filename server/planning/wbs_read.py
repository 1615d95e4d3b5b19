"""Reading the work breakdown workbook this product exports (wbs.xlsx), edited in Excel or
WPS, back into a plan for the import's preview. Pure: bytes in, a PlanFile out, the same
PlanFile an MS Project file gives, so both go through one preview and one import.

Columns are found by their headings in either language. What the plan takes from a row:
the WBS code (its outline level, and the name its successors use), the name, the working
days (0 on a leaf: a milestone), predecessors in MS Project's notation with WBS codes
("1.2", "1.2FS+2", "3SS-1", several separated by commas), owner, department, deliverable.
The scheduled start, finish and float are the sheet's computed values: they are compared
with ours after the import, and a leaf with no predecessors that starts after the project
keeps that start as "start no earlier than", so an unedited export comes back unchanged.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from io import BytesIO
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from server.errors import Invalid
from server.i18n import LANGUAGES, N_, translate
from server.planning.models import DependencyType
from server.planning.mspdi_read import MAX_FILE_BYTES, FileLink, FileTask, PlanFile, Problem

MAX_ROWS = 20_000
# Heading (as exported, in English) → the field it fills.
HEADINGS = {
    "WBS": "wbs",
    "Task": "name",
    "Owner": "owner",
    "Department": "department",
    "Scheduled start": "start",
    "Scheduled finish": "finish",
    "Working days": "duration",
    "Predecessors": "predecessors",
    "Total float": "float",
    "Deliverable": "deliverable",
}
# Headings people type themselves, as MS Project and WPS name those columns.
ALIASES = {
    "wbs": "wbs",
    "任务名称": "name",
    "名称": "name",
    "name": "name",
    "工期": "duration",
    "duration": "duration",
    "前置任务": "predecessors",
    "predecessor": "predecessors",
    "资源名称": "owner",
}
REQUIRED = ("wbs", "name", "duration")
_WBS = re.compile(r"^\d+(?:\.\d+)*$")
_PREDECESSOR = re.compile(
    r"^(?P<code>\d+(?:\.\d+)*)\s*(?P<type>FS|SS|FF|SF)?\s*"
    r"(?:(?P<lag>[+-]\s*\d+)\s*(?:d|days?|天|个?工作日)?)?$",
    re.IGNORECASE,
)


def is_workbook(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _headings() -> dict[str, str]:
    """Every language's heading, folded, to its field."""
    return ALIASES | {
        translate(language, heading).strip().casefold(): name
        for heading, name in HEADINGS.items()
        for language in LANGUAGES
    }


def _rows(data: bytes) -> list[tuple[Any, ...]]:
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(
            N_("The file is larger than %(size)s MB."), field="file", size=MAX_FILE_BYTES // 2**20
        )
    try:
        book = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise Invalid(N_("The file is not an Excel workbook (.xlsx)."), field="file") from error
    try:
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(row)
            if len(rows) > MAX_ROWS + 1:
                raise Invalid(
                    N_("The sheet has more than %(count)s rows."), field="file", count=MAX_ROWS
                )
        return rows
    finally:
        book.close()


def read_wbs_workbook(data: bytes) -> PlanFile:
    rows = _rows(data)
    if not rows:
        raise Invalid(N_("The sheet is empty."), field="file")
    known = _headings()
    columns = {
        known[str(cell).strip().casefold()]: index
        for index, cell in enumerate(rows[0])
        if cell is not None and str(cell).strip().casefold() in known
    }
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise Invalid(
            N_("The first row must name the columns WBS, Task and Working days."), field="file"
        )
    problems: list[Problem] = []
    tasks: list[FileTask] = []
    codes: dict[str, int] = {}
    predecessors: dict[int, str] = {}
    for number, row in enumerate(rows[1:], start=2):
        cells = {name: row[index] if index < len(row) else None for name, index in columns.items()}
        if all(value in (None, "") for value in cells.values()):
            continue
        task = _task(number, cells, problems)
        if task is None:
            continue
        code = _text(cells.get("wbs"))
        if code in codes:
            problems.append(Problem(task.name, N_("Two rows have the same WBS code."), code))
            continue
        codes[code] = task.uid
        tasks.append(task)
        predecessors[task.uid] = _text(cells.get("predecessors"))
    for task in tasks:
        task.links = _links(task, predecessors[task.uid], codes, problems)
    _check_outline(tasks, problems)
    _mark_summaries(tasks)
    return PlanFile(start=None, status_date=None, tasks=tasks, exceptions=[], problems=problems)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value)) if value else None
    except ValueError:
        return None


def _task(number: int, cells: dict[str, Any], problems: list[Problem]) -> FileTask | None:
    code = _text(cells.get("wbs"))
    name = _text(cells.get("name"))
    label = f"{code} {name}".strip() or str(number)
    if not _WBS.match(code):
        problems.append(Problem(label, N_("The row has no WBS code like 1.2.3."), f"#{number}"))
        return None
    if not name:
        problems.append(Problem(label, N_("The task has no name."), f"#{number}"))
    duration = _duration(cells.get("duration"))
    if duration is None:
        problems.append(
            Problem(
                name or label,
                N_("The duration is not a valid duration."),
                _text(cells.get("duration")),
            )
        )
    slack = cells.get("float")
    return FileTask(
        uid=number,
        name=name or label,
        outline_level=code.count(".") + 1,
        duration_days=duration or 0,
        is_milestone=duration == 0,
        is_summary=False,
        planned_start=_day(cells.get("start")),
        owner=_text(cells.get("owner")),
        department=_text(cells.get("department")),
        deliverable=_text(cells.get("deliverable")),
        early_start=_day(cells.get("start")),
        early_finish=_day(cells.get("finish")),
        total_float_days=float(slack) if isinstance(slack, int | float) else None,
        wbs_code=code,
    )


def _duration(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and float(value).is_integer() and value >= 0:
        return int(value)
    text = _text(value)
    return int(text) if text.isdigit() else None


def _links(
    task: FileTask, text: str, codes: dict[str, int], problems: list[Problem]
) -> list[FileLink]:
    links = []
    for part in filter(None, (p.strip() for p in re.split(r"[,，;；、]", text))):
        match = _PREDECESSOR.match(part)
        if match is None:
            problems.append(
                Problem(task.name, N_("A link names no predecessor or an unknown type."), part)
            )
            continue
        uid = codes.get(match["code"])
        if uid is None:
            problems.append(
                Problem(task.name, N_("A link names a predecessor that is not in the file."), part)
            )
            continue
        lag = int(re.sub(r"\s", "", match["lag"])) if match["lag"] else 0
        links.append(FileLink(uid, DependencyType((match["type"] or "FS").upper()), lag))
    return links


def _check_outline(tasks: list[FileTask], problems: list[Problem]) -> None:
    """Each code sits under the summary above it (1.2 under 1, after 1.1), as the outline
    is read from the rows' order."""
    open_codes: list[str] = []
    for task in tasks:
        level = task.outline_level
        parent = task.wbs_code.rsplit(".", 1)[0] if level > 1 else None
        if level > len(open_codes) + 1 or (parent is not None and open_codes[level - 2] != parent):
            problems.append(
                Problem(
                    task.name,
                    N_("The WBS code does not fit under the row above it."),
                    task.wbs_code,
                )
            )
        del open_codes[level - 1 :]
        open_codes.append(task.wbs_code)


def _mark_summaries(tasks: list[FileTask]) -> None:
    """Rows with rows under them are summaries; a leaf linked to nothing that starts after
    the project keeps its start (the others' starts come from their links)."""
    codes = {t.wbs_code for t in tasks}
    parents = {code.rsplit(".", 1)[0] for code in codes if "." in code}
    for task in tasks:
        task.is_summary = task.wbs_code in parents
        if task.is_summary:
            task.is_milestone = False
        if task.is_summary or task.links:
            task.planned_start = None
