"""Comments and attachments from the pages: the thread under a task, a problem, a risk and a
meeting; posting with and without htmx, refusals on their fields, photos served only to the
project's people with a safe type and disposition."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from PIL import Image

from server import clock
from server.discussion.models import Attachment, Comment
from server.meetings import service as meetings
from server.notices.models import Notice
from server.planning import service as planning
from server.projects.models import Role
from server.requirements import service as requirements
from server.risks import problems as risk_problems
from server.risks import register
from server.risks.register import RiskInput
from tests import factories as f
from tests.views.helpers import csrf, log_in, post

MONDAY = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def on_monday():
    with clock.travel_to(MONDAY):
        yield


async def team():
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd], code="DSC")
    liaison = await f.user(name="李娜", dept=rnd)
    viewer = await f.user(name="访客", dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, viewer, Role.VIEWER, rnd)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="模具开发", planned_start=date(2026, 12, 7), duration_days=5, owner_id=liaison.id
        ),
    )
    return project, pm, liaison, viewer, task


def jpeg(width: int = 2000, height: int = 1500) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


async def test_a_liaison_comments_on_a_task_and_mentions_the_pm(http):
    project, pm, liaison, viewer, task = await team()
    await log_in(http, liaison.email)
    page = await http.get(f"/projects/DSC/tasks/{task.id}")
    assert page.status_code == 200 and "模具开发" in page.text and 'id="discussion"' in page.text
    posted = await post(
        http,
        "/projects/DSC/comments",
        {"subject": f"TASK:{task.id}", "body": "@王芳 <b>图纸</b>到了"},
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/projects/DSC/tasks/{task.id}#discussion"
    page = await http.get(f"/projects/DSC/tasks/{task.id}")
    assert '<span class="mention">@王芳</span> &lt;b&gt;图纸&lt;/b&gt;到了' in page.text
    assert await Notice.filter(dedup_key__startswith="mention:", recipient_id=pm.id).count() == 1

    # Over htmx the thread comes back in place; an empty comment is refused on its field.
    refused = await post(
        http, "/projects/DSC/comments", {"subject": f"TASK:{task.id}", "body": " "}, htmx=True
    )
    assert refused.status_code == 400
    assert refused.text.lstrip().startswith("<section") and 'id="body-error"' in refused.text
    assert await Comment.all().count() == 1


async def test_the_author_edits_then_withdraws_over_htmx_and_a_viewer_sees_no_form(http):
    project, pm, liaison, viewer, task = await team()
    await log_in(http, liaison.email)
    await post(http, "/projects/DSC/comments", {"subject": f"TASK:{task.id}", "body": "第一版"})
    comment = await Comment.get()
    edited = await post(
        http,
        f"/projects/DSC/comments/{comment.id}",
        {"subject": f"TASK:{task.id}", "version": "1", "body": "第二版"},
        htmx=True,
    )
    assert edited.status_code == 200 and "第二版" in edited.text and "已编辑" in edited.text
    stale = await post(
        http,
        f"/projects/DSC/comments/{comment.id}/withdraw",
        {"subject": f"TASK:{task.id}", "version": "1"},
        htmx=True,
    )
    assert stale.status_code == 409 and "当前为第 2 版" in stale.text
    gone = await post(
        http,
        f"/projects/DSC/comments/{comment.id}/withdraw",
        {"subject": f"TASK:{task.id}", "version": "2"},
        htmx=True,
    )
    assert "作者已撤回这条评论" in gone.text and "第二版" not in gone.text

    http.cookies.clear()
    await log_in(http, viewer.email)
    page = await http.get(f"/projects/DSC/tasks/{task.id}")
    assert page.status_code == 200 and 'name="body"' not in page.text
    refused = await post(
        http, "/projects/DSC/comments", {"subject": f"TASK:{task.id}", "body": "我也说"}, htmx=True
    )
    assert refused.status_code == 403 and "访客只能阅读讨论" in refused.text
    assert await Comment.all().count() == 1


async def test_problems_risks_meetings_and_requirements_carry_the_thread(http):
    project, pm, liaison, viewer, task = await team()
    rnd_id = liaison.department_id
    problem = await risk_problems.report_problem(
        f.actor(pm), project_id=project.id, data=risk_problems.ProblemInput(title="模具裂了")
    )
    risk = await register.raise_risk(
        f.actor(pm),
        project_id=project.id,
        data=RiskInput(title="供应商延期", probability=2, impact=2),
    )
    meeting = await meetings.create_meeting(
        f.actor(pm),
        project_id=project.id,
        data=meetings.MeetingInput(
            kind="WEEKLY",
            title="第一次周例会",
            scheduled_start="2026-12-08T10:00",
            duration_minutes=60,
        ),
    )
    requirement = await requirements.file_requirement(
        f.actor(liaison),
        project_id=project.id,
        data=requirements.RequirementInput(department_id=rnd_id, title="模具需求"),
    )
    await log_in(http, liaison.email)
    for kind, subject_id, path in (
        ("PROBLEM", problem.id, f"/projects/DSC/problems/{problem.id}"),
        ("RISK", risk.id, f"/projects/DSC/risks/{risk.id}"),
        ("MEETING", meeting.id, f"/projects/DSC/meetings/{meeting.id}"),
        ("REQUIREMENT", requirement.id, f"/projects/DSC/requirements/{requirement.id}"),
    ):
        answer = await post(
            http,
            "/projects/DSC/comments",
            {"subject": f"{kind}:{subject_id}", "body": f"关于{kind}"},
        )
        assert answer.headers["location"] == f"{path}#discussion"
        page = await http.get(path)
        assert page.status_code == 200 and f"关于{kind}" in page.text
    problems = await http.get("/projects/DSC/problems")
    assert f'href="/projects/DSC/problems/{problem.id}"' in problems.text
    listed = await http.get("/projects/DSC/requirements")
    assert f'href="/projects/DSC/requirements/{requirement.id}"' in listed.text


async def test_a_photo_from_the_phone_is_shown_scaled_and_served_only_to_the_team(http):
    project, pm, liaison, viewer, task = await team()
    await log_in(http, liaison.email)
    token = await csrf(http)
    data = jpeg()
    sent = await http.post(
        "/projects/DSC/attachments",
        data={"csrf_token": token, "subject": f"TASK:{task.id}"},
        files={"photo": ("IMG_0042.JPG", data, "application/octet-stream")},
    )
    assert sent.status_code == 303
    attachment = await Attachment.get()
    assert attachment.content_type == "image/jpeg" and attachment.has_preview
    page = await http.get(f"/projects/DSC/tasks/{task.id}")
    link = f"/projects/DSC/attachments/{attachment.id}/IMG_0042.JPG"
    assert f'<img src="{link}?preview=1"' in page.text

    full = await http.get(link)
    assert full.content == data and full.headers["content-type"] == "image/jpeg"
    assert full.headers["x-content-type-options"] == "nosniff"
    assert full.headers["content-disposition"].startswith("inline;")
    small = await http.get(link + "?preview=1")
    with Image.open(io.BytesIO(small.content)) as shown:
        assert max(shown.size) == 1280

    # A page dressed as a photo is refused on the file field, over htmx too.
    refused = await http.post(
        "/projects/DSC/attachments",
        data={"subject": f"TASK:{task.id}"},
        files={"file": ("cat.jpg", b"<html><script>alert(1)</script>", "image/jpeg")},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert refused.status_code == 400 and 'id="file-error"' in refused.text
    assert await Attachment.all().count() == 1

    http.cookies.clear()
    outsider = await f.user(name="外人")
    await log_in(http, outsider.email)
    assert (await http.get(link)).status_code == 404


async def test_an_upload_without_the_csrf_token_is_refused(http):
    project, pm, liaison, viewer, task = await team()
    await log_in(http, liaison.email)
    sent = await http.post(
        "/projects/DSC/attachments",
        data={"subject": f"TASK:{task.id}"},
        files={"file": ("a.txt", b"notes", "text/plain")},
    )
    assert sent.status_code == 403
    assert await Attachment.all().count() == 0


async def test_exports_carry_each_files_link(http):
    project, pm, liaison, viewer, task = await team()
    risk = await register.raise_risk(
        f.actor(pm),
        project_id=project.id,
        data=RiskInput(title="供应商延期", probability=2, impact=2),
    )
    await log_in(http, liaison.email)
    token = await csrf(http)
    for subject in (f"TASK:{task.id}", f"RISK:{risk.id}"):
        await http.post(
            "/projects/DSC/attachments",
            data={"csrf_token": token, "subject": subject},
            files={"file": ("验收记录.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n", "x")},
        )
    task_file, risk_file = await Attachment.all().order_by("id")
    for url, file in (
        ("/projects/DSC/plan.xlsx", task_file),
        ("/projects/DSC/risks.xlsx", risk_file),
    ):
        book = load_workbook(io.BytesIO((await http.get(url)).content))
        cells = [str(c.value or "") for row in book.active.iter_rows() for c in row]
        assert "附件" in cells
        link = f"验收记录.pdf: http://127.0.0.1:8000/projects/DSC/attachments/{file.id}/"
        assert any(c.startswith(link) for c in cells), url
