"""The Gantt and the tracking chart download as PNG (a phone shares it in a chat) and PDF (a
printed weekly report), drawn from the same SVG, with Chinese drawn as Chinese."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageChops

from server.charts import missing_part, svg_to_png
from tests import factories as f
from tests.browser.test_phone import ARTIFACTS
from tests.server.test_changes import plan
from tests.views.helpers import log_in
from tests.views.test_closing_report_pages import assert_drawn_in_chinese

# A character of Unicode's private use area: no font has it, so every renderer draws its
# empty "missing glyph" box, which is what Chinese looks like when no font draws it.
MISSING_GLYPH = "\U000f0000"
CHINESE = re.compile("[\u4e00-\u9fff]")


@pytest.fixture
def chart_renderer():
    missing = missing_part()
    if missing:
        pytest.skip(f"PNG and PDF charts not tested: this machine lacks {missing}")


def image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("L")


async def test_the_gantt_as_png_draws_the_task_names_in_chinese(http, db, chart_renderer):
    p = await plan()
    await log_in(http, p.pm.email)
    code = p.project.code
    svg = (await http.get(f"/projects/{code}/plan.svg")).content
    answer = await http.get(f"/projects/{code}/plan.png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert answer.headers["content-disposition"] == f'attachment; filename="{code}-plan.png"'
    (ARTIFACTS / "gantt.png").write_bytes(answer.content)  # to look at
    drawn = image(answer.content)
    width, height = (
        float(v) for v in re.search(rb'width="([\d.]+)" height="([\d.]+)"', svg).groups()
    )
    assert drawn.size == (round(width * 2), round(height * 2))  # sharp on a phone

    # The same chart with every Chinese character swapped for one no font has: if Chinese
    # were not drawn, both would show the same empty boxes in the task-name column.
    boxes = CHINESE.sub(MISSING_GLYPH, svg.decode()).encode()
    as_boxes = image(svg_to_png(boxes))
    name_column = (0, 0, drawn.width // 3, drawn.height)
    difference = ImageChops.difference(drawn.crop(name_column), as_boxes.crop(name_column))
    assert difference.getbbox() is not None
    # and the names hold ink: the column is not blank
    assert drawn.crop(name_column).getextrema()[0] < 100


async def test_the_gantt_and_tracking_chart_as_pdf(http, db, chart_renderer):
    p = await plan()
    await log_in(http, p.pm.email)
    code = p.project.code
    gantt = await http.get(f"/projects/{code}/plan.pdf")
    assert gantt.headers["content-type"] == "application/pdf"
    assert_drawn_in_chinese(gantt.content, "设计", "试产", "发布会", "宣传物料")
    tracking = await http.get(f"/projects/{code}/tracking.png")
    assert tracking.status_code == 200 and image(tracking.content).width > 0
    assert (await http.get(f"/projects/{code}/tracking.pdf")).content.startswith(b"%PDF")


async def test_a_chart_is_refused_as_its_svg_is(http, db):
    p = await plan()
    url = f"/projects/{p.project.code}/plan.png"
    assert (await http.get(url)).status_code == 303
    await log_in(http, (await f.user(name="路人")).email)
    assert (await http.get(url)).status_code == 404
