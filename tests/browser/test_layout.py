"""Layouts that broke on real screens: the header's tap targets, the meetings list at 1280 and
375 px, the signature list in the charter's side column, numbers that must not wrap."""

from __future__ import annotations

from playwright.async_api import expect

from server.demo import load_demo
from server.org.models import User
from server.projects.models import Project, ProjectMember, ProjectStatus, Role
from server.signoffs import queries as signoff_queries
from server.signoffs import service as signoffs
from server.signoffs.models import DocumentKind, DocumentVersion
from tests import factories as f
from tests.browser.test_phone import ARTIFACTS, no_sideways_scroll, phone, sign_in_at  # noqa: F401

# How many lines an element's text takes (one rectangle per line box).
LINES = """el => { const r = document.createRange(); r.selectNodeContents(el);
  return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size }"""


async def lines(locator) -> int:
    return await locator.evaluate(LINES)


async def test_header_targets_are_thumb_sized_on_a_phone(live_server, phone):  # noqa: F811
    await load_demo()
    page = phone
    await sign_in_at(page, f"{live_server}/my/tasks", "wangfang@example.com")
    for target in await page.locator(".nav a, .topbar button.link").all():
        box = await target.bounding_box()
        assert box["height"] >= 44, await target.inner_text()
    for tab in await page.locator(".tabs a").all():
        assert (await tab.bounding_box())["height"] >= 44


async def test_the_meetings_list_reads_well_at_1280_and_375(live_server, phone):  # noqa: F811
    await load_demo()
    page = phone
    await page.set_viewport_size({"width": 1280, "height": 900})
    await sign_in_at(page, f"{live_server}/projects/X1-LAUNCH/meetings", "wangfang@example.com")
    headers = page.locator("table.meetings thead th")
    assert await headers.count() == 4
    table = await page.locator("table.meetings").bounding_box()
    row_width = sum([(await h.bounding_box())["width"] for h in await headers.all()])
    assert row_width >= table["width"] - 2  # the header spans the table, not squashed left
    status = page.locator("table.meetings tbody tr td:nth-child(3)").first
    assert await lines(status) == 1  # "已安排" on one line
    await page.screenshot(path=str(ARTIFACTS / "meetings-1280.png"), full_page=False)

    await page.set_viewport_size({"width": 375, "height": 812})
    await page.reload()
    assert await no_sideways_scroll(page)
    when = page.locator("table.meetings tbody tr td:first-child").first
    assert await lines(when) <= 2  # the label column, then the time
    await page.screenshot(path=str(ARTIFACTS / "meetings-375.png"), full_page=False)


async def test_signatures_and_variances_do_not_wrap_one_character_per_line(live_server, phone):  # noqa: F811
    await load_demo()
    project = await Project.get(code="X1-LAUNCH")
    pm = await User.get(email="wangfang@example.com")
    document = await signoff_queries.open_document(
        f.actor(pm), project_id=project.id, kind=DocumentKind.CHARTER
    )
    await signoffs.request_signatures(f.actor(pm), document_id=document.id)
    head = (
        await ProjectMember.filter(project_id=project.id, role=Role.DEPARTMENT_HEAD)
        .select_related("user")
        .first()
    )
    version = await DocumentVersion.get(document_id=document.id, number=document.current_number)
    await signoffs.sign_document(
        f.actor(head.user),
        signoffs.SignInput(
            document_id=document.id,
            content_hash=version.content_hash,
            decision="APPROVE",
            comment="同意，请按期推进",
            department_id=head.department_id,
        ),
    )
    page = phone
    await page.set_viewport_size({"width": 1280, "height": 900})
    await sign_in_at(page, f"{live_server}/projects/X1-LAUNCH/charter", "wangfang@example.com")
    assert await page.locator("table.list").count() == 0
    assert await page.locator(".signature-list li").count() == 1
    for item in await page.locator(".signature-list li p:first-child").all():
        assert await lines(item) <= 2
    await page.goto(f"{live_server}/projects/X1-LAUNCH/tracking")
    for cell in await page.locator("td.number").all():
        assert await lines(cell) == 1, await cell.inner_text()


