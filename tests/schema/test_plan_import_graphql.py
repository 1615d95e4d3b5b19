"""importPlan over GraphQL (the multipart request spec): preview, then import bound to the
previewed file's hash; refusals in the payload, nothing written."""

from __future__ import annotations

import json

from schema.common import to_global_id
from server.planning.models import Task
from server.projects.models import Project
from tests.schema.test_graphql import token_for
from tests.views.test_plan_import_pages import empty_project, source_file

IMPORT = """mutation($input: ImportPlanInput!) { importPlan(input: $input) {
  preview { contentHash counts { tasks milestones links calendarDays }
            errors { task message detail } unsupported { task message } }
  imported differences { task field theirs ours }
  errors { code field message } } }"""


async def import_plan(http, token, project_id, data, **extra):
    operations = {
        "query": IMPORT,
        "variables": {
            "input": {"projectId": to_global_id("Project", project_id), "file": None, **extra}
        },
    }
    answer = await http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("plan.xml", data, "application/xml")},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )
    return answer.json()["data"]["importPlan"]


async def test_a_partner_previews_then_imports_a_plan(http):
    data, p = await source_file()
    target = await empty_project(p.pm, "GQLPLAN")
    token = await token_for(p.pm)
    previewed = await import_plan(http, token, target.id, data)
    assert previewed["errors"] == [] and previewed["imported"] is False
    preview = previewed["preview"]
    assert preview["counts"] == {"tasks": 4, "milestones": 1, "links": 2, "calendarDays": 0}
    assert preview["errors"] == [] and preview["unsupported"] == []
    assert not await Task.filter(project_id=target.id).exists()

    stale = await import_plan(http, token, target.id, data, confirm=True, contentHash="0" * 64)
    assert stale["errors"][0]["code"] == "CONFLICT"
    assert stale["errors"][0]["field"] == ["contentHash"]
    assert not await Task.filter(project_id=target.id).exists()

    done = await import_plan(
        http, token, target.id, data, confirm=True, contentHash=preview["contentHash"]
    )
    assert done["errors"] == [] and done["imported"] is True and done["differences"] == []
    assert await Task.filter(project_id=target.id).count() == 4


async def test_errors_are_listed_and_a_hostile_file_is_refused(http):
    data, p = await source_file()
    target = await empty_project(p.pm, "GQLBAD")
    token = await token_for(p.pm)
    broken = data.replace(b"<PredecessorUID>1<", b"<PredecessorUID>77<")
    listed = await import_plan(http, token, target.id, broken)
    (error,) = listed["preview"]["errors"]
    assert error["message"] == "A link names a predecessor that is not in the file."
    assert error["task"] == "试产" and error["detail"] == "77"
    hostile = b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "x">]><Project>&a;</Project>'
    refused = await import_plan(http, token, target.id, hostile)
    assert refused["preview"] is None
    assert refused["errors"][0]["field"] == ["file"]
    assert "entities or a DTD" in refused["errors"][0]["message"]


async def test_a_partner_imports_an_edited_wbs_workbook(http):
    from server.planning import exports
    from server.planning.queries import plan_view

    _, p = await source_file()
    workbook = exports.plan_xlsx(await plan_view(p.project), "en")
    target = await empty_project(p.pm, "GQLSHEET")
    # A sheet carries no status date: the target's is the source's, or work moves after it.
    await Project.filter(id=target.id).update(status_date=p.project.status_date)
    token = await token_for(p.pm)
    previewed = await import_plan(http, token, target.id, workbook)
    assert previewed["errors"] == [] and previewed["preview"]["errors"] == []
    assert previewed["preview"]["counts"]["links"] == 2
    done = await import_plan(
        http,
        token,
        target.id,
        workbook,
        confirm=True,
        contentHash=previewed["preview"]["contentHash"],
    )
    assert done["imported"] is True and done["differences"] == []
    assert await Task.filter(project_id=target.id).count() == 4
