"""/my/tasks: one-tap progress from a phone, the row re-rendered in place, conflicts shown."""

from __future__ import annotations

from server.demo import DEMO_PASSWORD, load_demo
from server.planning.models import Task
from server.progress.models import TaskUpdate
from tests.views.helpers import log_in, post


async def test_a_liaison_updates_a_task_in_one_request_and_a_stale_row_shows_the_conflict(http):
    await load_demo()
    await log_in(http, "sunhao@example.com", DEMO_PASSWORD)
    page = await http.get("/my/tasks")
    assert page.status_code == 200 and "我的任务" in page.text
    task = await Task.filter(department__name="研发部", parent_id__not_isnull=True).first()
    assert f'id="my-task-{task.id}"' in page.text
    saved = await post(
        http,
        f"/my/tasks/{task.id}",
        {"version": str(task.version), "percent_complete": "50", "note": "样机组装中"},
        htmx=True,
    )
    assert saved.text.lstrip().startswith('<li class="card my-task')
    assert 'value="50"' in saved.text
    assert (await Task.get(id=task.id)).percent_complete == 50
    stale = await post(
        http,
        f"/my/tasks/{task.id}",
        {"version": str(task.version), "percent_complete": "80"},
        htmx=True,
    )
    assert "已被他人修改" in stale.text and 'value="50"' in stale.text
    refused = await post(
        http,
        f"/my/tasks/{task.id}",
        {"version": str(task.version + 1), "percent_complete": "140"},
        htmx=True,
    )
    assert 'id="percentComplete-error"' in refused.text
    assert (await Task.get(id=task.id)).percent_complete == 50
    assert await TaskUpdate.all().count() == 1


async def test_the_days_still_needed_are_taken_from_the_phone_and_a_wrong_figure_is_shown_there(
    http,
):
    from server.planning import queries as planning_queries

    await load_demo()
    await log_in(http, "sunhao@example.com", DEMO_PASSWORD)
    task = await Task.filter(department__name="研发部", parent_id__not_isnull=True).first()
    refused = await post(
        http,
        f"/my/tasks/{task.id}",
        {"version": str(task.version), "percent_complete": "0", "remaining_days": "4"},
        htmx=True,
    )
    assert 'id="remainingDays-error"' in refused.text and "进行中" in refused.text
    assert (await Task.get(id=task.id)).version == task.version
    saved = await post(
        http,
        f"/my/tasks/{task.id}",
        {"version": str(task.version), "percent_complete": "50", "remaining_days": "9"},
        htmx=True,
    )
    assert saved.status_code == 200 and 'id="remainingDays-error"' not in saved.text
    assert (await Task.get(id=task.id)).remaining_duration_days == 9
    assert (await planning_queries.schedules_for([task.id]))[task.id].remaining_days == 9
