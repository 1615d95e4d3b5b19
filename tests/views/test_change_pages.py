"""Change requests from the pages: draft one, add edits (a refusal on the edit's own field),
read the computed impact, submit; the approvers decide with one tap each and the last one
applies the edits."""

from __future__ import annotations

from server.changes.models import ChangeRequest, ChangeStatus
from server.planning.models import Task
from tests.server.test_changes import plan
from tests.views.helpers import log_in, post


async def test_a_change_request_from_draft_to_applied_on_the_pages(http):
    p = await plan()
    code = p.project.code
    await log_in(http, p.pm.email)
    log = await http.get(f"/projects/{code}/changes")
    assert log.status_code == 200 and "还没有变更申请" in log.text
    refused = await post(
        http,
        f"/projects/{code}/changes",
        {"title": "", "reason": "模具", "kind": "SCHEDULE",
         "requester_department_id": str(p.departments["生产"].id), "cost_delta": "x"},
    )  # fmt: skip
    assert refused.status_code == 400 and 'id="title-error"' in refused.text
    assert 'id="costDelta-error"' in refused.text
    created = await post(
        http,
        f"/projects/{code}/changes",
        {"title": "试产延长", "reason": "新模具需要多两天调试", "kind": "SCHEDULE",
         "requester_department_id": str(p.departments["生产"].id), "cost_delta": "8000"},
    )  # fmt: skip
    assert created.status_code == 303
    url = created.headers["location"]
    assert url.endswith("/changes/1")
    page = await http.get(url)
    assert "CR-001 试产延长" in page.text and "草稿" in page.text

    bad = await post(
        http,
        url + "/edits",
        {"op": "edit_task", "task_id": str(p.tasks["B"].id), "duration_days": "-2",
         "version": "1"},
    )  # fmt: skip
    assert bad.status_code == 400 and 'id="edit_task-durationDays-error"' in bad.text
    good = await post(
        http,
        url + "/edits",
        {"op": "edit_task", "task_id": str(p.tasks["B"].id), "duration_days": "5",
         "version": "1"},
    )  # fmt: skip
    assert good.status_code == 303
    page = await http.get(url)
    assert "2026年9月30日 → 2026年10月10日" in page.text and "+2 个工作日" in page.text
    assert "修改任务 2 试产: 工期 → 5 个工作日" in page.text
    charter = await post(
        http,
        url + "/edits",
        {"op": "edit_charter", "section": "milestones", "value": "上市发布 | 2026-10-12",
         "version": "2"},
    )  # fmt: skip
    assert charter.status_code == 303
    page = await http.get(url)
    assert "修改章程「里程碑」: 上市发布 | 2026-10-12" in page.text
    submitted = await post(http, url + "/submit", {"version": "3"})
    assert submitted.status_code == 303
    change = await ChangeRequest.get()
    assert change.status == ChangeStatus.SUBMITTED

    page = await http.get(url)
    assert 'name="content_hash"' in page.text  # the PM approves too
    approved = await post(
        http, url + "/decide", {"decision": "APPROVE", "content_hash": change.content_hash}
    )
    assert approved.status_code == 303
    for who in ("市场", "生产"):
        http.cookies.clear()
        await log_in(http, p.heads[who].email)
        if who == "市场":
            stale = await post(
                http, url + "/decide", {"decision": "APPROVE", "content_hash": "0" * 64}
            )
            assert stale.status_code == 409 and "请重新阅读" in stale.text
        done = await post(
            http, url + "/decide", {"decision": "APPROVE", "content_hash": change.content_hash}
        )
        assert done.status_code == 303
    assert (await ChangeRequest.get()).status == ChangeStatus.APPLIED
    assert (await Task.get(id=p.tasks["B"].id)).duration_days == 5
    page = await http.get(url)
    assert "已批准并执行" in page.text and 'name="content_hash"' not in page.text

    http.cookies.clear()
    await log_in(http, p.heads["研发"].email)
    log = await http.get(f"/projects/{code}/changes")
    assert "CR-001" in log.text and "+2" in log.text

    import io

    from docx import Document
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO((await http.get(f"/projects/{code}/changes.xlsx")).content))
    rows = [[c.value for c in row] for row in sheet.active.iter_rows()]
    assert rows[1][:7] == ["编号", "标题", "变更类型", "申请部门", "状态", "完成日期移动（工作日）",
                           "费用变化（元）"]  # fmt: skip
    assert rows[2][:7] == ["CR-001", "试产延长", "进度", "生产部", "已批准并执行", "+2", 8000.0]
    word = Document(io.BytesIO((await http.get(url + ".docx")).content))
    text = "\n".join(paragraph.text for paragraph in word.paragraphs)
    assert "CR-001 试产延长" in text and "2026-09-30 → 2026-10-10 (+2)" in text
    assert "修改任务 2 试产: 工期 → 5 个工作日" in text
    cells = [c.text for t in word.tables for r in t.rows for c in r.cells]
    assert "项目经理" in cells and "已同意 · 生产负责人" in cells


