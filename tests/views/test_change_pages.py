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
    submitted = await post(http, url + "/submit", {"version": "2"})
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
