"""Acceptance from the pages: hand over a done deliverable, the receiving head accepts or
rejects it with the reason on its field, the sheet exports."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from server.closing.models import Acceptance, AcceptanceStatus
from server.planning.models import Task, TaskStatus
from tests import factories as f
from tests.server.test_acceptance import finish, team
from tests.views.helpers import log_in, post


async def test_hand_over_then_the_receiving_head_decides_on_the_page(http):
    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await finish(rnd_liaison, task)
    await log_in(http, rnd_liaison.email)
    page = await http.get("/projects/ACPT/acceptance")
    assert f'id="handover-{task.id}"' in page.text and "样机 3 台与测试报告" in page.text
    sent = await post(
        http,
        "/projects/ACPT/acceptance",
        {"task_id": str(task.id), "receiving_department_id": str(market.id), "note": "请验收"},
    )
    assert sent.status_code == 303
    handed = await Acceptance.get()
    page = await http.get("/projects/ACPT/acceptance")
    assert f'id="acceptance-{handed.id}"' in page.text
    assert f'action="/projects/ACPT/acceptance/{handed.id}"' not in page.text  # not theirs

    http.cookies.clear()
    await log_in(http, market_head.email)
    silent = await post(
        http, f"/projects/ACPT/acceptance/{handed.id}", {"version": "1", "decision": "REJECT"}
    )
    assert silent.status_code == 400 and 'id="comment-error"' in silent.text
    rejected = await post(
        http,
        f"/projects/ACPT/acceptance/{handed.id}",
        {"version": "1", "decision": "REJECT", "comment": "缺少跌落测试报告"},
    )
    assert rejected.status_code == 303
    assert (await Acceptance.get(id=handed.id)).status == AcceptanceStatus.REJECTED
    assert (await Task.get(id=task.id)).status == TaskStatus.IN_PROGRESS

    sheet = load_workbook(io.BytesIO((await http.get("/projects/ACPT/acceptance.xlsx")).content))
    cells = [str(c.value or "") for row in sheet.active.iter_rows() for c in row]
    assert "验收单" in cells and "缺少跌落测试报告" in cells and "已驳回" in cells
    from docx import Document

    word = Document(io.BytesIO((await http.get("/projects/ACPT/acceptance.docx")).content))
    cells = [c.text for t in word.tables for r in t.rows for c in r.cells]
    assert "缺少跌落测试报告" in cells and "已驳回" in cells and "接收部门" in cells
    assert "验收单" in word.paragraphs[0].text


async def test_acceptance_through_graphql(http):
    from schema.common import to_global_id
    from tests.schema.test_graphql import gql, token_for

    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await finish(rnd_liaison, task)
    submitted = await gql(
        http,
        await token_for(rnd_liaison),
        """mutation($input: SubmitForAcceptanceInput!) { submitForAcceptance(input: $input) {
            acceptance { id status version receivingDepartment { name } task { name } }
            errors { code field message } } }""",
        {"input": {"taskId": to_global_id("Task", task.id), "note": "请验收"}},
    )
    handed = submitted.json()["data"]["submitForAcceptance"]["acceptance"]
    assert handed["receivingDepartment"] == {"name": "市场部"} and handed["status"] == "SUBMITTED"
    decide = """mutation($input: DecideAcceptanceInput!) { decideAcceptance(input: $input) {
        acceptance { status comment decidedBy { name } } errors { code field } } }"""
    refused = await gql(
        http,
        await token_for(rnd_liaison),
        decide,
        {"input": {"id": handed["id"], "version": 1, "decision": "ACCEPT"}},
    )
    assert refused.json()["data"]["decideAcceptance"]["errors"][0]["code"] == "FORBIDDEN"
    accepted = await gql(
        http,
        await token_for(market_head),
        decide,
        {"input": {"id": handed["id"], "version": 1, "decision": "ACCEPT", "comment": "好"}},
    )
    assert accepted.json()["data"]["decideAcceptance"]["acceptance"] == {
        "status": "ACCEPTED",
        "comment": "好",
        "decidedBy": {"name": "李娜"},
    }
    listed = await gql(
        http,
        await token_for(pm),
        "query($id: ID!) { project(id: $id) { acceptances { status } } }",
        {"id": to_global_id("Project", project.id)},
    )
    assert listed.json()["data"]["project"]["acceptances"] == [{"status": "ACCEPTED"}]


async def test_a_retrospective_from_the_page_and_the_lessons_page(http):
    from server.closing.models import Retrospective
    from server.projects.models import Project, ProjectStatus

    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await Project.filter(id=project.id).update(status=ProjectStatus.CLOSING)
    await log_in(http, rnd_liaison.email)
    page = await http.get("/projects/ACPT/retrospective")
    assert (
        f'id="retro-form-{rnd.id}"' in page.text and f'id="retro-form-{market.id}"' not in page.text
    )
    empty = await post(http, "/projects/ACPT/retrospective", {"department_id": str(rnd.id)})
    assert empty.status_code == 400 and 'id="lessons-error"' in empty.text
    saved = await post(
        http,
        "/projects/ACPT/retrospective",
        {"department_id": str(rnd.id), "lessons": "模具要提前下单", "tags": "模具、供应商"},
    )
    assert saved.status_code == 303
    assert (await Retrospective.get()).tags == ["模具", "供应商"]
    http.cookies.clear()
    newcomer = await f.user(name="新经理")
    await log_in(http, newcomer.email)
    home = await http.get("/")  # where a PM starts a new project
    assert "以往项目的经验教训" in home.text and "模具要提前下单" in home.text
    lessons = await http.get("/lessons?tag=模具")
    assert "模具要提前下单" in lessons.text and "共 1 条经验" in lessons.text
    none = await http.get("/lessons?q=不存在的词")
    assert "没有符合条件的经验" in none.text


async def test_retrospective_and_lessons_through_graphql(http):
    from schema.common import to_global_id
    from server.projects.models import Project, ProjectStatus
    from tests.schema.test_graphql import gql, token_for

    project, pm, rnd_liaison, market_liaison, market_head, task, market, rnd = await team()
    await Project.filter(id=project.id).update(status=ProjectStatus.CLOSED)
    filed = await gql(
        http,
        await token_for(rnd_liaison),
        """mutation($input: FileRetrospectiveInput!) { fileRetrospective(input: $input) {
            retrospective { lessons tags version department { name } } errors { code field } } }""",
        {
            "input": {
                "projectId": to_global_id("Project", project.id),
                "lessons": "早下单",
                "tags": ["模具"],
            }
        },
    )
    assert filed.json()["data"]["fileRetrospective"]["retrospective"] == {
        "lessons": "早下单",
        "tags": ["模具"],
        "version": 1,
        "department": {"name": "研发部"},
    }
    found = await gql(
        http,
        await token_for(await f.user()),
        """{ lessons(tag: "模具") { totalCount edges { node { lessons projectCode } } } }""",
    )
    assert found.json()["data"]["lessons"] == {
        "totalCount": 1,
        "edges": [{"node": {"lessons": "早下单", "projectCode": "ACPT"}}],
    }