async def test_a_change_request_through_graphql(http):
    from schema.common import to_global_id
    from tests.schema.test_graphql import gql, token_for

    p = await plan()
    task = lambda key: to_global_id("Task", p.tasks[key].id)  # noqa: E731
    fields = """changeRequest { id number status version contentHash edits
        impact { finishBefore finishAfter deltaWorkingDays problem
                 milestones { name before after deltaWorkingDays }
                 criticalAdded { taskId name } criticalRemoved { name }
                 departments { department { name } floatLost
                               tasksMoved { taskId name before after deltaWorkingDays } } }
        approvals { approver department { name } decision decidedBy { name } } }
        errors { code field message }"""
    draft = f"""mutation($input: DraftChangeRequestInput!) {{
        draftChangeRequest(input: $input) {{ {fields} }} }}"""
    request = {
        "title": "加测试",
        "reason": "样机需要测试",
        "kind": "SCOPE",
        "requesterDepartmentId": to_global_id("Department", p.departments["研发"].id),
        "costDelta": "12000.50",
        "edits": [
            {"op": "add_link", "predecessor": task("B"), "successor": "E", "type": "SS", "lag": 2},
            {"op": "add_task", "key": "E", "name": "样机测试", "plannedStart": "2026-09-21",
             "durationDays": 4,
             "departmentId": to_global_id("Department", p.departments["研发"].id)},
        ],
    }  # fmt: skip
    pm = await token_for(p.pm)
    cycle = await gql(
        http,
        pm,
        draft,
        {
            "input": {
                "projectId": to_global_id("Project", p.project.id),
                "request": request
                | {"edits": [{"op": "add_link", "predecessor": task("C"), "successor": task("A")}]},
            }
        },
    )
    assert cycle.json()["data"]["draftChangeRequest"]["errors"][0]["field"] == ["edits"]
    made = await gql(
        http, pm, draft, {"input": {"projectId": to_global_id("Project", p.project.id),
                                    "request": request}}
    )  # fmt: skip
    change = made.json()["data"]["draftChangeRequest"]["changeRequest"]
    assert change["number"] == "CR-001" and change["status"] == "DRAFT"
    impact = change["impact"]
    assert (impact["finishAfter"], impact["deltaWorkingDays"]) == ("2026-10-12", 3)
    assert impact["criticalAdded"] == [{"taskId": None, "name": "样机测试"}]
    assert impact["criticalRemoved"] == [{"name": "发布会"}]
    assert impact["departments"] == [
        {
            "department": {"name": "研发部"},
            "floatLost": 0,
            "tasksMoved": [
                {"taskId": None, "name": "样机测试", "before": None, "after": "2026-10-12",
                 "deltaWorkingDays": None}
            ],
        }
    ]  # fmt: skip
    assert [a["approver"] for a in change["approvals"]] == [
        "pm",
        f"department:{p.departments['研发'].id}",
    ]
    act = """mutation($input: ChangeRequestVersionInput!) { submitChangeRequest(input: $input) {
        changeRequest { status contentHash version } errors { code field } } }"""
    submitted = await gql(http, pm, act, {"input": {"id": change["id"], "version": 1}})
    sent = submitted.json()["data"]["submitChangeRequest"]["changeRequest"]
    assert sent["status"] == "SUBMITTED"
    decide = """mutation($input: DecideChangeRequestInput!) { decideChangeRequest(input: $input) {
        changeRequest { status } errors { code field } } }"""
    production = await gql(
        http,
        await token_for(p.heads["生产"]),
        decide,
        {"input": {"id": change["id"], "contentHash": sent["contentHash"], "decision": "APPROVE"}},
    )
    assert production.json()["data"]["decideChangeRequest"]["errors"][0]["code"] == "FORBIDDEN"
    for who in (p.pm, p.heads["研发"]):
        answer = await gql(
            http,
            await token_for(who),
            decide,
            {"input": {"id": change["id"], "contentHash": sent["contentHash"],
                       "decision": "APPROVE"}},
        )  # fmt: skip
        assert answer.json()["data"]["decideChangeRequest"]["errors"] == []
    assert answer.json()["data"]["decideChangeRequest"]["changeRequest"]["status"] == "APPLIED"
    assert await Task.filter(name="样机测试").count() == 1
    log = await gql(
        http,
        pm,
        "query($id: ID!) { project(id: $id) { changeRequests(first: 10) { totalCount "
        "edges { node { number status applied } } } } }",
        {"id": to_global_id("Project", p.project.id)},
    )
    listed = log.json()["data"]["project"]["changeRequests"]
    assert listed["totalCount"] == 1
    node = listed["edges"][0]["node"]
    assert node["status"] == "APPLIED"
    assert [a["op"] for a in node["applied"]] == ["add_task", "add_link"]