async def test_a_liaison_chooses_how_to_be_told_on_a_phone(live_server, phone):  # noqa: F811
    await load_demo()
    page = phone
    await sign_in_at(page, f"{live_server}/account", "zhoumin@example.com")
    form = page.locator("#notices form")
    meetings_by_mail = form.locator('input[name="email"][value="MEETINGS"]')
    assert (await meetings_by_mail.locator("xpath=..").bounding_box())["height"] >= 44
    assert await form.locator('input[name="email"][value="ESCALATIONS"]').is_disabled()
    await meetings_by_mail.uncheck()
    await form.locator('input[name="digest_mode"]').check()
    await form.locator("#quiet-from").select_option("22")
    await form.locator("#quiet-until").select_option("7")
    await form.locator("button.primary").click()
    await page.locator("#notices [role=status]").wait_for()
    zhou = await User.get(email="zhoumin@example.com")
    assert zhou.email_off == ["MEETINGS"] and zhou.digest_mode and zhou.quiet_until == 7
    assert await no_sideways_scroll(page)
    await page.locator("#notices").screenshot(path=str(ARTIFACTS / "notice-settings-375.png"))


async def test_a_head_accepts_and_a_liaison_files_a_retrospective_on_a_phone(live_server, phone):  # noqa: F811
    from server.closing import acceptance as closing
    from server.closing.models import Acceptance, AcceptanceStatus, Retrospective
    from server.planning.models import Task, TaskStatus

    await load_demo()
    project = await Project.get(code="X1-LAUNCH")
    await Project.filter(id=project.id).update(status=ProjectStatus.CLOSING)
    task = await Task.filter(project_id=project.id, deliverable__not="").order_by("id").first()
    await Task.filter(id=task.id).update(status=TaskStatus.DONE, percent_complete=100)
    pm = await User.get(email="wangfang@example.com")
    handed = await closing.submit_for_acceptance(f.actor(pm), closing.Handover(task.id))

    page = phone
    await sign_in_at(page, f"{live_server}/projects/X1-LAUNCH/acceptance", "lina@example.com")
    card = page.locator(f"#acceptance-{handed.id}")
    accept = card.locator("button", has_text="接受")
    assert (await accept.bounding_box())["height"] >= 44
    await card.locator("textarea[name=comment]").fill("样品齐全，同意验收")
    await accept.click()
    await page.wait_for_url("**/acceptance")
    assert (await Acceptance.get(id=handed.id)).status == AcceptanceStatus.ACCEPTED
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "acceptance-375.png"), full_page=True)

    await sign_in_at(page, f"{live_server}/projects/X1-LAUNCH/retrospective", "sunhao@example.com")
    form = page.locator("form", has=page.locator("textarea[name=lessons]")).first
    await form.locator("textarea[name=lessons]").fill("模具要提前三周下单")
    await form.locator("input[name=tags]").fill("模具，供应商")
    await form.locator("button.primary").click()
    await page.locator(".lesson", has_text="模具要提前三周下单").wait_for()
    assert (await Retrospective.get()).tags == ["模具", "供应商"]
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "retrospective-375.png"), full_page=True)


