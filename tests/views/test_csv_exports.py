"""Every Excel export has a CSV twin: UTF-8 with a byte-order mark (Excel on Windows then
reads Chinese correctly), the same rows as the workbook, no cell Excel would run as a
formula, and the same refusals."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest

from server.planning import service as planning
from tests import factories as f
from tests.server.test_changes import plan
from tests.views.helpers import log_in

EXPORTS = ["plan", "tracking", "requirements", "resources", "risks", "acceptance", "changes"]


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def workbook_rows(body: bytes) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("name", EXPORTS)
async def test_each_csv_holds_the_rows_of_its_workbook(http, db, name):
    p = await plan()
    await planning.create_task(
        f.actor(p.pm),
        project_id=p.project.id,
        data=planning.TaskInput(
            name='=HYPERLINK("http://evil.example","点我")',
            planned_start=date(2026, 9, 21),
            duration_days=1,
            department_id=p.departments["市场"].id,
        ),
    )
    await log_in(http, p.pm.email)
    workbook = await http.get(f"/projects/{p.project.code}/{name}.xlsx")
    twin = await http.get(f"/projects/{p.project.code}/{name}.csv")
    assert twin.status_code == 200
    assert twin.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = twin.headers["content-disposition"]
    assert ".csv" in disposition and ".xlsx" not in disposition
    expected = workbook_rows(workbook.content)
    rows = csv_rows(twin.content)
    assert len(rows) == len(expected)
    assert rows[0] == [str(cell) if cell is not None else "" for cell in expected[0]]
    if name == "plan":
        cells = {cell for row in rows for cell in row}
        assert "设计" in cells and "发布会" in cells
        assert '\'=HYPERLINK("http://evil.example","点我")' in cells


async def test_a_csv_is_refused_as_its_workbook_is(http, db):
    p = await plan()
    outsider = await f.user(name="路人")
    url = f"/projects/{p.project.code}/plan.csv"
    assert (await http.get(url)).status_code == 303  # to the login form
    await log_in(http, outsider.email)
    assert (
        (await http.get(url)).status_code
        == (await http.get(f"/projects/{p.project.code}/plan.xlsx")).status_code
        == 404
    )
