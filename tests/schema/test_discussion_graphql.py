"""Comments and attachments over GraphQL: add / edit / withdraw with refusals in the payload,
threads on tasks (one query for many tasks), and uploadAttachment as a multipart request."""

from __future__ import annotations

import io
import json
from datetime import date

from PIL import Image

from schema.common import to_global_id
from server.discussion.models import Attachment, Comment
from server.notices.models import Notice
from server.planning import service as planning
from server.projects.models import Role
from tests import factories as f
from tests.conftest import count_queries
from tests.schema.test_graphql import gql, token_for

ADD = """
mutation($input: AddCommentInput!) { addComment(input: $input) {
  comment { id body version withdrawn author { name } mentions { name } }
  errors { code field message } } }
"""
EDIT = """
mutation($input: EditCommentInput!) { editComment(input: $input) {
  comment { body version } errors { code field message } } }
"""
WITHDRAW = """
mutation($input: WithdrawCommentInput!) { withdrawComment(input: $input) {
  comment { body withdrawn version } errors { code field message } } }
"""
THREADS = """
query($id: ID!) { project(id: $id) { tasks { edges { node { name
  comments(first: 10) { totalCount edges { node { body author { name } } } }
  attachments { fileName contentType size url } } } } } }
"""


async def team():
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd], code="GQD")
    liaison = await f.user(name="李娜", dept=rnd)
    viewer = await f.user(name="访客", dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, viewer, Role.VIEWER, rnd)
    tasks = []
    for n in range(3):
        tasks.append(
            await planning.create_task(
                f.actor(pm),
                project_id=project.id,
                data=planning.TaskInput(
                    name=f"任务{n}", planned_start=date(2026, 12, 7), duration_days=2
                ),
            )
        )
    return project, pm, liaison, viewer, tasks


async def test_a_partner_comments_edits_and_withdraws_with_refusals_in_the_payload(http):
    project, pm, liaison, viewer, tasks = await team()
    token = await token_for(liaison)
    task_id = to_global_id("Task", tasks[0].id)
    added = await gql(
        http, token, ADD, {"input": {"subjectId": task_id, "body": f"@[王芳](user:{pm.id}) 请确认"}}
    )
    comment = added.json()["data"]["addComment"]["comment"]
    assert comment["author"]["name"] == "李娜" and comment["mentions"] == [{"name": "王芳"}]
    assert await Notice.filter(dedup_key__startswith="mention:", recipient_id=pm.id).count() == 1

    edited = await gql(
        http, token, EDIT, {"input": {"id": comment["id"], "version": 1, "body": "已确认"}}
    )
    assert edited.json()["data"]["editComment"] == {
        "comment": {"body": "已确认", "version": 2},
        "errors": [],
    }
    stale = await gql(http, token, WITHDRAW, {"input": {"id": comment["id"], "version": 1}})
    assert stale.json()["data"]["withdrawComment"]["errors"][0]["code"] == "CONFLICT"
    gone = await gql(http, token, WITHDRAW, {"input": {"id": comment["id"], "version": 2}})
    assert gone.json()["data"]["withdrawComment"]["comment"] == {
        "body": "",
        "withdrawn": True,
        "version": 3,
    }

    refused = await gql(
        http, await token_for(viewer), ADD, {"input": {"subjectId": task_id, "body": "我也说"}}
    )
    assert refused.json()["data"]["addComment"] == {
        "comment": None,
        "errors": [
            {"code": "FORBIDDEN", "field": None, "message": "访客只能阅读讨论，不能发表评论。"}
        ],
    }
    wrong_kind = await gql(
        http,
        token,
        ADD,
        {"input": {"subjectId": to_global_id("Project", project.id), "body": "x"}},
        language="en",
    )
    assert wrong_kind.json()["data"]["addComment"]["errors"] == [
        {"code": "NOT_FOUND", "field": ["subjectId"], "message": "Nothing to comment on here."}
    ]
    assert await Comment.all().count() == 1


async def test_threads_of_many_tasks_cost_the_same_queries_as_one(http):
    project, pm, liaison, viewer, tasks = await team()
    token = await token_for(pm)
    for task in tasks:
        await gql(
            http,
            token,
            ADD,
            {"input": {"subjectId": to_global_id("Task", task.id), "body": f"关于{task.name}"}},
        )
    variables = {"id": to_global_id("Project", project.id)}
    with count_queries() as counted:
        answer = await gql(http, token, THREADS, variables)
    listed = [e["node"] for e in answer.json()["data"]["project"]["tasks"]["edges"]]
    assert [t["comments"]["edges"][0]["node"]["body"] for t in listed] == [
        "关于任务0",
        "关于任务1",
        "关于任务2",
    ]
    with_three = len(counted.queries)
    await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(name="任务3", planned_start=date(2026, 12, 7), duration_days=2),
    )
    with count_queries() as counted:
        await gql(http, token, THREADS, variables)
    assert len(counted.queries) == with_three


async def test_a_photo_is_uploaded_as_a_multipart_request(http):
    project, pm, liaison, viewer, tasks = await team()
    token = await token_for(liaison)
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 128, 0)).save(picture, "PNG")
    operations = {
        "query": """mutation($input: UploadAttachmentInput!) { uploadAttachment(input: $input) {
            attachment { fileName contentType size sha256 url uploadedBy { name } }
            errors { code field message } } }""",
        "variables": {"input": {"subjectId": to_global_id("Task", tasks[1].id), "file": None}},
    }
    answer = await http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("blocker.png", picture.getvalue(), "image/png")},
        headers={"Authorization": f"Bearer {token}"},
    )
    attached = answer.json()["data"]["uploadAttachment"]
    assert attached["errors"] == []
    assert attached["attachment"]["contentType"] == "image/png"
    assert attached["attachment"]["uploadedBy"] == {"name": "李娜"}
    row = await Attachment.get()
    assert attached["attachment"]["url"].endswith(f"/projects/GQD/attachments/{row.id}/blocker.png")

    threads = await gql(http, token, THREADS, {"id": to_global_id("Project", project.id)})
    tasks_listed = threads.json()["data"]["project"]["tasks"]["edges"]
    shown = [t["node"]["attachments"] for t in tasks_listed]
    assert [len(a) for a in shown] == [0, 1, 0]
