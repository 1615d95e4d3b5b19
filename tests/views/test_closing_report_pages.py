"""The closing report from the pages and through GraphQL, and documents as PDF (issue 22):
charter, minutes and closing report print from the same partials as their pages, and a page of
each PDF is looked at as an image — its text is there, and its Chinese is drawn, not boxes."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from docx import Document

from schema.common import to_global_id
from server.closing import report as closing_report
from server.meetings.models import Meeting, MeetingKind, MeetingStatus, MinutesRevision
from server.org.models import User
from server.pdf import missing_part
from server.projects.models import Project, ProjectStatus
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from tests.server.test_closing_report import closing_project
from tests.views.helpers import log_in, post


async def closing(s) -> None:
    await Project.filter(id=s.project.id).update(status=ProjectStatus.CLOSING)


async def test_the_pm_generates_completes_and_sends_the_report_from_the_pages(http):
    s = await closing_project()
    code = s.project.code
    liaison = await User.get(name="研发接口人")  # seated by closing_project
    await log_in(http, s.pm.email)
    start = await http.get(f"/projects/{code}/closing-report")
    assert start.status_code == 200 and "开始项目收尾后撰写总结报告" in start.text
    early = await post(http, f"/projects/{code}/closing-report/generate", {})
    assert early.status_code == 400 and "请先开始项目收尾" in early.text
    assert await closing_report.current_report(s.project.id) is None

    await closing(s)
    start = await http.get(f"/projects/{code}/closing-report")
    assert 'action="/projects/' + code + '/closing-report/generate"' in start.text
    made = await post(http, f"/projects/{code}/closing-report/generate", {})
    assert made.status_code == 303
    page = await http.get(f"/projects/{code}/closing-report")
    for text in ("上市首月销量", "≥ 20,000 件", "2026-10-10", "+2", "2026-W40", "解决天数中位数"):
        assert text in page.text, text
    assert 'class="spi-chart"' in page.text and "<polyline" in page.text

    form = await http.get(f"/projects/{code}/closing-report/edit")
    assert 'name="goal-1-verdict"' in form.text and 'name="criterion-1-result"' in form.text
    values = {
        "version": re.search(r'name="version" value="(\d+)"', form.text)[1],
        "goal-0-result": "21,300 件",
        "goal-0-evidence": "javascript:alert(1)",
        "goal-0-verdict": "MET",
        "summary": "按期上市",
    }
    refused = await post(http, f"/projects/{code}/closing-report", values)
    assert refused.status_code == 422
    assert 'id="goal-0-evidence-error"' in refused.text and "21,300 件" in refused.text
    values["goal-0-evidence"] = "https://bi.example.com/launch"
    saved = await post(http, f"/projects/{code}/closing-report", values)
    assert saved.status_code == 303
    page = await http.get(f"/projects/{code}/closing-report")
    assert "21,300 件" in page.text and "达成" in page.text and "按期上市" in page.text
    word = await http.get(f"/projects/{code}/closing-report.docx")
    cells = [
        c.text for t in Document(io.BytesIO(word.content)).tables for r in t.rows for c in r.cells
    ]
    assert "21,300 件" in cells and "达成" in cells and "+2" in cells

    # A liaison reads the report but is offered no way to write it, and is refused if trying.
    http.cookies.clear()
    await log_in(http, liaison.email)
    page = await http.get(f"/projects/{code}/closing-report")
    assert page.status_code == 200 and "/closing-report/generate" not in page.text
    assert (await post(http, f"/projects/{code}/closing-report/generate", {})).status_code == 403


async def test_the_closing_report_through_graphql(http):
    s = await closing_project()
    await closing(s)
    project_id = to_global_id("Project", s.project.id)
    token = await token_for(s.pm)
    draft = await gql(
        http,
        token,
        """mutation($input: DraftClosingReportInput!) { draftClosingReport(input: $input) {
            document { id kind status version currentVersion { body } } errors { field } } }""",
        {"input": {"projectId": project_id}},
    )
    document = draft.json()["data"]["draftClosingReport"]["document"]
    assert document["kind"] == "CLOSING_REPORT" and document["status"] == "DRAFT"
    assert document["currentVersion"]["body"]["scheduleFigures"] == ["2026-09-30 | 2026-10-10 | +2"]
    update = """mutation($input: UpdateClosingReportInput!) { updateClosingReport(input: $input) {
        document { currentVersion { body } } errors { field message } } }"""
    bad = await gql(
        http,
        token,
        update,
        {"input": {"documentId": document["id"], "goals": [{"verdict": "MET"}]}},
    )
    assert bad.json()["data"]["updateClosingReport"]["errors"][0]["field"] == ["goal"]
    good = await gql(
        http,
        token,
        update,
        {
            "input": {
                "documentId": document["id"],
                "version": document["version"],
                "goals": [{"result": "21,300 件", "verdict": "MET"}, {"verdict": "NOT_MET"}],
                "summary": "退货率偏高",
            }
        },
    )
    body = good.json()["data"]["updateClosingReport"]["document"]["currentVersion"]["body"]
    assert [g["verdict"] for g in body["goalResults"]] == ["MET", "NOT_MET"]
    read = await gql(
        http,
        token,
        "query($id: ID!) { node(id: $id) { ... on Project { closingReport { kind } } } }",
        {"id": project_id},
    )
    assert read.json()["data"]["node"]["closingReport"] == {"kind": "CLOSING_REPORT"}


# --- PDF -----------------------------------------------------------------------------------


def looked_at(pdf: bytes) -> tuple[str, list[bytes]]:
    """The first page's text, and the pixels drawn for each distinct Chinese character on it."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    page = document[0]
    text_page = page.get_textpage()
    text = text_page.get_text_range()
    scale = 3
    image = page.render(scale=scale).to_pil().convert("L")
    height = page.get_height()
    glyphs: dict[str, bytes] = {}
    for index, char in enumerate(text):
        if not "\u4e00" <= char <= "\u9fff" or char in glyphs:
            continue
        left, bottom, right, top = text_page.get_charbox(index)
        box = (left * scale, (height - top) * scale, right * scale, (height - bottom) * scale)
        crop = image.crop(tuple(round(v) for v in box)).resize((24, 24))
        glyphs[char] = bytes(255 if p < 128 else 0 for p in crop.tobytes())
    return text, list(glyphs.values())