async def test_the_page_shows_approvals_that_stopped_counting_when_the_plan_moved(http):
    from server.changes import approvals
    from server.planning import service as planning
    from tests import factories as f
    from tests.server.test_changes import approve, draft

    p = await plan()
    request = await draft(p, [{"op": "edit_task", "task_id": p.tasks["B"].id, "duration_days": 5}])
    request = await approvals.submit_change_request(
        f.actor(p.pm), request_id=request.id, version=request.version
    )
    await approve(p.pm, request)
    await planning.update_task(
        f.actor(p.pm),
        task_id=p.tasks["B"].id,
        version=1,
        data=planning.TaskInput(duration_days=4),
    )
    await log_in(http, p.heads["生产"].email)
    page = await http.get(f"/projects/{p.project.code}/changes/1")
    assert "1 个针对早先内容的审批已不再计数" in page.text
    assert "+1 个工作日" in page.text  # 4 → 5 days now
    assert page.text.count("待审批") >= 3  # the PM, 市场 and 生产 all wait again


async def test_the_pm_sets_when_management_approves_from_the_page_and_graphql(http):
    from schema.common import to_global_id
    from server.projects.models import Project
    from tests.schema.test_graphql import gql, token_for

    p = await plan()
    code = p.project.code
    await log_in(http, p.heads["生产"].email)
    log = await http.get(f"/projects/{code}/changes")
    assert "推迟超过 5 个工作日或费用增加超过 ¥100,000.00" in log.text
    assert 'action="/projects/' + code + '/changes/thresholds"' not in log.text
    refused = await post(
        http, f"/projects/{code}/changes/thresholds", {"version": "1", "finish_days": "3",
                                                        "cost": "1"}
    )  # fmt: skip
    assert refused.status_code == 403
    http.cookies.clear()
    await log_in(http, p.pm.email)
    version = str((await Project.get(id=p.project.id)).version)
    bad = await post(
        http,
        f"/projects/{code}/changes/thresholds",
        {"version": version, "finish_days": "-1", "cost": "很多"},
    )
    assert bad.status_code == 400
    assert 'id="changeFinishThresholdDays-error"' in bad.text
    assert 'id="changeCostThreshold-error"' in bad.text
    saved = await post(
        http,
        f"/projects/{code}/changes/thresholds",
        {"version": version, "finish_days": "10", "cost": "50000"},
    )
    assert saved.status_code == 303
    log = await http.get(f"/projects/{code}/changes")
    assert "推迟超过 10 个工作日或费用增加超过 ¥50,000.00" in log.text
    answer = await gql(
        http,
        await token_for(p.pm),
        """mutation($input: SetChangeThresholdsInput!) { setChangeThresholds(input: $input) {
            thresholds { finishDays cost } errors { code field } } }""",
        {"input": {"projectId": to_global_id("Project", p.project.id), "version": 1,
                   "finishDays": 2, "cost": "1000"}},
    )  # fmt: skip
    assert answer.json()["data"]["setChangeThresholds"]["errors"][0]["code"] == "CONFLICT"
    project = await Project.get(id=p.project.id)
    answer = await gql(
        http,
        await token_for(p.pm),
        """mutation($input: SetChangeThresholdsInput!) { setChangeThresholds(input: $input) {
            thresholds { finishDays cost } errors { code field } } }""",
        {"input": {"projectId": to_global_id("Project", p.project.id),
                   "version": project.version, "finishDays": 2, "cost": "1000"}},
    )  # fmt: skip
    assert answer.json()["data"]["setChangeThresholds"] == {
        "thresholds": {"finishDays": 2, "cost": "1000.00"},
        "errors": [],
    }


async def test_the_requester_withdraws_a_request_on_the_page(http):
    from tests.server.test_changes import draft

    p = await plan()
    request = await draft(p, [{"op": "edit_task", "task_id": p.tasks["B"].id, "duration_days": 4}])
    await log_in(http, p.heads["研发"].email)  # not the requesting department's
    url = f"/projects/{p.project.code}/changes/1"
    assert (await post(http, url + "/withdraw", {"version": "1"})).status_code == 403
    http.cookies.clear()
    await log_in(http, p.pm.email)
    stale = await post(http, url + "/withdraw", {"version": "9"})
    assert stale.status_code == 409 and "此内容已被他人修改" in stale.text
    gone = await post(http, url + "/withdraw", {"version": str(request.version)})
    assert gone.status_code == 303
    assert (await ChangeRequest.get(id=request.id)).status == ChangeStatus.WITHDRAWN
    page = await http.get(url)
    assert "已撤回" in page.text and 'name="content_hash"' not in page.text
