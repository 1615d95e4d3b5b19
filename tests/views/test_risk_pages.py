"""The risk register as pages: the heat map and filters, raising and editing from forms with
the refusals shown on their fields, a risk that occurs, reviews in a weekly meeting, the
owner's task list, the exports, and the tracking page's warning threshold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from server import clock
from server.meetings import running as meeting_running
from server.meetings import service as meetings
from server.planning import service as planning
from server.projects.models import Role
from server.risks import register
from server.risks.models import Problem, Risk, RiskAssessment, RiskLevel, RiskStatus
from tests import factories as f
from tests.conftest import count_queries
from tests.views.helpers import log_in, post

MONDAY = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
# Session, project with the actor's roles, the page of risks and its count, the live risks,
# members, departments, tasks, threatened tasks and their schedules, the trend.
EXPECTED_REGISTER_QUERIES = 11


@pytest.fixture(autouse=True)
def on_monday():
    with clock.travel_to(MONDAY):
        yield


async def team():
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd], code="RSK")
    liaison = await f.user(name="李娜", dept=rnd)
    member = await f.user(name="孙浩", dept=rnd)
    viewer = await f.user(name="访客", dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, member, Role.MEMBER, rnd)
    await f.member(pm, project, viewer, Role.VIEWER, rnd)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="模具开发",
            planned_start=date(2026, 12, 7),
            duration_days=10,
            owner_id=member.id,
            department_id=rnd.id,
        ),
    )
    return project, pm, liaison, member, viewer, task


async def raise_as(user, project, title, p, i, **fields):
    data = register.RiskInput(title=title, probability=p, impact=i)
    for name, value in fields.items():
        setattr(data, name, value)
    return await register.raise_risk(f.actor(user), project_id=project.id, data=data)


def heat_counts(svg: str) -> dict[tuple[int, int], int]:
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own export
    counts = {}
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") == "heat-cell":
            cell = (int(g.get("data-probability")), int(g.get("data-impact")))
            counts[cell] = int(g.get("data-count"))
    return counts


async def test_the_register_shows_the_heat_map_and_filters_by_a_tapped_cell(http):
    project, pm, liaison, member, viewer, task = await team()
    for title, p, i in (("芯片断供", 3, 4), ("模具延期", 3, 4), ("认证失败", 5, 5), ("人手", 1, 2)):
        await raise_as(pm, project, title, p, i)
    closed = await raise_as(pm, project, "已排除", 5, 5)
    await register.close_risk(f.actor(pm), risk_id=closed.id, version=1)

    svg = await http.get("/projects/RSK/risks.svg")
    assert svg.status_code == 303 and "/login" in svg.headers["location"]  # not signed in
    await log_in(http, viewer.email)
    svg = await http.get("/projects/RSK/risks.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    counts = heat_counts(svg.text)
    assert len(counts) == 25
    assert {cell: n for cell, n in counts.items() if n} == {(3, 4): 2, (5, 5): 1, (1, 2): 1}

    page = await http.get("/projects/RSK/risks")
    assert page.status_code == 200
    assert "风险登记表" in page.text and 'href="?p=3&amp;i=4"' in page.text
    assert "已排除" not in page.text  # closed: not in the default list
    assert 'id="raise-risk"' not in page.text  # a viewer reads only
    cell = await http.get("/projects/RSK/risks?p=3&i=4")
    assert "芯片断供" in cell.text and "模具延期" in cell.text and "认证失败" not in cell.text
    everything = await http.get("/projects/RSK/risks?status=CLOSED")
    assert "已排除" in everything.text and "芯片断供" not in everything.text


async def test_a_member_raises_a_risk_from_the_form_and_bad_input_is_shown_on_its_fields(http):
    project, pm, liaison, member, viewer, task = await team()
    await log_in(http, member.email)
    refused = await post(
        http,
        "/projects/RSK/risks",
        {
            "title": "供应商延期",
            "probability": "9",
            "impact": "3",
            "review_date": "2026-12-01",
            "level": "HIGH",
        },
    )
    assert refused.status_code == 400
    for field in ("probability", "reviewDate", "levelReason"):
        assert f'id="{field}-error"' in refused.text
    assert 'value="供应商延期"' in refused.text
    assert await Risk.all().count() == 0

    raised = await post(
        http,
        "/projects/RSK/risks",
        {
            "title": "供应商延期",
            "probability": "4",
            "impact": "4",
            "category": "SCHEDULE",
            "measures": "寻找第二供应商",
            "review_date": "2026-12-14",
            "task_ids": [str(task.id)],
        },
    )
    assert raised.status_code == 303
    risk = await Risk.get()
    assert raised.headers["location"] == f"/projects/RSK/risks/{risk.id}"
    assert (risk.level, risk.owner_id) == (RiskLevel.HIGH, member.id)
    page = await http.get(raised.headers["location"])
    assert "供应商延期" in page.text and "寻找第二供应商" in page.text
    assert "模具开发" in page.text and "关键" in page.text  # the only task: critical


async def test_the_liaison_edits_a_stale_form_is_a_conflict_and_a_viewer_is_refused(http):
    project, pm, liaison, member, viewer, task = await team()
    risk = await raise_as(member, project, "测试设备不足", 2, 3)
    await register.update_risk(
        f.actor(pm), risk_id=risk.id, version=1, data=register.RiskInput(measures="租用设备")
    )
    await log_in(http, liaison.email)
    stale = await post(
        http,
        f"/projects/RSK/risks/{risk.id}",
        {"version": "1", "title": "测试设备不足", "probability": "4", "impact": "3"},
    )
    assert stale.status_code == 409
    assert "第 2 版" in stale.text and "租用设备" in stale.text
    saved = await post(
        http,
        f"/projects/RSK/risks/{risk.id}",
        {
            "version": "2",
            "title": "测试设备不足",
            "probability": "4",
            "impact": "3",
            "measures": "租用设备",
            "status": "MONITORING",
        },
    )
    assert saved.status_code == 303
    risk = await Risk.get(id=risk.id)
    assert (risk.level, risk.status, risk.version) == (
        RiskLevel.MEDIUM,
        RiskStatus.MONITORING,
        3,
    )

    await log_in(http, viewer.email)
    page = await http.get(f"/projects/RSK/risks/{risk.id}")
    assert page.status_code == 200 and 'id="edit-form"' not in page.text
    denied = await post(http, f"/projects/RSK/risks/{risk.id}/close", {"version": "3"})
    assert denied.status_code == 403
    assert (await Risk.get(id=risk.id)).status == RiskStatus.MONITORING


async def test_occurred_from_the_page_opens_a_problem_linked_from_the_risk(http):
    project, pm, liaison, member, viewer, task = await team()
    risk = await raise_as(member, project, "模具开裂", 4, 5, task_ids=[task.id])
    await log_in(http, member.email)
    done = await post(
        http,
        f"/projects/RSK/risks/{risk.id}/occurred",
        {"version": "1", "note": "试模时开裂", "due_date": "2026-12-09"},
    )
    assert done.status_code == 303
    problem = await Problem.get()
    assert (problem.title, problem.due_date, problem.task_id) == (
        "模具开裂",
        date(2026, 12, 9),
        task.id,
    )
    page = await http.get(f"/projects/RSK/risks/{risk.id}")
    assert f"problem-{problem.id}" in page.text and "已发生" in page.text
    problems = await http.get("/projects/RSK/problems")
    assert f'href="/projects/RSK/risks/{risk.id}"' in problems.text and "来自风险" in problems.text
    again = await post(http, f"/projects/RSK/risks/{risk.id}/occurred", {"version": "2"})
    assert again.status_code == 400 and "该风险已标记为已发生。" in again.text
    assert await Problem.all().count() == 1


async def test_the_register_downloads_as_excel_in_the_readers_language(http):
    project, pm, liaison, member, viewer, task = await team()
    await raise_as(member, project, "=HYPERLINK(1)", 5, 4, measures="双供应商")
    await raise_as(member, project, "人手紧张", 1, 2)
    await log_in(http, viewer.email)
    answer = await http.get("/projects/RSK/risks.xlsx")
    assert answer.headers["content-disposition"] == 'attachment; filename="RSK-risks.xlsx"'
    sheet = load_workbook(BytesIO(answer.content)).active
    header = [c.value for c in sheet[2]]
    assert header[:9] == ["序号", "风险", "类别", "部门", "负责人", "概率", "影响", "分值", "等级"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [(r[1], r[7], r[8]) for r in rows] == [
        ("=HYPERLINK(1)", 20, "高"),
        ("人手紧张", 2, "低"),
    ]
    assert sheet.cell(3, 2).data_type == "s"  # text, not a formula


async def test_a_weekly_meeting_reviews_its_risks_in_place_and_the_minutes_list_them(http):
    project, pm, liaison, member, viewer, task = await team()
    high = await raise_as(member, project, "关键芯片断供", 5, 4)
    meeting = await meetings.create_meeting(
        f.actor(pm),
        project_id=project.id,
        data=meetings.MeetingInput(
            kind="WEEKLY",
            title="第49周例会",
            scheduled_start=MONDAY + timedelta(hours=1),
            duration_minutes=60,
        ),
    )
    await meeting_running.start_meeting(f.actor(pm), meeting_id=meeting.id)
    await log_in(http, pm.email)
    page = await http.get(f"/projects/RSK/meetings/{meeting.id}")
    assert "需复核的风险" in page.text and f'id="review-risk-{high.id}"' in page.text
    refused = await post(
        http,
        f"/projects/RSK/risks/{high.id}/review",
        {"version": "1", "meeting_id": str(meeting.id), "probability": "7"},
        htmx=True,
    )
    assert refused.status_code == 400
    assert refused.text.lstrip().startswith("<li") and 'id="probability-error"' in refused.text
    reviewed = await post(
        http,
        f"/projects/RSK/risks/{high.id}/review",
        {
            "version": "1",
            "meeting_id": str(meeting.id),
            "probability": "3",
            "impact": "4",
            "measures": "启用第二供应商",
        },
        htmx=True,
    )
    assert reviewed.status_code == 200 and "已记录复核" in reviewed.text
    assert 'name="version" value="2"' in reviewed.text
    entry = await RiskAssessment.filter(risk_id=high.id).order_by("-id").first()
    assert entry is not None and entry.meeting_id == meeting.id
    await meeting_running.end_meeting(f.actor(pm), meeting_id=meeting.id)
    minutes = await http.get(f"/projects/RSK/meetings/{meeting.id}/minutes.md")
    assert "复核的风险" in minutes.text and "关键芯片断供: 高 → 中" in minutes.text


async def test_a_risk_due_for_review_shows_in_the_owners_tasks(http):
    project, pm, liaison, member, viewer, task = await team()
    await raise_as(member, project, "到期复核的风险", 2, 2, review_date=date(2026, 12, 7))
    await log_in(http, member.email)
    page = await http.get("/my/tasks")
    assert "需复核的风险" in page.text and "到期复核的风险" in page.text


async def test_tracking_flags_lateness_only_past_the_projects_threshold(http):
    project, pm, liaison, member, viewer, task = await team()
    # Due Fri 18 Dec; the project warns after 2 working days.
    with clock.travel_to(datetime(2026, 12, 22, 1, 0, tzinfo=UTC)):  # Tue: 2 days late
        await log_in(http, pm.email)
        page = await http.get("/projects/RSK/tracking")
    assert f'<tr id="track-{task.id}" class="behind-threshold">' in page.text
    with clock.travel_to(datetime(2026, 12, 23, 1, 0, tzinfo=UTC)):  # Wed: 3 days late
        page = await http.get("/projects/RSK/tracking")
    assert f'<tr id="track-{task.id}" class="late">' in page.text


@pytest.mark.parametrize("size", [2, 20])
async def test_the_register_page_costs_the_same_queries_for_2_and_20_risks(http, size):
    project, pm, liaison, member, viewer, task = await team()
    for n in range(size):
        await raise_as(member, project, f"风险{n}", 1 + n % 5, 1 + n // 5 % 5, task_ids=[task.id])
    await log_in(http, pm.email)
    await http.get("/projects/RSK/risks")
    with count_queries() as counter:
        page = await http.get("/projects/RSK/risks")
    assert page.text.count('class="card risk ') == size
    assert counter.count == EXPECTED_REGISTER_QUERIES, counter.queries


async def test_the_weekly_trend_of_high_risks_is_drawn_without_inline_styles(http):
    from server.progress import snapshots

    project, pm, liaison, member, viewer, task = await team()
    await raise_as(member, project, "芯片断供", 5, 5)
    await snapshots.take_snapshots(project_code="RSK")
    await raise_as(member, project, "认证失败", 4, 4)
    with clock.travel_to(MONDAY + timedelta(days=7)):
        await snapshots.take_snapshots(project_code="RSK")
        await log_in(http, viewer.email)
        page = await http.get("/projects/RSK/risks")
    chart = page.text.split('<svg class="trend-bars"')[1].split("</svg>")[0]
    assert chart.count("<rect") == 2 and ">1</text>" in chart and ">2</text>" in chart
    assert 'style="' not in page.text.split("<main")[1]  # the CSP allows no inline style
