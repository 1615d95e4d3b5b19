"""Charter pages: edit, send for signing, the sign form, the diff, exports."""

from __future__ import annotations

import re
from io import BytesIO

from docx import Document

from server.notices.models import Notice
from server.projects.models import Role
from server.signoffs.models import DocumentVersion, SignableDocument, Signature
from tests import factories as f
from tests.views.helpers import log_in, post


async def make_project():
    market = await f.department("市场部")
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳", email="pm@example.com", dept=market)
    project = await f.project(pm, code="X1", departments=[rnd])
    for dept, email in ((market, "market@example.com"), (rnd, "rnd@example.com")):
        head = await f.user(name=f"{dept.name}负责人", email=email, dept=dept)
        await f.member(pm, project, head, Role.DEPARTMENT_HEAD, dept)
    return project


def charter_form(**sections):
    base = {
        "version": "1",
        "background": "公司计划推出新品",
        "goals": "首月销量 | ≥ 20,000 件",
        "scopeIn": "硬件与包装",
        "scopeOut": "",
        "milestones": "正式上市 | 2027-03-16",
        "coreTeam": "王芳 | 市场部 | 项目经理",
        "successCriteria": "按期上市",
    }
    return base | sections


async def test_pm_edits_sends_and_a_head_signs_then_a_new_version_shows_the_diff(http):
    await make_project()
    await log_in(http, "pm@example.com")
    page = await http.get("/projects/X1/charter")
    assert page.status_code == 200 and "草稿" in page.text
    saved = await post(http, "/projects/X1/charter", charter_form())
    assert saved.status_code == 303
    version = await DocumentVersion.get(number=1)
    assert version.body["goals"] == [{"goal": "首月销量", "target": "≥ 20,000 件"}]
    assert version.body["coreTeam"] == [
        {"name": "王芳", "department": "市场部", "role": "项目经理"}
    ]

    sent = await post(http, "/projects/X1/charter/request", {})
    assert sent.status_code == 303
    emails = await Notice.filter(dedup_key__startswith="sign-request:").values_list(
        "address", "body"
    )
    assert sorted(a for a, _ in emails) == ["market@example.com", "rnd@example.com"]
    assert all("/projects/X1/charter/sign" in body for _, body in emails)
    overview = await http.get("/projects/X1")
    assert "签署中" in overview.text and "尚未签署：市场部、研发部" in overview.text

    await http.post("/logout", data={"csrf_token": http.cookies.get("xt_csrf")})
    http.cookies.clear()
    await log_in(http, "rnd@example.com")
    form = await http.get("/projects/X1/charter/sign")
    shown_hash = re.search(r'name="content_hash" value="([0-9a-f]{64})"', form.text).group(1)
    assert shown_hash == version.content_hash
    assert 'value="APPROVE"' in form.text and 'value="REJECT"' in form.text
    signed = await post(
        http,
        "/projects/X1/charter/sign",
        {"content_hash": shown_hash, "decision": "APPROVE", "comment": "同意"},
    )
    assert signed.status_code == 303
    twice = await post(
        http, "/projects/X1/charter/sign", {"content_hash": shown_hash, "decision": "APPROVE"}
    )
    assert twice.status_code == 422 and "没有需要您签署" in twice.text
    assert await Signature.all().count() == 1

    await http.post("/logout", data={"csrf_token": http.cookies.get("xt_csrf")})
    http.cookies.clear()
    await log_in(http, "pm@example.com")
    seen = str((await SignableDocument.get()).version)
    await post(http, "/projects/X1/charter", charter_form(version=seen, scopeOut="海外市场"))
    document = await SignableDocument.get()
    assert document.current_number == 2
    page = await http.get("/projects/X1/charter")
    changes = page.text[page.text.index('id="changes"') :]
    assert "范围外" in changes and "<ins>海外市场</ins>" in changes
    await post(http, "/projects/X1/charter/request", {})
    page = await http.get("/projects/X1/charter")
    assert "内容已变更，需重新签署：研发部" in page.text


async def test_a_signer_with_a_stale_page_sees_the_current_version_and_nothing_is_signed(http):
    await make_project()
    await log_in(http, "pm@example.com")
    await post(http, "/projects/X1/charter", charter_form())
    await post(http, "/projects/X1/charter/request", {})
    old_hash = (await DocumentVersion.get(number=1)).content_hash
    seen = str((await SignableDocument.get()).version)
    await post(http, "/projects/X1/charter", charter_form(version=seen, background="背景已更新"))
    await post(http, "/projects/X1/charter/request", {})
    await http.post("/logout", data={"csrf_token": http.cookies.get("xt_csrf")})
    http.cookies.clear()
    await log_in(http, "rnd@example.com")
    refused = await post(
        http,
        "/projects/X1/charter/sign",
        {"content_hash": old_hash, "decision": "APPROVE", "comment": "看过了"},
    )
    assert refused.status_code == 409
    assert "当前为第 2 版" in refused.text and "背景已更新" in refused.text
    assert "看过了" in refused.text
    assert await Signature.all().count() == 0


async def test_edit_refusals_show_on_the_form_and_others_may_not_edit(http):
    await make_project()
    await log_in(http, "rnd@example.com")
    assert (await http.get("/projects/X1/charter/edit")).status_code == 403
    refused = await post(http, "/projects/X1/charter", charter_form())
    assert refused.status_code == 403
    assert all(v.body.get("background") != "公司计划推出新品" for v in await DocumentVersion.all())


async def test_confirmation_and_exports(http):
    project = await make_project()
    await log_in(http, "pm@example.com")
    page = await http.get("/projects/X1/confirmation/edit")
    ids = re.findall(r'name="requirements-(\d+)"', page.text)
    assert len(ids) == 2
    form = {"version": "1"}
    for i in ids:
        form[f"requirements-{i}"] = "样机 3 台"
        form[f"resources-{i}"] = "工程师 2 人"
    assert (await post(http, "/projects/X1/confirmation", form)).status_code == 303
    shown = await http.get("/projects/X1/confirmation")
    assert shown.text.count("工程师 2 人") == 2

    await post(http, "/projects/X1/charter", charter_form())
    markdown = await http.get("/projects/X1/charter.md")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "## 目标与可衡量指标" in markdown.text and "- 首月销量 — ≥ 20,000 件" in markdown.text
    word = await http.get("/projects/X1/charter.docx")
    assert word.status_code == 200
    doc = Document(BytesIO(word.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert project.name in text and "按期上市" in text
    assert [c.text for c in doc.tables[0].rows[0].cells] == [
        "部门",
        "部门负责人",
        "结论",
        "时间",
        "版本",
    ]
