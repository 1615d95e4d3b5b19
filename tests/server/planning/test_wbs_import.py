"""The work breakdown workbook, exported, edited in Excel and brought back: the same preview
and the same refusals as an MS Project file, predecessors in MS Project's notation."""

from __future__ import annotations

import random
from datetime import date
from io import BytesIO

import pytest
from openpyxl import Workbook

from server.errors import Invalid
from server.org.models import Department
from server.planning import exports, imports
from server.planning.models import Dependency, Task, TaskSchedule
from server.planning.queries import plan_view
from server.projects.models import Project, Role
from tests import factories as f
from tests.server.planning.test_mspdi_round_trip import START, empty_project, random_plan
from tests.server.test_closing_report import _company_calendar


async def exported_sheet(project: Project, language: str) -> bytes:
    return exports.plan_xlsx(await plan_view(project), language)


async def shape(project: Project) -> dict[str, object]:
    """The plan by WBS code: what the sheet carries, and the schedule it gives."""
    tasks = await Task.filter(project_id=project.id)
    code = {t.id: t.wbs_code for t in tasks}
    schedules = await TaskSchedule.filter(project_id=project.id)
    summaries = {t.parent_id for t in tasks}
    return {
        "tasks": {
            t.wbs_code: (
                t.name,
                code.get(t.parent_id),
                t.planned_start,
                None if t.id in summaries else t.duration_days,  # a summary's spans its tasks
                t.is_milestone,
                t.deliverable,
                t.owner_id,
            )
            for t in tasks
        },
        "links": {
            (code[d.predecessor_id], code[d.successor_id], d.type, d.lag_days)
            for d in await Dependency.filter(project_id=project.id)
        },
        "schedule": {
            code[s.task_id]: (s.early_start, s.early_finish, s.total_float, s.is_critical)
            for s in schedules
        },
    }


async def import_sheet(pm, project: Project, data: bytes) -> imports.ImportResult:
    preview = await imports.preview_plan_import(f.actor(pm), project_id=project.id, data=data)
    assert preview.errors == [] and preview.problems == []
    return await imports.import_plan(
        f.actor(pm), project_id=project.id, data=data, content_hash=preview.content_hash
    )


async def test_an_exported_sheet_imports_as_the_same_plan_in_either_language(db):
    await _company_calendar()
    pm = await f.user(name="王芳")
    for seed in range(8):
        source = await random_plan(random.Random(seed), pm, sheet=True)
        data = await exported_sheet(source, language_of(seed))
        target = await empty_project(pm)
        result = await import_sheet(pm, target, data)
        assert result.differences == [], seed  # the sheet's dates and floats are ours
        theirs, ours = await shape(source), await shape(target)
        for part, rows in theirs.items():
            assert ours[part] == rows, (seed, part, language_of(seed))


def language_of(seed: int) -> str:
    return "zh-CN" if seed % 2 else "en"


