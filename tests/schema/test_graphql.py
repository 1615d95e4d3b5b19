"""The GraphQL contract of API.md, over HTTP against the ASGI app."""

from __future__ import annotations

import pytest

from schema.common import to_global_id
from server.org import service as org
from server.projects.models import Project, ProjectMember, Role
from tests import factories as f
from tests.conftest import count_queries


async def token_for(user) -> str:
    return (await org.create_api_token(f.actor(user), name="test")).secret


async def gql(http, token, query, variables=None, language=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if language:
        headers["Accept-Language"] = language
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    return response


async def test_viewer_needs_a_bearer_token(http):
    pm = await f.user(name="王芳")
    no_token = await gql(http, None, "{ viewer { name } }")
    assert no_token.status_code == 401
    assert no_token.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    bad = await gql(http, "xt_not-a-token", "{ viewer { name } }")
    assert bad.status_code == 401
    ok = await gql(http, await token_for(pm), "{ viewer { name department { name } } }")
    assert ok.json()["data"]["viewer"]["name"] == "王芳"


async def test_session_cookies_are_ignored_by_graphql(http, db):
    pm = await f.user()
    session = await org.start_session(db, user=pm)
    http.cookies.set("xt_session", session)
    response = await http.post("/graphql", json={"query": "{ viewer { name } }"})
    assert response.status_code == 401


PROJECTS = "{ projects { totalCount edges { node { id code } } } }"


async def test_people_see_only_their_projects_and_admins_see_all(http):
    pm = await f.user()
    outsider = await f.user()
    admin = await f.user(is_admin=True)
    project = await f.project(pm, code="X1")
    seen = (await gql(http, await token_for(outsider), PROJECTS)).json()["data"]["projects"]
    assert seen["totalCount"] == 0
    by_id = await gql(
        http,
        await token_for(outsider),
        "query($id: ID!) { project(id: $id) { code } node(id: $id) { id } }",
        {"id": to_global_id("Project", project.id)},
    )
    assert by_id.json()["data"] == {"project": None, "node": None}
    admin_view = (await gql(http, await token_for(admin), PROJECTS)).json()["data"]["projects"]
    assert [e["node"]["code"] for e in admin_view["edges"]] == ["X1"]


CREATE = """
mutation($input: CreateProjectInput!) {
  createProject(input: $input) {
    project { id code name version initiatingDepartment { name } departments { name }
              manager { name } }
    errors { code field message }
  }
}"""


def create_input(dept_id: int, **overrides):
    values = {
        "code": "X1-LAUNCH",
        "name": "智能保温杯 X1 新品上市",
        "initiatingDepartmentId": to_global_id("Department", dept_id),
        "departmentIds": [],
        "startDate": "2026-11-02",
        "goals": "首月销量 ≥ 20,000 件",
    }
    values.update(overrides)
    return {"input": values}


async def test_create_project_and_its_refusals(http):
    mkt = await f.department("市场部")
    pm = await f.user(name="王芳", dept=mkt)
    token = await token_for(pm)
    created = (await gql(http, token, CREATE, create_input(mkt.id))).json()["data"]
    project = created["createProject"]["project"]
    assert created["createProject"]["errors"] == []
    assert project["manager"]["name"] == "王芳"
    assert project["departments"] == [{"name": "市场部"}]

    taken = (await gql(http, token, CREATE, create_input(mkt.id), language="en")).json()
    errors = taken["data"]["createProject"]["errors"]
    assert errors == [
        {"code": "INVALID", "field": ["code"], "message": "The project code X1-LAUNCH is taken."}
    ]
    empty = await gql(http, token, CREATE, create_input(mkt.id, code="X2", name=" "))
    assert empty.json()["data"]["createProject"]["errors"][0]["field"] == ["name"]
    unknown = await gql(
        http,
        token,
        CREATE,
        create_input(mkt.id, code="X3", departmentIds=[to_global_id("Department", 99999)]),
    )
    assert unknown.json()["data"]["createProject"]["errors"][0]["code"] == "NOT_FOUND"
    huge = await gql(http, token, CREATE, create_input(mkt.id, code="X4", goals="长" * 30_000))
    huge_errors = huge.json()["data"]["createProject"]["errors"]
    assert huge_errors[0]["field"] == ["goals"] and huge_errors[0]["code"] == "INVALID"
    assert await Project.all().count() == 1


UPDATE = """
mutation($input: UpdateProjectInput!) {
  updateProject(input: $input) { project { name version } errors { code field message } }
}"""


async def test_update_with_a_stale_version_is_a_conflict(http):
    pm = await f.user()
    project = await f.project(pm, name="旧名")
    token = await token_for(pm)
    pid = to_global_id("Project", project.id)
    first = await gql(http, token, UPDATE, {"input": {"id": pid, "version": 1, "name": "新名"}})
    assert first.json()["data"]["updateProject"]["project"] == {"name": "新名", "version": 2}
    stale = await gql(http, token, UPDATE, {"input": {"id": pid, "version": 1, "name": "再改"}})
    assert stale.json()["data"]["updateProject"]["errors"][0]["code"] == "CONFLICT"
    assert (await Project.get(id=project.id)).name == "新名"


async def test_a_member_may_not_edit_the_project(http):
    pm = await f.user()
    project = await f.project(pm)
    viewer = await f.user(dept=await _initiating(project))
    await f.member(pm, project, viewer, Role.VIEWER)
    response = await gql(
        http,
        await token_for(viewer),
        UPDATE,
        {"input": {"id": to_global_id("Project", project.id), "version": 1, "name": "x"}},
    )
    assert response.json()["data"]["updateProject"]["errors"][0]["code"] == "FORBIDDEN"


async def _initiating(project):
    from server.org.models import Department

    return await Department.get(id=project.initiating_department_id)


ADD = """
mutation($input: AddProjectMemberInput!) {
  addProjectMember(input: $input) {
    member { id role user { name } department { name } }
    errors { code field message }
  }
}"""


async def test_team_directory_refuses_a_second_liaison_in_the_callers_language(http):
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, departments=[rnd])
    token = await token_for(pm)

    def add(user, role="LIAISON"):
        return {
            "input": {
                "projectId": to_global_id("Project", project.id),
                "userId": to_global_id("User", user.id),
                "role": role,
                "departmentId": to_global_id("Department", rnd.id),
                "responsibilities": "对接研发任务",
            }
        }

    first = await f.user(name="孙浩", dept=rnd)
    added = (await gql(http, token, ADD, add(first))).json()["data"]["addProjectMember"]
    assert added["errors"] == [] and added["member"]["user"]["name"] == "孙浩"
    second = await f.user(name="李雷", dept=rnd)
    english = (await gql(http, token, ADD, add(second), language="en")).json()
    error = english["data"]["addProjectMember"]["errors"][0]
    assert error["code"] == "INVALID" and error["field"] == ["role"]
    assert "研发部 already has a liaison (孙浩)" in error["message"]
    chinese = (await gql(http, token, ADD, add(second))).json()
    assert (
        "研发部 已有接口人（孙浩）" in chinese["data"]["addProjectMember"]["errors"][0]["message"]
    )
    twice = (await gql(http, token, ADD, add(first))).json()["data"]["addProjectMember"]
    assert twice["errors"][0]["field"] == ["role"]
    assert await ProjectMember.filter(project_id=project.id, role=Role.LIAISON).count() == 1

    removed = await gql(
        http,
        token,
        "mutation($id: ID!) { removeProjectMember(input: {memberId: $id}) "
        "{ member { leftAt } errors { code } } }",
        {"id": added["member"]["id"]},
    )
    assert removed.json()["data"]["removeProjectMember"]["member"]["leftAt"] is not None
    again = (await gql(http, token, ADD, add(second))).json()["data"]["addProjectMember"]
    assert again["errors"] == []


