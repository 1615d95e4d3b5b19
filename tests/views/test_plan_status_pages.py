"""From the plan page the PM sets the status date and a deadline, and approves the plan; a
refusal says what is missing, on the page."""

from __future__ import annotations

from datetime import date

from schema.common import to_global_id
from server.planning import baselines as planning_baselines
from server.planning import company_calendar as planning_company_calendar
from server.planning import queries as planning_queries
from server.planning import service as planning
from server.planning.models import Baseline, Task
from server.progress.models import ProgressSnapshot
from server.projects.models import Project, Role
from tests import factories as f
from tests.views.helpers import log_in, post


async def small_plan():
    await planning_company_calendar.seed_company_calendar()
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd], code="APV")
    liaison = await f.user(dept=rnd)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="结构设计", planned_start=date(2026, 11, 30), duration_days=5, owner_id=pm.id
        ),
    )
    return project, pm, rnd, liaison, task


async def test_the_pm_sets_the_status_date_and_a_bad_date_is_refused_on_the_field(http):
    project, pm, rnd, liaison, task = await small_plan()
    await log_in(http, pm.email)
    page = await http.get("/projects/APV/plan")
    assert 'id="status-date"' in page.text and "状态日期" in page.text
    version = (await Project.get(id=project.id)).version
    bad = await post(
        http,
        "/projects/APV/plan/settings",
        {"version": str(version), "status_date": "12/04", "retained_logic": "1",
         "critical_threshold_days": "0"},
    )  # fmt: skip
    assert bad.status_code == 400 and 'id="statusDate-error"' in bad.text
    assert (await Project.get(id=project.id)).status_date == date(2026, 11, 2)
    saved = await post(
        http,
        "/projects/APV/plan/settings",
        {"version": str(version), "status_date": "2026-12-07", "deadline": "2026-12-31",
         "retained_logic": "1", "critical_threshold_days": "1"},
    )  # fmt: skip
    assert saved.status_code == 303
    stored = await Project.get(id=project.id)
    assert (stored.status_date, stored.deadline, stored.critical_threshold_days) == (
        date(2026, 12, 7),
        date(2026, 12, 31),
        1,
    )
    schedule = await planning_queries.schedules_for([task.id])
    assert schedule[task.id].early_start == date(2026, 12, 7)


async def test_approving_the_plan_on_the_page_names_what_is_missing_then_freezes_a_baseline(http):
    project, pm, rnd, liaison, task = await small_plan()
    await log_in(http, pm.email)
    refused = await post(http, "/projects/APV/plan/approve", {"name": "评审版"})
    assert refused.status_code == 400
    assert "研发部" in refused.text and 'role="alert"' in refused.text
    assert await Baseline.filter(project_id=project.id).count() == 0
    assert await ProgressSnapshot.filter(project_id=project.id).count() == 0
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, pm, Role.LIAISON)  # the PM is their own department's liaison
    approved = await post(http, "/projects/APV/plan/approve", {"name": "评审版"})
    assert approved.status_code == 303
    baseline = await Baseline.get(project_id=project.id)
    assert baseline.name == "评审版"
    assert f"baseline={baseline.id}" in approved.headers["location"]
    # The tracking chart starts on the day the plan was agreed.
    assert await ProgressSnapshot.filter(project_id=project.id).count() == 1
    # Only the PM sees the action.
    http.cookies.clear()
    await log_in(http, liaison.email)
    page = await http.get("/projects/APV/plan")
    assert "/plan/approve" not in page.text
    forbidden = await post(http, "/projects/APV/plan/approve", {})
    assert forbidden.status_code == 403


async def test_the_overview_shows_milestones_on_their_scheduled_day_beside_the_target(http):
    project, pm, rnd, liaison, task = await small_plan()
    launch = await planning.add_milestone(
        f.actor(pm), project_id=project.id, name="样机评审", due="2026-12-01"
    )
    await planning.add_dependency(f.actor(pm), predecessor_id=task.id, successor_id=launch.id)
    await log_in(http, pm.email)
    page = await http.get("/projects/APV")
    section = page.text.split("样机评审")[0].rsplit("<li>", 1)[1] + page.text.split("样机评审")[1]
    # The design work runs 30 Nov – 4 Dec, so the review is forecast for 4 Dec, not 1 Dec.
    assert "2026年12月4日" in section.split("</li>")[0]
    assert "目标 2026年12月1日" in section.split("</li>")[0]
    # The charter is drafted with the forecast day, and shows the schedule beside it later.
    charter = await http.get("/projects/APV/charter")
    signed = charter.text.split('id="section-milestones"')[1].split("</section>")[0]
    assert "样机评审" in signed and "2026-12-04" in signed and "2026-12-01" not in signed
    assert "样机评审: 2026年12月4日" in signed.split('id="milestone-reference"')[1]
    # Calendars get the forecast day too.
    feed = (await http.get("/projects/APV/calendar.ics")).text
    [event] = [e for e in feed.split("BEGIN:VEVENT") if "样机评审" in e]
    assert "DTSTART;VALUE=DATE:20261204" in event
    # Once a baseline is agreed, a slip shows as working days against it.
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, pm, Role.LIAISON)
    await planning_baselines.approve_plan(f.actor(pm), project_id=project.id)
    await planning.update_task(
        f.actor(pm), task_id=task.id, version=(await Task.get(id=task.id)).version,
        data=planning.TaskInput(duration_days=7),
    )  # fmt: skip
    page = await http.get("/projects/APV")
    item = page.text.split("样机评审")[1].split("</li>")[0]
    assert "基线 2026年12月4日 (+2)" in item
    charter = await http.get("/projects/APV/charter")
    assert "+2 个工作日（相对基线）" in charter.text.split('id="milestone-reference"')[1]


