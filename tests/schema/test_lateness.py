"""Lateness counts from the agreed plan — the baseline, or before any baseline the planned
finish as entered — never from a date that moves when progress is reported."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from schema.common import to_global_id
from server.planning import company_calendar as planning_company_calendar
from server.planning import scheduling as planning_scheduling
from server.planning import service as planning
from server.planning.models import Task
from server.progress import service as progress
from server.projects.models import Role
from tests import factories as f
from tests.schema.test_graphql import gql, token_for

QUERY = "query($id: ID!) { node(id: $id) { ... on Task { daysLate plannedFinish earlyFinish } } }"


async def test_a_started_task_planned_to_finish_weeks_ago_is_late_by_its_planned_finish(http):
    await planning_company_calendar.seed_company_calendar()
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd], code="LATE")
    liaison = await f.user(dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    today = datetime.now(ZoneInfo(project.time_zone)).date()
    calendar = await planning_scheduling.working_calendar(project.id)
    planned_start = calendar.add_working_days(today, -15)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="样机测试",
            planned_start=planned_start,
            duration_days=5,
            owner_id=liaison.id,
            department_id=rnd.id,
        ),
    )
    planned_finish = calendar.finish_for(planned_start, 5)
    owed = calendar.working_days_between(planned_finish, today)
    assert owed == 11
    token = await token_for(pm)
    variables = {"id": to_global_id("Task", task.id)}
    before = (await gql(http, token, QUERY, variables)).json()["data"]["node"]
    assert before["daysLate"] == owed and before["plannedFinish"] == planned_finish.isoformat()

    # 5 % today: the task has just started; the schedule moves its finish into the future.
    row = await Task.get(id=task.id)
    await progress.report_progress(
        f.actor(liaison),
        progress.ProgressInput(task_id=task.id, version=row.version, percent_complete=5),
    )
    after = (await gql(http, token, QUERY, variables)).json()["data"]["node"]
    assert date.fromisoformat(after["earlyFinish"]) > today - timedelta(days=1)
    assert after["daysLate"] == owed
    mine = await progress.my_tasks(f.actor(liaison))
    assert [m.days_late for m in mine if m.task.id == task.id] == [owed]