async def test_node_round_trip_and_unknown_ids(http):
    pm = await f.user(name="王芳")
    project = await f.project(pm, code="X9")
    token = await token_for(pm)
    query = "query($id: ID!) { node(id: $id) { id ... on Project { code } ... on User { name } } }"
    project_node = await gql(http, token, query, {"id": to_global_id("Project", project.id)})
    assert project_node.json()["data"]["node"]["code"] == "X9"
    user_node = await gql(http, token, query, {"id": to_global_id("User", pm.id)})
    assert user_node.json()["data"]["node"]["name"] == "王芳"
    for unknown in ("garbage!", to_global_id("Project", 424242)):
        assert (await gql(http, token, query, {"id": unknown})).json()["data"]["node"] is None


async def test_limits_refuse_with_a_message_naming_the_limit(http):
    pm = await f.user()
    token = await token_for(pm)
    deep = "{ viewer { department " + "{ parent " * 10 + "{ name }" + " }" * 10 + " } }"
    depth = (await gql(http, token, deep)).json()
    assert "depth" in depth["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(20)) + " }"
    assert "aliases" in (await gql(http, token, aliases)).json()["errors"][0]["message"]
    tokens = "{ viewer { " + " ".join(["name"] * 2100) + " } }"
    assert "tokens" in (await gql(http, token, tokens)).json()["errors"][0]["message"]
    page = (await gql(http, token, "{ projects(first: 101) { totalCount } }")).json()
    assert page["errors"][0]["message"] == "first 必须在 0 到 100 之间（每页上限）"
    query = "{ projects(first: 101) { totalCount } }"
    page = (await gql(http, token, query, language="en")).json()
    assert page["errors"][0]["message"] == "first must be between 0 and 100 (page size limit)"


