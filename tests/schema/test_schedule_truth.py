"""The schedule follows reality through GraphQL: a status date the PM sets, progress that
never pulls the forecast earlier than the logic allows, finished work at its actual dates,
a driving path that is a path, and a deadline that shows negative float."""

from __future__ import annotations

from datetime import date

from schema.common import to_global_id
from server.planning import company_calendar as planning_company_calendar
from server.planning import service as planning
from server.planning.models import Task
from server.progress import service as progress
from server.projects.models import Project, Role
from tests import factories as f
from tests.schema.test_graphql import gql, token_for

UPDATE = """mutation($input: UpdateProjectInput!) { updateProject(input: $input) {
    project { statusDate statusDateIsSet retainedLogic deadline version }
    errors { code field message } } }"""
PLAN = """query($id: ID!) { project(id: $id) {
    schedule { finish }
    criticalPath { tasks { name } }
    tasks(first: 50) { edges { node { name earlyStart earlyFinish totalFloatDays isCritical
        remainingDays drivingPredecessors { name } } } } } }"""


async def plan_in_progress():
    """Hardware (10 d) then app testing (4 d) FS, and a parallel manual (3 d); start Mon 30 Nov."""
    await planning_company_calendar.seed_company_calendar()
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd], code="TRUTH")
    liaison = await f.user(dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    me = f.actor(pm)

    async def task(name, days):
        return await planning.create_task(
            me,
            project_id=project.id,
            data=planning.TaskInput(
                name=name, planned_start=date(2026, 11, 30), duration_days=days,
                owner_id=liaison.id, department_id=rnd.id,
            ),
        )  # fmt: skip

    hardware, app, manual = (
        await task("硬件开发", 10),
        await task("App 联调测试", 4),
        await task("说明书", 3),
    )
    await planning.add_dependency(me, predecessor_id=hardware.id, successor_id=app.id)
    return project, pm, liaison, hardware, app, manual


async def set_status(http, token, project, **fields):
    current = await Project.get(id=project.id)
    values = {"id": to_global_id("Project", project.id), "version": current.version, **fields}
    return (await gql(http, token, UPDATE, {"input": values})).json()["data"]["updateProject"]


async def plan_of(http, token, project):
    data = (await gql(http, token, PLAN, {"id": to_global_id("Project", project.id)})).json()
    node = data["data"]["project"]
    tasks = {e["node"]["name"]: e["node"] for e in node["tasks"]["edges"]}
    return node, tasks


async def report(liaison, task, percent, **extra):
    row = await Task.get(id=task.id)
    await progress.report_progress(
        f.actor(liaison),
        progress.ProgressInput(
            task_id=task.id, version=row.version, percent_complete=percent, **extra
        ),
    )


async def test_out_of_sequence_progress_never_pulls_the_forecast_earlier(http):
    project, pm, liaison, hardware, app, manual = await plan_in_progress()
    token = await token_for(pm)
    # No status date set: progress is measured today, whatever day the test runs.
    today = await set_status(http, token, project, statusDate=None)
    assert today["errors"] == [] and today["project"]["statusDateIsSet"] is False
    before, tasks = await plan_of(http, token, project)
    assert tasks["硬件开发"]["earlyStart"] >= today["project"]["statusDate"]  # next working day
    # App testing starts today although hardware, its predecessor, has not.
    await report(liaison, app, 10)
    after, tasks = await plan_of(http, token, project)
    assert after["schedule"]["finish"] == before["schedule"]["finish"]
    assert tasks["App 联调测试"]["earlyFinish"] > tasks["硬件开发"]["earlyFinish"]
    assert tasks["App 联调测试"]["remainingDays"] == 4
    assert [t["name"] for t in tasks["App 联调测试"]["drivingPredecessors"]] == ["硬件开发"]
    assert [t["name"] for t in after["criticalPath"]["tasks"]] == ["硬件开发", "App 联调测试"]
    assert tasks["硬件开发"]["totalFloatDays"] == 0

    # Progress override: the remaining work runs from the status date regardless.
    override = await set_status(http, token, project, retainedLogic=False)
    assert override["project"]["retainedLogic"] is False
    _, tasks = await plan_of(http, token, project)
    assert tasks["App 联调测试"]["earlyFinish"] < tasks["硬件开发"]["earlyFinish"]


async def test_a_finished_task_shows_its_actual_finish_and_late_work_slips(http):
    project, pm, liaison, hardware, app, manual = await plan_in_progress()
    token = await token_for(pm)
    await set_status(http, token, project, statusDate="2026-12-04")
    await report(liaison, manual, 100, actual_finish=date(2026, 12, 2))
    node, tasks = await plan_of(http, token, project)
    assert tasks["说明书"]["earlyFinish"] == "2026-12-02"
    assert tasks["说明书"]["isCritical"] is False
    # Hardware, due to start 30 Nov, has not started: on 4 Dec it can start no earlier.
    assert tasks["硬件开发"]["earlyStart"] == "2026-12-04"
    assert node["schedule"]["finish"] == "2026-12-23"  # 4–17 Dec, then 18–23 Dec


async def test_a_deadline_shows_negative_float_and_bad_dates_are_refused_on_the_field(http):
    project, pm, liaison, hardware, app, manual = await plan_in_progress()
    token = await token_for(pm)
    await set_status(http, token, project, statusDate="2026-11-30", deadline="2026-12-15")
    _, tasks = await plan_of(http, token, project)
    # The chain ends Thu 17 Dec, two working days past the deadline.
    assert tasks["App 联调测试"]["totalFloatDays"] == -2
    assert tasks["说明书"]["totalFloatDays"] == 9
    assert tasks["硬件开发"]["isCritical"] is True
    cleared = await set_status(http, token, project, statusDate=None, deadline=None)
    assert cleared["project"]["statusDateIsSet"] is False and cleared["project"]["deadline"] is None
    bad = await gql(
        http,
        token,
        UPDATE,
        {"input": {"id": to_global_id("Project", project.id), "version": 1, "statusDate": "12/04"}},
    )
    assert bad.json()["errors"]  # not a Date: refused before anything changes
