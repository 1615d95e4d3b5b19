"""Step 3 over GraphQL: every mutation, with the refusals in the payload, and the lists."""

from __future__ import annotations

import pytest

from schema.common import from_global_id, to_global_id
from server.projects.models import Role
from server.requirements.models import Requirement, ResourceRequest
from tests import factories as f
from tests.conftest import count_queries
from tests.schema.test_graphql import gql, token_for

ERRORS = "errors { code field message }"
FILE = f"""mutation($input: FileRequirementInput!) {{ fileRequirement(input: $input) {{
  requirement {{ id title status priority version department {{ name }} askedOf {{ name }} }}
  {ERRORS} }} }}"""
UPDATE = f"""mutation($input: UpdateRequirementInput!) {{ updateRequirement(input: $input) {{
  requirement {{ title version }} {ERRORS} }} }}"""
REVIEW = f"""mutation($input: ReviewRequirementInput!) {{ reviewRequirement(input: $input) {{
  requirement {{ status decisionReason mergedIntoId version }} {ERRORS} }} }}"""
FLAG = f"""mutation($input: FlagRequirementConflictInput!) {{
  flagRequirementConflict(input: $input) {{ conflict {{ id open note version }} {ERRORS} }} }}"""
SETTLE = f"""mutation($input: ResolveRequirementConflictInput!) {{
  resolveRequirementConflict(input: $input) {{ conflict {{ open decision }} {ERRORS} }} }}"""
REQUEST_FIELDS = """resourceRequest { id kind quantity unit amount currency status gapState
  gapResolution version supplier { name } }"""
FILE_REQUEST = f"""mutation($input: FileResourceRequestInput!) {{
  fileResourceRequest(input: $input) {{ {REQUEST_FIELDS} {ERRORS} }} }}"""
UPDATE_REQUEST = f"""mutation($input: UpdateResourceRequestInput!) {{
  updateResourceRequest(input: $input) {{ {REQUEST_FIELDS} {ERRORS} }} }}"""
COMMIT = f"""mutation($input: CommitResourceInput!) {{ commitResource(input: $input) {{
  {REQUEST_FIELDS} {ERRORS} }} }}"""
RESOLVE = f"""mutation($input: ResolveGapInput!) {{ resolveGap(input: $input) {{
  {REQUEST_FIELDS} {ERRORS} }} }}"""
DECIDE = f"""mutation($input: DecideGapInput!) {{ decideGap(input: $input) {{
  {REQUEST_FIELDS} {ERRORS} }} }}"""
LISTS = """query($id: ID!, $after: String) { project(id: $id) {
  requirements(first: 2, after: $after) { totalCount edges { node { title } }
    pageInfo { hasNextPage endCursor } }
  resourceRequests(first: 10) { totalCount edges { node { description amount } } }
  requirementConflicts { note } } }"""


async def setup():
    rnd = await f.department("研发部")
    ops = await f.department("生产部")
    pm = await f.user(name="王芳", dept=rnd)
    project = await f.project(pm, departments=[rnd, ops])
    liaison = await f.user(name="孙浩", dept=rnd)
    ops_head = await f.user(name="刘强", dept=ops)
    boss = await f.user(name="黄建国", dept=rnd)
    member = await f.user(name="成员", dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, ops_head, Role.DEPARTMENT_HEAD, ops)
    await f.member(pm, project, boss, Role.MANAGEMENT, rnd)
    await f.member(pm, project, member, Role.MEMBER, rnd)
    ids = {
        "project": to_global_id("Project", project.id),
        "rnd": to_global_id("Department", rnd.id),
        "ops": to_global_id("Department", ops.id),
    }
    return ids, pm, liaison, ops_head, boss, member


def data(answer, name):
    return answer.json()["data"][name]


