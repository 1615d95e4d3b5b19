"""The tokens page: a token limited to chosen projects and to reading, made and shown there."""

from __future__ import annotations

from server.org.models import ApiToken
from server.projects.models import Project
from tests import factories as f
from tests.views.helpers import log_in, post


async def test_a_token_is_limited_from_the_page_and_shows_its_scope(http, db):
    pm, stranger = await f.user(), await f.user()
    await f.project(pm, code="PG1", name="新品上市")
    await f.project(pm, code="PG2", name="渠道拓展")
    await f.project(stranger, code="PG3")
    await log_in(http, pm.email)

    page = await http.get("/tokens")
    assert 'value="PG1"' in page.text and 'value="PG2"' in page.text
    assert 'value="PG3"' not in page.text

    refused = await post(http, "/tokens", {"name": "伙伴", "project_codes": ["PG1", "PG3"]})
    assert refused.status_code == 400
    assert "PG3" in refused.text and await ApiToken.filter(user_id=pm.id).count() == 0

    made = await post(
        http, "/tokens", {"name": "伙伴", "project_codes": ["PG1"], "read_only": "on"}
    )
    assert made.status_code == 200 and "xt_" in made.text
    token = await ApiToken.get(user_id=pm.id)
    assert (token.project_ids, token.read_only) == ([await _id("PG1")], True)
    row = made.text.split('class="token-projects"')[1].split("</tr>")[0]
    assert "PG1 新品上市" in row and "PG2" not in row and "只读" in row

    await post(http, "/tokens", {"name": "全部"})
    listed = (await http.get("/tokens")).text
    assert "我的全部项目" in listed


async def _id(code: str) -> int:
    return (await Project.get(code=code)).id