async def test_graphiql_only_in_dev(http):
    assert (await http.get("/graphql")).status_code == 404


MEMBERS_OF_PROJECTS = """
{ projects(first: 100) { edges { node { code members { user { name } department { name } } } } } }
"""


@pytest.mark.parametrize("project_count", [2, 50])
async def test_members_of_many_projects_cost_a_fixed_number_of_queries(http, project_count):
    rnd = await f.department("研发部")
    pm = await f.user(dept=rnd)
    for i in range(project_count):
        project = await f.project(pm, code=f"Q{i}")
        await f.member(pm, project, await f.user(dept=rnd), Role.MEMBER)
    token = await token_for(pm)
    await gql(http, token, "{ viewer { name } }")  # token's last-used stamp written now
    with count_queries() as counter:
        response = await gql(http, token, MEMBERS_OF_PROJECTS)
    edges = response.json()["data"]["projects"]["edges"]
    assert len(edges) == project_count
    assert all(len(e["node"]["members"]) == 2 for e in edges)
    # token lookup, count, page of projects, members with users and departments: 4 in all
    assert counter.count == 4, counter.queries


async def test_an_archived_project_is_read_only_through_the_api(http):
    pm = await f.user()
    project = await f.project(pm, name="旧项目")
    token = await token_for(pm)
    pid = to_global_id("Project", project.id)
    archived = await gql(
        http,
        token,
        "mutation($id: ID!) { archiveProject(input: {id: $id, version: 1}) "
        "{ project { status version } errors { code } } }",
        {"id": pid},
    )
    assert archived.json()["data"]["archiveProject"]["project"] == {
        "status": "ARCHIVED",
        "version": 2,
    }
    edit = await gql(http, token, UPDATE, {"input": {"id": pid, "version": 2, "name": "新"}})
    error = edit.json()["data"]["updateProject"]["errors"][0]
    assert error["code"] == "FORBIDDEN" and "归档" in error["message"]
    assert (await Project.get(id=project.id)).name == "旧项目"


PLAN = """
query($id: ID!) {
  project(id: $id) {
    schedule { start finish }
    criticalPath { totalDurationDays tasks { name } }
    tasks(first: 100) {
      totalCount
      edges { node { wbsCode name isMilestone earlyStart earlyFinish lateStart lateFinish
                     totalFloatDays isCritical baselineStart owner { name } department { name }
                     phase { name } dependencies { type lagDays predecessor { name } } } }
    }
  }
}"""