async def test_requirements_are_filed_updated_reviewed_merged_and_conflicts_settled(http):
    ids, pm, liaison, ops_head, boss, member = await setup()
    liaison_token, pm_token = await token_for(liaison), await token_for(pm)
    filed = data(
        await gql(
            http,
            liaison_token,
            FILE,
            {
                "input": {
                    "projectId": ids["project"],
                    "departmentId": ids["rnd"],
                    "title": "样机 10 台",
                    "priority": "MUST",
                    "askedOfDepartmentId": ids["ops"],
                }
            },
        ),
        "fileRequirement",
    )
    assert filed["errors"] == []
    first = filed["requirement"]
    assert (first["status"], first["priority"], first["askedOf"]) == (
        "FILED",
        "MUST",
        {"name": "生产部"},
    )
    refused = data(
        await gql(
            http,
            liaison_token,
            FILE,
            {"input": {"projectId": ids["project"], "departmentId": ids["ops"], "title": "越权"}},
        ),
        "fileRequirement",
    )
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    member_refused = data(
        await gql(
            http,
            await token_for(member),
            FILE,
            {"input": {"projectId": ids["project"], "departmentId": ids["rnd"], "title": "成员"}},
        ),
        "fileRequirement",
    )
    assert member_refused["errors"][0]["code"] == "FORBIDDEN"
    updated = data(
        await gql(
            http,
            liaison_token,
            UPDATE,
            {"input": {"id": first["id"], "version": 1, "title": "样机 12 台"}},
        ),
        "updateRequirement",
    )
    assert updated["requirement"] == {"title": "样机 12 台", "version": 2}
    second = data(
        await gql(
            http,
            liaison_token,
            FILE,
            {"input": {"projectId": ids["project"], "departmentId": ids["rnd"], "title": "样机"}},
        ),
        "fileRequirement",
    )["requirement"]
    flagged = data(
        await gql(
            http,
            pm_token,
            FLAG,
            {
                "input": {
                    "requirementId": first["id"],
                    "otherRequirementId": second["id"],
                    "note": "数量不一致",
                }
            },
        ),
        "flagRequirementConflict",
    )
    assert flagged["conflict"]["open"] is True
    self_merge = data(
        await gql(
            http,
            pm_token,
            REVIEW,
            {
                "input": {
                    "id": second["id"],
                    "version": 1,
                    "decision": "MERGE",
                    "mergeIntoId": second["id"],
                }
            },
        ),
        "reviewRequirement",
    )
    assert self_merge["errors"][0]["field"][-1] == "mergeIntoId"
    lists = data(await gql(http, pm_token, LISTS, {"id": ids["project"]}), "project")
    assert lists["requirementConflicts"] == [{"note": "数量不一致"}]
    settled = data(
        await gql(
            http,
            pm_token,
            SETTLE,
            {"input": {"id": flagged["conflict"]["id"], "version": 1, "decision": "按 12 台"}},
        ),
        "resolveRequirementConflict",
    )
    assert settled["conflict"] == {"open": False, "decision": "按 12 台"}
    merged = data(
        await gql(
            http,
            pm_token,
            REVIEW,
            {
                "input": {
                    "id": second["id"],
                    "version": 1,
                    "decision": "MERGE",
                    "mergeIntoId": first["id"],
                }
            },
        ),
        "reviewRequirement",
    )
    assert merged["requirement"]["status"] == "MERGED"
    assert merged["requirement"]["mergedIntoId"] == first["id"]
    page = data(await gql(http, pm_token, LISTS, {"id": ids["project"]}), "project")
    assert page["requirements"]["totalCount"] == 2
    assert [e["node"]["title"] for e in page["requirements"]["edges"]] == ["样机 12 台", "样机"]