def assert_drawn_in_chinese(pdf: bytes, *words: str) -> None:
    assert pdf.startswith(b"%PDF")
    text, glyphs = looked_at(pdf)
    for word in words:
        assert word in text, word
    # Every glyph has ink, and distinct characters look distinct: a missing font draws every
    # character as the same empty box (tofu), which would make these equal.
    assert len(glyphs) >= 8
    assert all(any(g) for g in glyphs)
    assert len(set(glyphs)) >= len(glyphs) * 0.9


@pytest.fixture
def pdf_renderer():
    missing = missing_part()
    if missing:
        pytest.skip(f"PDF export not tested: this machine lacks {missing}")


async def test_charter_minutes_and_closing_report_print_as_pdf(http, pdf_renderer):
    s = await closing_project()
    await closing(s)
    await closing_report.draft_closing_report(f.actor(s.pm), project_id=s.project.id)
    meeting = await Meeting.create(
        project_id=s.project.id,
        kind=MeetingKind.WEEKLY,
        title="第一次周例会",
        scheduled_start=datetime(2026, 9, 23, 2, tzinfo=UTC),
        duration_minutes=60,
        status=MeetingStatus.ENDED,
    )
    await MinutesRevision.create(
        meeting=meeting, revision=1, body="## 决议\n\n- 十二月底冻结需求\n- 样机评审提前一周"
    )
    await log_in(http, s.pm.email)
    code = s.project.code
    report = await http.get(f"/projects/{code}/closing-report.pdf")
    assert report.headers["content-type"] == "application/pdf"
    assert_drawn_in_chinese(report.content, "总结报告", "上市首月销量", "2026-10-10")
    charter = await http.get(f"/projects/{code}/charter.pdf")
    assert_drawn_in_chinese(charter.content, "项目章程", "退货率", "市场部")
    minutes = await http.get(f"/projects/{code}/meetings/{meeting.id}/minutes.pdf")
    assert_drawn_in_chinese(minutes.content, "第一次周例会", "十二月底冻结需求")
    # Someone outside the project gets no PDF of it.
    http.cookies.clear()
    stranger = await f.user(name="外人")
    await log_in(http, stranger.email)
    assert (await http.get(f"/projects/{code}/charter.pdf")).status_code == 404
