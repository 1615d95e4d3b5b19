"""Bringing a plan from MS Project through the plan page: upload, preview, confirm; and the
refusals, each where the PM looks, with nothing written."""

from __future__ import annotations

from datetime import date

from server.planning import mspdi
from server.planning.models import Task
from server.planning.queries import plan_view
from server.projects.models import Project, Role
from tests import factories as f
from tests.server.test_changes import plan
from tests.views.helpers import csrf, log_in, post


async def source_file() -> tuple[bytes, object]:
    p = await plan()
    view = await plan_view(p.project)
    return mspdi.plan_xml(p.project, view.rows, view.calendar), p


async def empty_project(pm, code: str) -> Project:
    project = await f.project(pm, code=code)
    await Project.filter(id=project.id).update(start_date=date(2026, 9, 21))
    return project


async def upload(http, code: str, data: bytes, name: str = "plan.xml"):
    return await http.post(
        f"/projects/{code}/plan/import",
        data={"csrf_token": await csrf(http)},
        files={"file": (name, data, "application/xml")},
    )


async def test_the_pm_previews_then_imports_a_plan_from_the_plan_page(http, db):
    data, p = await source_file()
    target = await empty_project(p.pm, "IMPORTED")
    await log_in(http, p.pm.email)
    page = await http.get("/projects/IMPORTED/plan")
    assert 'action="/projects/IMPORTED/plan/import"' in page.text
    assert 'enctype="multipart/form-data"' in page.text

    previewed = await upload(http, "IMPORTED", data)
    assert previewed.status_code == 200
    assert "导入预览" in previewed.text and "导入 4 个任务" in previewed.text
    assert not await Task.filter(project_id=target.id).exists()  # nothing yet
    content_hash = previewed.text.split('name="content_hash" value="')[1].split('"')[0]

    imported = await post(
        http, "/projects/IMPORTED/plan/import/confirm", {"content_hash": content_hash}
    )
    assert imported.status_code == 200
    assert "计划已导入" in imported.text and 'id="import-no-differences"' in imported.text
    names = (
        await Task.filter(project_id=target.id).order_by("wbs_code").values_list("name", flat=True)
    )
    assert names == ["设计", "试产", "发布会", "宣传物料"]
    # A plan with tasks offers no import; a second confirmation is refused on the form.
    assert 'plan/import"' not in (await http.get("/projects/IMPORTED/plan")).text
    again = await post(
        http, "/projects/IMPORTED/plan/import/confirm", {"content_hash": content_hash}
    )
    assert again.status_code == 400
    assert "本项目的计划中已有任务" in again.text
    assert await Task.filter(project_id=target.id).count() == 4


async def test_bad_files_are_refused_on_the_file_field(http, db):
    data, p = await source_file()
    await empty_project(p.pm, "BADFILE")
    await log_in(http, p.pm.email)
    hostile = await upload(
        http,
        "BADFILE",
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]><Project>&e;</Project>',
    )
    assert hostile.status_code == 400
    assert 'id="file-error"' in hostile.text and "实体或 DTD" in hostile.text
    broken = data.replace(b"<PredecessorUID>1<", b"<PredecessorUID>77<")
    listed = await upload(http, "BADFILE", broken)
    assert listed.status_code == 200
    assert 'id="import-errors"' in listed.text and "不存在的前置任务" in listed.text
    assert "plan/import/confirm" not in listed.text
    stale = await post(http, "/projects/BADFILE/plan/import/confirm", {"content_hash": "0" * 64})
    assert stale.status_code == 400 and "请重新上传" in stale.text


async def test_only_the_pm_imports(http, db):
    data, p = await source_file()
    target = await empty_project(p.pm, "NOTYOURS")
    liaison = await f.user(name="李娜", dept=p.departments["市场"])
    await f.member(p.pm, target, liaison, Role.LIAISON, p.departments["市场"])
    await log_in(http, liaison.email)
    assert "plan/import" not in (await http.get("/projects/NOTYOURS/plan")).text
    assert (await upload(http, "NOTYOURS", data)).status_code == 403
    assert not await Task.filter(project_id=target.id).exists()