async def test_a_forecast_past_the_agreed_finish_is_warned_before_the_task_is_late(http):
    """B was entered for 4–6 Jan 2027, but it waits for A (4–8 Jan): the schedule forecasts
    11–13 Jan, five working days past the agreed 6 Jan, while nothing is late yet."""
    from tests.schema.test_graphql import gql, token_for

    project, pm, rnd, liaison, task = await small_plan()
    first = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(name="样机", planned_start=date(2027, 1, 4), duration_days=5),
    )
    second = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="试产", planned_start=date(2027, 1, 4), duration_days=3, owner_id=pm.id
        ),
    )
    await planning.add_dependency(f.actor(pm), predecessor_id=first.id, successor_id=second.id)
    token = await token_for(pm)
    query = """query($id: ID!) { node(id: $id) { ... on Task {
        earlyFinish daysLate forecastDaysLate } } }"""
    answers = {}
    for row in (first, second):
        node = await gql(http, token, query, {"id": to_global_id("Task", row.id)})
        answers[row.name] = node.json()["data"]["node"]
    assert answers["试产"] == {"earlyFinish": "2027-01-13", "daysLate": 0, "forecastDaysLate": 5}
    assert answers["样机"]["forecastDaysLate"] == 0
    await log_in(http, pm.email)
    page = await http.get("/projects/APV/plan")
    row = page.text.split(f'id="task-{second.id}"')[1].split("</tr>")[0]
    assert "预计延期 5 个工作日" in row
    assert "预计延期" not in page.text.split(f'id="task-{first.id}"')[1].split("</tr>")[0]
    # The spreadsheet carries the scheduled dates and the same warning.
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO((await http.get("/projects/APV/plan.xlsx")).content)).active
    rows = {row[1].strip(): row for row in sheet.iter_rows(values_only=True)}
    assert (
        rows["任务"][4:6] == ("排程开始", "排程完成") and rows["任务"][12] == "预计延期（工作日）"
    )
    assert rows["试产"][5].date() == date(2027, 1, 13) and rows["试产"][12] == 5
    assert rows["任务"][13] == "附件"  # then each task's file links
    assert rows["样机"][-1] is None
    # The owner sees the same warning on their phone, with the date it is due.
    mine = (await http.get("/my/tasks")).text.split(f'id="my-task-{second.id}"')[1]
    mine = mine.split("</li>")[0]
    assert "预计延期 5 个工作日" in mine and "2027年1月6日" in mine


async def test_a_phase_buffer_follows_its_last_task_and_the_phase_finishes_after_it(http):
    """结构设计 runs 30 Nov – 4 Dec inside phase 设计 with a three-day buffer: the phase
    finishes 9 Dec, the task keeps its dates, and the chart draws the buffer after the work."""
    project, pm, rnd, liaison, task = await small_plan()
    phase = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="设计阶段", planned_start=date(2026, 11, 30), duration_days=1, buffer_days=3
        ),
    )
    await planning.update_task(
        f.actor(pm),
        task_id=task.id,
        version=(await Task.get(id=task.id)).version,
        data=planning.TaskInput(parent_id=phase.id),
    )
    rows = await planning_queries.schedules_for([phase.id, task.id])
    assert (rows[task.id].early_start, rows[task.id].early_finish) == (
        date(2026, 11, 30),
        date(2026, 12, 4),
    )
    assert rows[phase.id].early_finish == date(2026, 12, 9)
    assert rows[task.id].total_float == 0  # the buffer is reserved time, not float
    await log_in(http, pm.email)
    page = await http.get("/projects/APV/plan")
    bar = page.text.split(f'id="bar-{phase.id}"')[1].split("</g>")[0]
    assert 'class="buffer"' in bar and "缓冲：3 个工作日" in bar
    assert 'class="buffer"' not in page.text.split(f'id="bar-{task.id}"')[1].split("</g>")[0]
