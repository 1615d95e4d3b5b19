"""Progress tracking, problems and the admin's outbox and chat robots, as pages."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from xml.etree import ElementTree

from openpyxl import load_workbook

from server.notices.models import ChatRobot
from server.planning import service as planning
from server.progress import service as progress
from server.progress import snapshots
from server.progress.models import TrackingNote
from server.projects.models import Role
from server.risks.models import Problem
from tests import factories as f
from tests.views.helpers import log_in, post


async def late_plan():
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd], code="TRK")
    liaison = await f.user(name="孙浩", dept=rnd)
    viewer = await f.user(dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, viewer, Role.VIEWER, rnd)
    late = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="样机测试",
            planned_start=date(2026, 11, 2),
            duration_days=5,
            owner_id=liaison.id,
            department_id=rnd.id,
        ),
    )
    return project, pm, liaison, viewer, late


async def test_the_liaison_explains_a_late_task_in_place_and_excel_has_it(http):
    project, pm, liaison, viewer, late = await late_plan()
    await log_in(http, liaison.email)
    page = await http.get("/projects/TRK/tracking?week=2026-W46")
    assert page.status_code == 200
    assert "项目进度跟踪表（2026-W46）" in page.text
    assert f'id="track-{late.id}"' in page.text and 'name="cause"' in page.text
    saved = await post(
        http,
        f"/projects/TRK/tracking/tasks/{late.id}",
        {"week": "2026-W46", "version": "0", "cause": "模具延期", "action": "换供应商"},
        htmx=True,
    )
    assert saved.status_code == 200 and saved.text.lstrip().startswith("<tr")
    assert 'value="模具延期"' in saved.text
    stale = await post(
        http,
        f"/projects/TRK/tracking/tasks/{late.id}",
        {"week": "2026-W46", "version": "0", "cause": "别的原因", "action": "x"},
        htmx=True,
    )
    assert stale.status_code == 400 and 'value="模具延期"' in stale.text
    empty = await post(
        http,
        f"/projects/TRK/tracking/tasks/{late.id}",
        {"week": "2026-W46", "version": "1", "cause": "", "action": "x"},
        htmx=True,
    )
    assert 'id="cause-error"' in empty.text
    note = await TrackingNote.get(task_id=late.id)
    assert (note.cause, note.version) == ("模具延期", 1)

    book = load_workbook(
        BytesIO((await http.get("/projects/TRK/tracking.xlsx?week=2026-W46")).content)
    )
    sheet = book.active
    header = [c.value for c in sheet[4]]
    assert header[:2] == ["WBS 编码", "任务"] and "原因" in header
    row = [c.value for c in sheet[5]]
    assert row[1] == "样机测试" and row[10] == "模具延期" and row[11] == "换供应商"


async def test_a_viewer_reads_the_table_but_cannot_explain(http):
    project, pm, liaison, viewer, late = await late_plan()
    await log_in(http, viewer.email)
    page = await http.get("/projects/TRK/tracking?week=2026-W46")
    assert page.status_code == 200 and 'name="cause"' not in page.text
    refused = await post(
        http,
        f"/projects/TRK/tracking/tasks/{late.id}",
        {"week": "2026-W46", "version": "0", "cause": "x", "action": "y"},
        htmx=True,
    )
    assert refused.status_code == 403
    assert await TrackingNote.all().count() == 0


async def test_the_progress_chart_is_drawn_from_the_snapshots(http):
    project, pm, liaison, viewer, late = await late_plan()
    await snapshots.take_snapshots()
    await log_in(http, pm.email)
    svg = await http.get("/projects/TRK/tracking.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(svg.text)  # noqa: S314 - our own output
    polylines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(polylines) == 2
    # One snapshot is still visible (a dot per line), and "100%" fits its margin.
    circles = root.findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 2
    labels = [t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text == "100%"]
    assert labels and float(labels[0].get("x")) >= 4 * 15 * 0.6  # four glyphs at 15 px


async def test_problems_raised_and_updated_on_the_page(http):
    project, pm, liaison, viewer, late = await late_plan()
    await log_in(http, liaison.email)
    bad = await post(http, "/projects/TRK/problems", {"title": "", "due_date": "2020-01-01"})
    assert bad.status_code == 400
    assert 'id="title-error"' in bad.text and 'id="dueDate-error"' in bad.text
    assert await Problem.all().count() == 0
    made = await post(
        http, "/projects/TRK/problems", {"title": "模具供应商延期", "severity": "HIGH"}
    )
    assert made.status_code == 303
    problem = await Problem.get(title="模具供应商延期")
    page = await http.get("/projects/TRK/problems")
    assert "模具供应商延期" in page.text and "高" in page.text
    no_resolution = await post(
        http,
        f"/projects/TRK/problems/{problem.id}",
        {"version": str(problem.version), "status": "RESOLVED", "owner_id": str(liaison.id)},
        htmx=True,
    )
    assert 'id="resolution-error"' in no_resolution.text
    done = await post(
        http,
        f"/projects/TRK/problems/{problem.id}",
        {
            "version": str(problem.version),
            "status": "RESOLVED",
            "resolution": "换了供应商",
            "owner_id": str(liaison.id),
        },
        htmx=True,
    )
    assert done.status_code == 200 and "已解决" in done.text
    stale = await post(
        http,
        f"/projects/TRK/problems/{problem.id}",
        {"version": str(problem.version), "status": "OPEN", "owner_id": str(liaison.id)},
        htmx=True,
    )
    assert stale.status_code == 400 and "已被他人修改" in stale.text
    assert (await Problem.get(id=problem.id)).status == "RESOLVED"


async def test_the_task_form_shows_the_progress_history(http):
    project, pm, liaison, viewer, late = await late_plan()
    await progress.report_progress(
        f.actor(liaison),
        progress.ProgressInput(
            task_id=late.id,
            version=late.version,
            percent_complete=30,
            note="等待模具",
            blocker=True,
        ),
    )
    await log_in(http, pm.email)
    form = await http.get(
        f"/projects/TRK/plan/tasks/{late.id}/edit", headers={"HX-Request": "true"}
    )
    assert "进展记录" in form.text and "等待模具" in form.text and "受阻" in form.text
    assert "30%" in form.text and f"{liaison.name} · " in form.text  # who reported it
    page = await http.get(f"/projects/TRK/tasks/{late.id}")
    assert f"{liaison.name} · 30%" in page.text and "等待模具" in page.text


async def test_admins_add_chat_robots_and_bad_input_is_refused_on_the_field(http):
    admin = await f.user(is_admin=True)
    await log_in(http, admin.email)
    bad = await post(
        http, "/admin/robots", {"kind": "DINGTALK", "name": "项目群", "url": "not a url"}
    )
    assert bad.status_code == 400 and 'id="url-error"' in bad.text
    assert 'id="projectCode-error"' in bad.text or await ChatRobot.all().count() == 0
    await f.project(admin, code="BOT")
    made = await post(
        http,
        "/admin/robots",
        {
            "kind": "DINGTALK",
            "name": "项目群",
            "url": "https://robot.example.test/send?access_token=x",
            "secret": "SEC123",
            "project_code": "bot",
        },
    )
    assert made.status_code == 303
    listing = await http.get("/admin/robots")
    assert "项目群" in listing.text and "钉钉" in listing.text
    assert "SEC123" not in listing.text and "access_token" not in listing.text
    robot = await ChatRobot.get(name="项目群")
    await post(http, f"/admin/robots/{robot.id}/remove", {})
    assert not (await ChatRobot.get(id=robot.id)).active
