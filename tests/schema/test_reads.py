"""Reads that read only what they show: task pages cut in SQL by keyset (the same statements
for a page of a 10-task plan and of a 150-task one), totalCount counted only when asked,
predecessor ids taken from the link rows, and no query outside login reading password hashes.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse

from schema.common import _node_fields, _selects_only_id, to_global_id
from server.planning import service as planning
from server.planning.models import Dependency, Task
from server.planning.scheduling import reschedule
from server.progress import service as progress
from server.projects.models import Project, Role
from tests import factories as f
from tests.conftest import count_queries
from tests.schema.test_graphql import gql, token_for
from tests.views.helpers import log_in

START = date(2026, 11, 2)

PAGE = """
query($id: ID!, $first: Int, $after: String) {
  project(id: $id) {
    tasks(first: $first, after: $after) {
      edges { cursor node { wbsCode name } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}"""


async def outline_project(pm, code: str, leaves: int) -> Project:
    """Phase 1 with `leaves` children (1.1 … 1.N, so 1.10 must come after 1.9), then phase
    2 with one child: written in bulk, numbered by the scheduler as after any edit."""
    project = await f.project(pm, code=code)
    await Project.filter(id=project.id).update(start_date=START)
    phase_one = await Task.create(project=project, name="阶段一", planned_start=START)
    phase_two = await Task.create(project=project, name="阶段二", planned_start=START)
    await Task.bulk_create(
        [
            Task(project=project, parent=phase_one, name=f"任务 {i}", planned_start=START)
            for i in range(1, leaves + 1)
        ]
        + [Task(project=project, parent=phase_two, name="收尾", planned_start=START)]
    )
    await reschedule(await Project.get(id=project.id), renumber=True)
    return await Project.get(id=project.id)


def outline_order(codes: list[str]) -> list[str]:
    return sorted(codes, key=lambda c: tuple(int(p) for p in c.split(".")))


async def walk(http, token, project_id: str, first: int) -> list[dict]:
    pages, after = [], None
    while True:
        response = await gql(http, token, PAGE, {"id": project_id, "first": first, "after": after})
        tasks = response.json()["data"]["project"]["tasks"]
        pages.append(tasks)
        if not tasks["pageInfo"]["hasNextPage"]:
            return pages
        after = tasks["pageInfo"]["endCursor"]


async def test_pages_follow_the_outline_and_a_task_added_between_pages_is_not_read_twice(http):
    pm = await f.user()
    project = await outline_project(pm, "K1", leaves=11)
    token = await token_for(pm)
    pid = to_global_id("Project", project.id)

    first = (await gql(http, token, PAGE, {"id": pid, "first": 5})).json()["data"]["project"]
    page_one = first["tasks"]
    assert [e["node"]["wbsCode"] for e in page_one["edges"]] == ["1", "1.1", "1.2", "1.3", "1.4"]
    assert page_one["pageInfo"]["hasNextPage"] and not page_one["pageInfo"]["hasPreviousPage"]

    # Someone adds a task to phase 2 (it becomes 2.2) while the client is on page one.
    phase_two = await Task.get(project_id=project.id, wbs_code="2")
    await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(name="验收", planned_start=START, parent_id=phase_two.id),
    )
    rest, after = [], page_one["pageInfo"]["endCursor"]
    while after:
        response = await gql(http, token, PAGE, {"id": pid, "first": 5, "after": after})
        tasks = response.json()["data"]["project"]["tasks"]
        assert tasks["pageInfo"]["hasPreviousPage"]
        rest += [e["node"]["wbsCode"] for e in tasks["edges"]]
        after = tasks["pageInfo"]["endCursor"] if tasks["pageInfo"]["hasNextPage"] else None
    codes = ["1", "1.1", "1.2", "1.3", "1.4", *rest]
    assert len(codes) == len(set(codes)) == 15
    assert codes == outline_order(codes)
    assert codes[-3:] == ["2", "2.1", "2.2"] and codes[5:11] == [f"1.{i}" for i in range(5, 11)]


@pytest.mark.parametrize("first", [1, 4, 100])
async def test_every_page_size_reads_each_task_once_in_outline_order(http, first):
    pm = await f.user()
    project = await outline_project(pm, "K2", leaves=12)
    token = await token_for(pm)
    pages = await walk(http, token, to_global_id("Project", project.id), first)
    codes = [e["node"]["wbsCode"] for page in pages for e in page["edges"]]
    assert codes == outline_order(codes) and len(set(codes)) == 15
    assert all(len(p["edges"]) == first for p in pages[:-1]) and len(pages[-1]["edges"]) > 0


async def test_a_cursor_of_another_list_or_a_broken_one_is_refused_by_name(http):
    pm = await f.user()
    project = await outline_project(pm, "K3", leaves=2)
    token = await token_for(pm)
    pid = to_global_id("Project", project.id)
    offset_cursor = "b2Zmc2V0OjA="  # "offset:0", a cursor of the offset-paged lists
    for after in (offset_cursor, "not-a-cursor", "dGFza3M6eDp5"):
        response = await gql(http, token, PAGE, {"id": pid, "first": 2, "after": after})
        assert response.json()["errors"][0]["message"] == "after 不是这个列表的游标"
        assert response.json()["data"] == {"project": None}


async def page_statements(http, token, project, *, total: bool) -> list[str]:
    query = PAGE.replace("pageInfo {", "totalCount pageInfo {") if total else PAGE
    pid = to_global_id("Project", project.id)
    second = (await gql(http, token, PAGE, {"id": pid, "first": 3})).json()
    after = second["data"]["project"]["tasks"]["pageInfo"]["endCursor"]
    with count_queries() as counter:
        response = await gql(http, token, query, {"id": pid, "first": 3, "after": after})
    assert len(response.json()["data"]["project"]["tasks"]["edges"]) == 3
    return counter.queries


async def test_a_page_of_a_large_plan_costs_what_a_page_of_a_small_one_costs(http):
    pm = await f.user()
    small = await outline_project(pm, "S1", leaves=8)
    large = await outline_project(pm, "L1", leaves=150)
    token = await token_for(pm)
    await gql(http, token, "{ viewer { name } }")  # the token's last-used stamp written now

    on_small = await page_statements(http, token, small, total=False)
    on_large = await page_statements(http, token, large, total=False)
    assert len(on_small) == len(on_large) == 3, on_large  # token, project, the page
    page = next(q for q in on_large if "FROM task WHERE project_id" in q)
    assert re.search(r"LIMIT (\?|\$\d)", page), page
    assert "wbs_key" in page and not any("COUNT(" in q.upper() for q in on_large)

    counted = await page_statements(http, token, large, total=True)
    assert len(counted) == 4 and sum("COUNT(" in q.upper() for q in counted) == 1
    response = await gql(
        http,
        token,
        "query($id: ID!) { project(id: $id) { tasks(first: 2) { totalCount } } }",
        {"id": to_global_id("Project", large.id)},
    )
    assert response.json()["data"]["project"]["tasks"]["totalCount"] == 153


def tasks_field(document: str) -> tuple[list[FieldNode], dict]:
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    project = operation.selection_set.selections[0]
    return [s for s in project.selection_set.selections if isinstance(s, FieldNode)], fragments


def test_the_fields_read_ahead_for_a_page_are_found_through_fragments_and_aliases():
    """What a page reads ahead (owners, links) follows the fields asked of its nodes,
    however the document spells them."""
    spelled_out = tasks_field(
        "{ project(id: 1) { tasks { edges { node { name owner { name } } } } } }"
    )
    through_fragments = tasks_field(
        """{ project(id: 1) { tasks { ...Page } } }
        fragment Page on TaskConnection { edges { n: node { ... on Task { wbsCode } ...Links } } }
        fragment Links on Task { deps: dependencies { lagDays } }"""
    )
    assert _node_fields(*spelled_out) == {"name", "owner"}
    assert _node_fields(*through_fragments) == {"wbsCode", "dependencies"}
    no_nodes = tasks_field("{ project(id: 1) { tasks { pageInfo { hasNextPage } } } }")
    assert _node_fields(*no_nodes) == set()


def test_only_an_id_without_directives_or_fragments_counts_as_the_id_alone():
    def only_id(selection: str) -> bool:
        return _selects_only_id(*tasks_field("{ project(id: 1) { p: tasks " + selection + " } }"))

    assert only_id("{ id __typename }")
    assert not only_id("{ id name }")
    assert not only_id("{ id @include(if: false) }")
    assert not only_id("{ ... on Task { id } }")


async def test_predecessor_ids_come_from_the_link_rows(http):
    pm = await f.user()
    project = await outline_project(pm, "D1", leaves=3)
    ids = dict(await Task.filter(project_id=project.id).values_list("wbs_code", "id"))
    for before, after in (("1.1", "1.2"), ("1.2", "1.3")):
        await planning.add_dependency(
            f.actor(pm), predecessor_id=ids[before], successor_id=ids[after]
        )
    token = await token_for(pm)
    await gql(http, token, "{ viewer { name } }")
    query = """query($id: ID!) { project(id: $id) { tasks(first: 10) { edges { node {
        wbsCode dependencies { type predecessor { id %s } } } } } } }"""
    pid = to_global_id("Project", project.id)
    with count_queries() as ids_only:
        response = await gql(http, token, query % "", {"id": pid})
    nodes = {
        e["node"]["wbsCode"]: e["node"]
        for e in response.json()["data"]["project"]["tasks"]["edges"]
    }
    assert nodes["1.3"]["dependencies"] == [
        {"type": "FS", "predecessor": {"id": to_global_id("Task", ids["1.2"])}}
    ]
    with count_queries() as with_names:
        named = await gql(http, token, query % "name", {"id": pid})
    named_nodes = named.json()["data"]["project"]["tasks"]["edges"]
    assert named_nodes[3]["node"]["dependencies"][0]["predecessor"]["name"] == "任务 2"
    # token, project, page, links; the names need one batch of task rows more.
    assert len(ids_only.queries) == 4, ids_only.queries
    assert len(with_names.queries) == 5, with_names.queries
    assert await Dependency.filter(project_id=project.id).count() == 2


async def test_a_predecessor_asked_twice_under_a_directive_follows_each_request(http):
    """One document (parsed once, as the API keeps it) asks a predecessor's id, and its
    name only when a variable says so: each request gets what it asked."""
    pm = await f.user()
    project = await outline_project(pm, "D2", leaves=3)
    ids = dict(await Task.filter(project_id=project.id).values_list("wbs_code", "id"))
    await planning.add_dependency(f.actor(pm), predecessor_id=ids["1.1"], successor_id=ids["1.2"])
    token = await token_for(pm)
    query = """query($id: ID!, $full: Boolean!) { project(id: $id) { tasks(first: 10) {
        edges { node { wbsCode dependencies {
          predecessor { id } predecessor @include(if: $full) { name } } } } } } }"""
    pid = to_global_id("Project", project.id)
    predecessor = {"id": to_global_id("Task", ids["1.1"])}
    for full in (False, True, False):
        response = await gql(http, token, query, {"id": pid, "full": full})
        assert "errors" not in response.json(), response.json()
        edges = response.json()["data"]["project"]["tasks"]["edges"]
        links = next(e["node"]["dependencies"] for e in edges if e["node"]["wbsCode"] == "1.2")
        assert links == [{"predecessor": {**predecessor, **({"name": "任务 1"} if full else {})}}]


async def test_no_read_outside_login_touches_a_password_hash(http):
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳", dept=rnd, email="wangfang@example.com")
    engineer = await f.user(name="李工", dept=rnd)
    project = await outline_project(pm, "H1", leaves=3)
    await f.member(pm, project, engineer, Role.MEMBER)
    await Task.filter(project_id=project.id).update(owner_id=engineer.id)
    first = await Task.get(project_id=project.id, wbs_code="1.1")
    await progress.report_progress(
        f.actor(engineer),
        progress.ProgressInput(
            task_id=first.id, version=first.version, percent_complete=40, note="样机到货"
        ),
    )
    token = await token_for(pm)
    pid = to_global_id("Project", project.id)

    with count_queries() as login:
        await log_in(http, "wangfang@example.com")
    assert any("password_hash" in q for q in login.queries)  # where it belongs

    task = await Task.get(project_id=project.id, wbs_code="1.1")
    with count_queries() as reads:
        for path in (
            "/",
            f"/projects/{project.code}",
            f"/projects/{project.code}/plan",
            f"/projects/{project.code}/plan/tasks/{task.id}/edit",  # with its progress history
            "/my/tasks",
        ):
            assert (await http.get(path)).status_code == 200, path
        answer = await gql(
            http,
            token,
            """query($id: ID!, $user: ID!) {
              viewer { name department { name } }
              node(id: $user) { ... on User { name email } }
              project(id: $id) {
                members { user { name } }
                manager { name }
                tasks(first: 10) { edges { node { owner { name } } } }
              }
            }""",
            {"id": pid, "user": to_global_id("User", engineer.id)},
        )
    data = answer.json()["data"]
    assert data["node"]["name"] == "李工" and data["project"]["manager"]["name"] == "王芳"
    assert {e["node"]["owner"]["name"] for e in data["project"]["tasks"]["edges"]} == {"李工"}
    leaking = [q[:300] for q in reads.queries if "password_hash" in q]
    assert reads.queries and not leaking, "\n".join(leaking)


async def fragment_statements(http, project) -> tuple[list[str], str]:
    task = await Task.get(project_id=project.id, wbs_code="1.2")
    url = f"/projects/{project.code}/plan/tasks/{task.id}/edit"
    await http.get(url, headers={"HX-Request": "true"})  # the session's stamp written now
    with count_queries() as counter:
        response = await http.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return counter.queries, response.text


def offered(html: str) -> list[str]:
    """The WBS codes a predecessor picker offers, in its order (in a form, or the options
    alone as the search answers them)."""
    if 'name="predecessor_id"' in html:
        start = html.index('name="predecessor_id"')
        html = html[start : html.index("</select>", start)]
    return re.findall(r'<option value="\d+"(?: selected)?>(\d+(?:\.\d+)*) ', html)


async def test_the_edit_form_of_one_task_reads_what_it_shows_not_the_plan(http):
    pm = await f.user()
    small = await outline_project(pm, "S2", leaves=8)
    large = await outline_project(pm, "L2", leaves=150)
    await log_in(http, pm.email)

    on_small, _ = await fragment_statements(http, small)
    on_large, form = await fragment_statements(http, large)
    assert len(on_small) == len(on_large), on_large
    assert not any(re.search(r"task_schedule|baseline|calendar", q) for q in on_large), on_large
    # The whole form, its predecessor picker offering the leaf tasks nearest 1.2 (the one
    # before it chosen), not the 150 others; the phases offered as phases.
    assert form.startswith('<tr id="task-') and 'name="version"' in form
    assert offered(form) == ["1.1", "1.3", "1.4", "1.5", "1.6", "1.7"]
    assert re.search(r'<option value="\d+" selected>1\.1 ', form)
    start = form.index('name="parent_id"')
    parent_picker = form[start : form.index("</select>", start)]
    assert re.findall(r'<option value="\d+"(?: selected)?>(\d+) ', parent_picker) == ["1", "2"]


async def test_typing_in_the_predecessor_picker_finds_tasks_anywhere_in_the_plan(http):
    pm = await f.user()
    project = await outline_project(pm, "L3", leaves=150)
    await Task.filter(project_id=project.id, wbs_code="1.5").update(name="Firmware 100% 验收")
    task = await Task.get(project_id=project.id, wbs_code="1.2")
    await log_in(http, pm.email)
    choices = f"/projects/{project.code}/plan/tasks/{task.id}/predecessor-choices"

    async def found(typed: str) -> list[str]:
        response = await http.get(choices, params={"find": typed}, headers={"HX-Request": "true"})
        assert response.status_code == 200
        return offered(response.text)

    # A code's beginning, in outline order, at most 30.
    assert await found("1.1") == [
        "1.1",
        *(f"1.{i}" for i in range(10, 20)),
        *(f"1.{i}" for i in range(100, 119)),
    ]
    assert await found(" 任务 14") == ["1.14", *(f"1.{i}" for i in range(140, 150))]
    assert await found("任务 2") == [f"1.{i}" for i in range(20, 30)]  # never the task itself
    assert await found("FIRMWARE 100%") == ["1.5"]  # any case; % is a character here
    assert await found("%") == ["1.5"]
    assert await found("_") == []
    assert await found("阶段") == []  # phases are not predecessors
    nothing = await http.get(choices, params={"find": "阶段"}, headers={"HX-Request": "true"})
    assert '<option value="" disabled selected>没有匹配的任务。</option>' in nothing.text
    assert await found("") == ["1.1", "1.3", "1.4", "1.5", "1.6", "1.7"]  # the nearest again

    # Without htmx, the same search opens the plan with the form and what was found.
    page = await http.get(f"/projects/{project.code}/plan/tasks/{task.id}/edit?find=收尾")
    assert page.status_code == 200 and offered(page.text) == ["2.1"]
    assert re.search(r'<option value="\d+" selected>2\.1 ', page.text)
    assert 'value="收尾"' in page.text

    # Someone who cannot see the project learns nothing of it, not even that it exists.
    outsider = await f.user()
    await log_in(http, outsider.email)
    assert (await http.get(choices, params={"find": "1"})).status_code == 404