async def test_a_head_reads_and_signs_the_closing_report_on_a_phone(live_server, phone):  # noqa: F811
    from server.closing import report as closing_report
    from tests.server.test_closing_report import closing_project

    s = await closing_project()
    await Project.filter(id=s.project.id).update(status=ProjectStatus.CLOSING)
    report = await closing_report.draft_closing_report(f.actor(s.pm), project_id=s.project.id)
    await signoffs.request_signatures(f.actor(s.pm), document_id=report.id)
    page = phone
    url = f"{live_server}/projects/{s.project.code}/closing-report"
    await page.context.clear_cookies()
    await page.goto(url)
    await page.fill("#email", s.heads["研发"].email)
    await page.fill("#password", f.PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url(url)
    assert await no_sideways_scroll(page)
    assert await page.locator("#spi-chart svg").is_visible()
    await page.screenshot(path=str(ARTIFACTS / "closing-report-375.png"), full_page=True)
    await page.get_by_role("link", name="阅读并签署").click()
    await page.wait_for_url(url + "/sign")
    assert await no_sideways_scroll(page)
    await page.get_by_role("button", name="同意").click()
    await page.wait_for_url(url)
    assert "研发部" not in await page.locator("#signatures .warning").first.inner_text()


async def test_a_head_decides_a_hand_over_in_the_acceptance_meeting_on_a_phone(live_server, phone):  # noqa: F811
    from server.closing import acceptance as closing
    from server.closing.models import Acceptance, AcceptanceStatus
    from server.meetings import running as meeting_running
    from server.planning.models import Task, TaskStatus
    from tests.server.test_closing_meetings import meeting_of

    await load_demo()
    project = await Project.get(code="X1-LAUNCH")
    task = await Task.filter(project_id=project.id, deliverable__not="").order_by("id").first()
    await Task.filter(id=task.id).update(status=TaskStatus.DONE, percent_complete=100)
    pm = await User.get(email="wangfang@example.com")
    handed = await closing.submit_for_acceptance(f.actor(pm), closing.Handover(task.id))
    meeting_id = await meeting_of(pm, project, "ACCEPTANCE", "样机验收会")
    await meeting_running.start_meeting(f.actor(pm), meeting_id=meeting_id)

    page = phone
    url = f"{live_server}/projects/X1-LAUNCH/meetings/{meeting_id}"
    await sign_in_at(page, url, "lina@example.com")
    card = page.locator(f"#meeting-acceptance-{handed.id}")
    reject = card.locator("button", has_text="驳回")
    assert (await reject.bounding_box())["height"] >= 44
    await reject.click()  # no reason given: refused in place, on the comment field
    error = page.locator("#acceptance-review #comment-error")
    await error.wait_for()
    await expect(error).to_be_in_viewport()
    assert (await Acceptance.get(id=handed.id)).status == AcceptanceStatus.SUBMITTED

    await card.locator("textarea[name=comment]").fill("样品齐全，同意验收")
    await card.locator("button", has_text="接受").click()
    await page.locator("#acceptance-review .empty").wait_for()
    # The live part (server-sent) shows the decision to everyone in the meeting.
    await page.locator("#live .decided-acceptances", has_text="样品齐全").wait_for()
    row = await Acceptance.get(id=handed.id)
    assert row.status == AcceptanceStatus.ACCEPTED and row.meeting_id == meeting_id
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "acceptance-meeting-375.png"), full_page=True)


async def test_a_head_opens_a_change_request_from_the_mail_and_approves(live_server, phone):  # noqa: F811
    import re

    from server.changes import approvals as change_approvals
    from server.changes.models import ChangeRequest, ChangeStatus
    from server.notices.models import Notice
    from tests.server.test_changes import draft, plan

    p = await plan()
    longer = await draft(p, [{"op": "edit_task", "task_id": p.tasks["B"].id, "duration_days": 5}])
    await change_approvals.submit_change_request(
        f.actor(p.pm), request_id=longer.id, version=longer.version
    )
    for who in (p.pm, p.heads["市场"]):
        current = await ChangeRequest.get(id=longer.id)
        await change_approvals.decide_change_request(
            f.actor(who),
            request_id=longer.id,
            data=change_approvals.DecisionInput("APPROVE", current.content_hash),
        )
    mail = await Notice.get(recipient_id=p.heads["生产"].id, dedup_key__startswith="change:")
    path = re.search(r"https?://[^/\s]+(/projects/\S+)", mail.body).group(1)

    page = phone
    url = f"{live_server}{path}"
    await page.context.clear_cookies()
    await page.goto(url)
    await page.fill("#email", p.heads["生产"].email)
    await page.fill("#password", f.PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url(url)
    impact = page.locator("#impact")
    assert "+2 个工作日" in await impact.inner_text()
    assert "试产" in await impact.inner_text()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "change-request-375.png"), full_page=True)
    approve = page.get_by_role("button", name="同意")
    assert (await approve.bounding_box())["height"] >= 44
    await approve.click()
    await page.wait_for_url(url)
    assert "已批准并执行" in await page.locator(".change-head").inner_text()
    assert (await ChangeRequest.get(id=longer.id)).status == ChangeStatus.APPLIED