async def test_the_plan_over_graphql_with_a_cycle_refused(http):
    from server.planning.company_calendar import seed_company_calendar

    await seed_company_calendar()
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳", dept=rnd)
    project = await f.project(pm, code="X1")
    token = await token_for(pm)
    pid = to_global_id("Project", project.id)
    create = """mutation($input: CreateTaskInput!) {
        createTask(input: $input) {
          task { id name plannedFinish version } errors { code field message } } }"""

    async def task(name, days, **extra):
        values = {
            "projectId": pid,
            "name": name,
            "plannedStart": "2026-09-28",
            "durationDays": days,
        }
        values.update(extra)
        response = await gql(http, token, create, {"input": values})
        return response.json()["data"]["createTask"]

    design = (await task("结构设计", 3))["task"]
    sample = (await task("打样", 2, ownerId=to_global_id("User", pm.id)))["task"]
    refused = await task("坏任务", 3, plannedFinish="2026-01-01", durationDays=None)
    assert refused["errors"][0]["field"] == ["plannedFinish"]
    link = """mutation($input: AddDependencyInput!) {
        addDependency(input: $input) { task { name } errors { code field message } } }"""
    linked = await gql(
        http, token, link, {"input": {"predecessorId": design["id"], "successorId": sample["id"]}}
    )
    assert linked.json()["data"]["addDependency"]["errors"] == []
    cycle = await gql(
        http,
        token,
        link,
        {"input": {"predecessorId": sample["id"], "successorId": design["id"], "type": "SS"}},
        language="en",
    )
    error = cycle.json()["data"]["addDependency"]["errors"][0]
    assert (
        error["code"] == "INVALID"
        and "cycle" in error["message"]
        and "结构设计" in error["message"]
    )

    with count_queries() as counter:
        plan = (await gql(http, token, PLAN, {"id": pid})).json()["data"]["project"]
    edges = [e["node"] for e in plan["tasks"]["edges"]]
    by_name = {t["name"]: t for t in edges}
    # The project starts 2 Nov 2026: nothing before it, even with a planned start in September.
    assert by_name["结构设计"]["earlyStart"] == "2026-11-02"
    assert by_name["打样"]["earlyStart"] == "2026-11-05"
    assert by_name["打样"]["dependencies"] == [
        {"type": "FS", "lagDays": 0, "predecessor": {"name": "结构设计"}}
    ]
    assert plan["schedule"] == {"start": "2026-11-02", "finish": "2026-11-06"}
    assert plan["criticalPath"]["totalDurationDays"] == 5
    assert [t["name"] for t in plan["criticalPath"]["tasks"]] == ["结构设计", "打样"]
    # One batch per kind of row, via DataLoaders, and one look whether the schedule is current;
    # the page of tasks is read on its own by keyset and its totalCount counted as asked.
    assert counter.count == 12, counter.queries

    approve = """mutation($id: ID!) { approvePlan(input: {projectId: $id}) {
        project { code } errors { code message } } }"""
    refused = (await gql(http, token, approve, {"id": pid})).json()["data"]["approvePlan"]
    assert refused["errors"][0]["code"] == "INVALID"


async def test_days_late_counts_working_days_past_the_finish(http):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from server.planning import company_calendar as planning_company_calendar
    from server.planning import scheduling as planning_scheduling
    from server.planning import service as planning

    await planning_company_calendar.seed_company_calendar()
    pm = await f.user()
    project = await f.project(pm)
    late = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(name="早该完成", planned_start=date(2026, 11, 2), duration_days=3),
    )
    token = await token_for(pm)
    query = "query($id: ID!) { node(id: $id) { ... on Task { earlyFinish daysLate } } }"
    node = (await gql(http, token, query, {"id": to_global_id("Task", late.id)})).json()
    task = node["data"]["node"]
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    calendar = await planning_scheduling.working_calendar(project.id)
    finish = date.fromisoformat(task["earlyFinish"])
    expected = calendar.working_days_between(finish, today) if today > finish else 0
    assert task["daysLate"] == expected