def sheet(*rows: tuple[object, ...], headings: tuple[str, ...] | None = None) -> bytes:
    book = Workbook()
    page = book.active
    assert page is not None
    page.append(headings or ("WBS", "任务名称", "负责人", "部门", "工期", "前置任务"))
    for row in rows:
        page.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_predecessors_in_ms_project_notation_and_owners_by_name(db):
    await _company_calendar()
    pm = await f.user(name="王芳")
    lab = await Department.create(name="测试中心")
    project = await f.project(pm, departments=[lab])
    await Project.filter(id=project.id).update(start_date=START, status_date=START)
    engineer = await f.user(name="赵工", email="zhao@example.com")
    await f.member(pm, project, engineer, Role.LIAISON, lab)
    data = sheet(
        ("1", "设计", "", "", 5, ""),
        ("2", "样机", "ZHAO@example.com", "测试中心", 3, "1FS+2"),
        ("3", "验证", "赵工", "", 2, "1SS-1，2"),
        ("4", "评审", "钱经理", "市场部", 0, "3FF"),
    )
    preview = await imports.preview_plan_import(f.actor(pm), project_id=project.id, data=data)
    assert preview.errors == []
    # Those the project lacks are listed for the PM, and left unset.
    assert [(p.task, p.detail) for p in preview.problems] == [
        ("评审", "钱经理"),
        ("评审", "市场部"),
    ]
    assert preview.counts.links == 4 and preview.counts.milestones == 1
    await imports.import_plan(
        f.actor(pm), project_id=project.id, data=data, content_hash=preview.content_hash
    )
    tasks = {t.name: t for t in await Task.filter(project_id=project.id)}
    assert tasks["样机"].owner_id == engineer.id and tasks["样机"].department_id == lab.id
    assert tasks["验证"].owner_id == engineer.id and tasks["评审"].owner_id is None
    links = {
        (d.predecessor_id, d.successor_id): (d.type, d.lag_days)
        for d in await Dependency.filter(project_id=project.id)
    }
    by_name = {t.id: n for n, t in tasks.items()}
    assert {(by_name[p], by_name[s]): v for (p, s), v in links.items()} == {
        ("设计", "样机"): ("FS", 2),
        ("设计", "验证"): ("SS", -1),
        ("样机", "验证"): ("FS", 0),
        ("验证", "评审"): ("FF", 0),
    }
    # Worked by hand (the project starts Mon 21 Sep 2026): 设计 Mon 21 – Fri 25 Sep; two
    # days' lag (Mon 28, Tue 29), so 样机 starts Wed 30 Sep and, the holiday 1–8 Oct passed,
    # ends Sat 10 Oct (a working day that year).
    schedule = {by_name[s.task_id]: s for s in await TaskSchedule.filter(project_id=project.id)}
    assert (schedule["样机"].early_start, schedule["样机"].early_finish) == (
        date(2026, 9, 30),
        date(2026, 10, 10),
    )
    assert schedule["评审"].early_finish == date(2026, 10, 13)


async def test_a_sheet_with_mistakes_is_listed_row_by_row_and_nothing_is_written(db):
    await _company_calendar()
    pm = await f.user(name="王芳")
    project = await empty_project(pm)
    data = sheet(
        ("1", "设计", "", "", 5, ""),
        ("1.1", "草图", "", "", -1, "9"),
        ("1.2", "评审", "", "", 2, "1.3"),
        ("1.3", "修改", "", "", 2, "1.2"),
        ("1.3", "重复", "", "", 1, ""),
        ("3.1", "错位", "", "", 1, "1.1XX"),
        ("", "没有编码", "", "", 1, ""),
    )
    preview = await imports.preview_plan_import(f.actor(pm), project_id=project.id, data=data)
    found = {(p.task, p.what, p.detail) for p in preview.errors}
    assert ("草图", "The duration is not a valid duration.", "-1") in found
    assert ("草图", "A link names a predecessor that is not in the file.", "9") in found
    assert ("重复", "Two rows have the same WBS code.", "1.3") in found
    assert ("错位", "The WBS code does not fit under the row above it.", "3.1") in found
    assert ("错位", "A link names no predecessor or an unknown type.", "1.1XX") in found
    assert ("没有编码", "The row has no WBS code like 1.2.3.", "#8") in found
    assert ("", "The links go round in a circle.", "评审 → 修改 → 评审") in {
        (p.task, p.what, p.detail.replace("修改 → 评审 → 修改", "评审 → 修改 → 评审"))
        for p in preview.errors
    }
    with pytest.raises(Invalid) as refused:
        await imports.import_plan(
            f.actor(pm), project_id=project.id, data=data, content_hash=preview.content_hash
        )
    assert refused.value.field == "file"
    assert not await Task.filter(project_id=project.id).exists()


async def test_files_that_are_no_plan_are_refused_with_what_to_do(db):
    pm = await f.user(name="王芳")
    project = await empty_project(pm)
    mpp = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    with pytest.raises(Invalid) as binary:
        await imports.preview_plan_import(f.actor(pm), project_id=project.id, data=mpp)
    assert "Save As" in binary.value.message and binary.value.field == "file"
    with pytest.raises(Invalid) as headings:
        await imports.preview_plan_import(
            f.actor(pm), project_id=project.id, data=sheet(("1", "设计"), headings=("编号", "名称"))
        )
    assert "WBS" in headings.value.message
    with pytest.raises(Invalid) as broken:
        await imports.preview_plan_import(
            f.actor(pm), project_id=project.id, data=b"PK\x03\x04 not really a workbook"
        )
    assert "xlsx" in broken.value.message