async def test_resources_are_requested_committed_declined_and_gaps_decided(http):
    ids, pm, liaison, ops_head, boss, member = await setup()
    liaison_token = await token_for(liaison)

    def request(**fields):
        return {
            "input": {
                "projectId": ids["project"],
                "departmentId": ids["rnd"],
                "kind": "PEOPLE",
                "description": "结构工程师",
                "quantity": "2",
                "unit": "人",
                **fields,
            }
        }

    bad = data(
        await gql(http, liaison_token, FILE_REQUEST, request(quantity="0", amount="1.001")),
        "fileResourceRequest",
    )
    assert {e["field"][-1] for e in bad["errors"]} == {"quantity", "amount"}
    assert await ResourceRequest.all().count() == 0
    filed = data(
        await gql(
            http,
            liaison_token,
            FILE_REQUEST,
            request(amount="30000.5", supplierDepartmentId=ids["ops"]),
        ),
        "fileResourceRequest",
    )["resourceRequest"]
    assert (filed["quantity"], filed["amount"], filed["currency"]) == ("2.00", "30000.50", "CNY")
    edited = data(
        await gql(
            http,
            liaison_token,
            UPDATE_REQUEST,
            {"input": {"id": filed["id"], "version": 1, "quantity": "3"}},
        ),
        "updateResourceRequest",
    )["resourceRequest"]
    assert (edited["quantity"], edited["version"]) == ("3.00", 2)
    not_theirs = data(
        await gql(
            http,
            await token_for(pm),
            COMMIT,
            {"input": {"id": filed["id"], "version": 2, "commit": True}},
        ),
        "commitResource",
    )
    assert not_theirs["errors"][0]["code"] == "FORBIDDEN"
    declined = data(
        await gql(
            http,
            await token_for(ops_head),
            COMMIT,
            {"input": {"id": filed["id"], "version": 2, "commit": False, "comment": "没有人"}},
        ),
        "commitResource",
    )["resourceRequest"]
    assert (declined["status"], declined["gapState"]) == ("DECLINED", "OPEN")
    asked = data(
        await gql(
            http,
            await token_for(pm),
            RESOLVE,
            {"input": {"id": filed["id"], "version": 3, "resolution": "MANAGEMENT"}},
        ),
        "resolveGap",
    )["resourceRequest"]
    assert asked["gapState"] == "AWAITING_MANAGEMENT"
    approved = data(
        await gql(
            http,
            await token_for(boss),
            DECIDE,
            {"input": {"id": filed["id"], "version": 4, "approve": True, "comment": "外包"}},
        ),
        "decideGap",
    )["resourceRequest"]
    assert (approved["gapState"], approved["gapResolution"]) == ("RESOLVED", "MANAGEMENT")
    lists = data(await gql(http, await token_for(member), LISTS, {"id": ids["project"]}), "project")
    assert lists["resourceRequests"]["edges"] == [
        {"node": {"description": "结构工程师", "amount": "30000.50"}}
    ]
    assert await Requirement.all().count() == 0


@pytest.mark.parametrize("size", [10, 200])
async def test_the_lists_cost_the_same_queries_for_10_and_200_rows(http, size):
    from server.requirements import resources, service

    ids, pm, liaison, ops_head, boss, member = await setup()
    project_pk = int(from_global_id(ids["project"], "Project", field="id"))
    rnd_pk = int(from_global_id(ids["rnd"], "Department", field="id"))
    ops_pk = int(from_global_id(ids["ops"], "Department", field="id"))
    for n in range(size):
        await service.file_requirement(
            f.actor(liaison),
            project_id=project_pk,
            data=service.RequirementInput(
                department_id=rnd_pk, title=f"需求{n}", asked_of_id=ops_pk
            ),
        )
        await resources.file_request(
            f.actor(liaison),
            project_id=project_pk,
            data=resources.ResourceInput(
                department_id=rnd_pk,
                kind="OTHER",
                description=f"资源{n}",
                quantity="1",
                supplier_id=ops_pk,
            ),
        )
    token = await token_for(pm)
    query = """query($id: ID!) { project(id: $id) {
      requirements(first: 100) { edges { node { title department { name } askedOf { name }
        filedBy { name } } } }
      resourceRequests(first: 100) { edges { node { description department { name }
        supplier { name } } } } } }"""
    await gql(http, token, query, {"id": ids["project"]})
    with count_queries() as counter:
        answer = await gql(http, token, query, {"id": ids["project"]})
    assert len(answer.json()["data"]["project"]["requirements"]["edges"]) == min(size, 100)
    assert counter.count == 8, counter.queries
