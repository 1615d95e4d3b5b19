"""The pages in a real Chromium at phone width (375 px), driven by Playwright."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import expect

from server.demo import DEMO_PASSWORD, load_demo
from server.org.models import User
from server.projects.models import ProjectMember, Role

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_PRESENT = CHROMIUM.exists()
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARTIFACTS.mkdir(exist_ok=True)
PHONE = {"width": 375, "height": 812}


@pytest.fixture
async def phone(live_server):
    if not CHROMIUM_PRESENT:
        pytest.skip("Chromium not found at /usr/bin/chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
        page = await context.new_page()
        yield page
        await browser.close()


async def no_sideways_scroll(page) -> bool:
    return await page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


async def until_a_live_stream_opens(page, seconds: float = 10.0) -> None:
    """Polled from here: Playwright's wait_for_function re-checks its predicate with eval,
    which the pages' Content-Security-Policy (no 'unsafe-eval') refuses whenever the first
    check finds no stream open yet."""
    from playwright.async_api import Error as PlaywrightError

    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        try:
            if await page.evaluate("window.liveStreamsOpen > 0"):
                return
        except PlaywrightError:  # the page is being reloaded
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"no live stream opened within {seconds} s")


async def test_a_pm_adds_a_liaison_in_place_on_a_phone(live_server, phone):
    await load_demo()
    page = phone
    await page.goto(f"{live_server}/projects/X1-LAUNCH")
    assert "/login" in page.url
    await page.fill("#email", "wangfang@example.com")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url(f"{live_server}/projects/X1-LAUNCH")
    assert await page.locator("h1").first.inner_text() == "智能保温杯 X1 新品上市 筹备中"
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "overview-375.png"), full_page=True)

    await page.click("text=团队名录")
    await page.wait_for_url("**/team")
    # Replace the production liaison: remove 吴刚 in place, then add 刘强's colleague.
    production_liaison = await ProjectMember.get(
        role=Role.LIAISON, user__name="吴刚"
    ).select_related("user")
    await page.evaluate("window.__notReloaded = true")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.click(f"#member-{production_liaison.id} button.danger")  # remove, not hand over
    await page.wait_for_selector(f"#member-{production_liaison.id}", state="detached")

    newcomer = await User.get(name="刘强")
    await page.select_option("#user_id", str(newcomer.id))
    await page.select_option("#role", "LIAISON")
    await page.select_option("#department_id", str(newcomer.department_id))
    await page.fill("#responsibilities", "对接试产与量产任务")
    await page.click("form.add-member button.primary")
    row = page.locator("#team tr", has_text="对接试产与量产任务")
    await row.wait_for()
    assert "部门接口人" in await row.inner_text()
    assert await page.evaluate("window.__notReloaded === true")
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "team-375.png"), full_page=True)

    # A second liaison for the same department is refused on the role field, in place.
    second = await User.get(name="吴刚")
    await page.select_option("#user_id", str(second.id))
    await page.select_option("#role", "LIAISON")
    await page.select_option("#department_id", str(newcomer.department_id))
    await page.click("form.add-member button.primary")
    error = page.locator("#role-error")
    await error.wait_for()
    assert "已有接口人（刘强）" in await error.inner_text()


async def test_a_head_signs_the_charter_on_a_phone(live_server, phone):
    from server.auth import Actor
    from server.signoffs import queries as signoff_queries
    from server.signoffs import service as signoffs
    from server.signoffs.models import DocumentKind, DocumentStatus, SignableDocument

    await load_demo()
    pm = await User.get(email="wangfang@example.com")
    project_id = (await ProjectMember.get(user_id=pm.id, role=Role.MANAGER)).project_id
    charter = await signoff_queries.open_document(
        Actor.for_user(pm), project_id=project_id, kind=DocumentKind.CHARTER
    )
    await signoffs.request_signatures(Actor.for_user(pm), document_id=charter.id)

    page = phone
    await page.goto(f"{live_server}/projects/X1-LAUNCH/charter/sign")
    await page.fill("#email", "zhangwei@example.com")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url("**/charter/sign")
    # One screen: the content, its hash, the comment and both decisions.
    assert await page.locator(".doc-status code").inner_text() != ""
    assert await page.locator("#sign-comment").is_visible()
    approve = page.locator("button[value=APPROVE]")
    reject = page.locator("button[value=REJECT]")
    assert await approve.is_visible() and await reject.is_visible()
    assert "研发部" in await page.locator(".sign-form").inner_text()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "charter-sign-375.png"), full_page=True)

    # Rejecting without a reason is refused on the comment field.
    await reject.click()
    await page.locator("#comment-error").wait_for()
    await page.fill("#sign-comment", "同意立项，研发资源按计划投入")
    await page.locator("button[value=APPROVE]").click()
    await page.wait_for_url("**/charter")
    assert "同意立项，研发资源按计划投入" in await page.locator("#signatures").inner_text()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "charter-375.png"), full_page=True)
    document = await SignableDocument.get(id=charter.id)
    assert document.status == DocumentStatus.IN_SIGNING


async def test_on_a_phone_the_plan_is_a_list_of_labelled_bars_to_tap(live_server, phone):
    from server.planning.models import Task

    await load_demo()
    hardware = await Task.get(name="硬件开发")
    page = phone
    await sign_in_at(page, f"{live_server}/projects/X1-LAUNCH/plan", "wangfang@example.com")
    assert not await page.locator(".gantt-frame").is_visible()
    row = page.locator(".gantt-phone-row", has_text="硬件开发")
    assert await row.is_visible()
    box = await row.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300
    assert await row.locator("svg.gantt-phone-bar rect").count() >= 2
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "plan-phone-375.png"), full_page=True)
    await row.click()
    await page.wait_for_url(f"**/projects/X1-LAUNCH/tasks/{hardware.id}")
    assert "硬件开发" in await page.locator("h2").first.inner_text()


async def test_tapping_a_gantt_bar_opens_the_task_form_in_place(live_server, phone):
    from server.planning.models import Task

    await load_demo()
    hardware = await Task.get(name="硬件开发")
    page = phone
    # The chart itself is for wider screens (phones get the list above).
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(f"{live_server}/projects/X1-LAUNCH/plan")
    await page.fill("#email", "wangfang@example.com")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url("**/plan")
    await page.evaluate("window.__notReloaded = true")
    await page.locator(f"#bar-{hardware.id}").click()
    form = page.locator(f"#task-{hardware.id}.editing")
    await form.wait_for()
    assert await page.evaluate("window.__notReloaded === true")
    assert "添加前置任务" in await form.inner_text()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "plan-task-form-1280.png"), full_page=False)

    # Typing in the predecessor picker's search narrows it to the tasks that match, here
    # the plan's first; that one is then added as a predecessor without leaving the page.
    tasks = await Task.filter(project_id=hardware.project_id)
    parents = {t.parent_id for t in tasks}
    first = min((t for t in tasks if t.id not in parents), key=lambda t: (t.wbs_key, t.id))
    picker = form.locator(f"#link-pred-{hardware.id}")
    assert await picker.locator("option").count() > 1
    await form.locator(f"#link-find-{hardware.id}").fill(first.name)
    await expect(picker.locator("option")).to_have_count(1)
    assert await picker.locator("option").inner_text() == f"{first.wbs_code} {first.name}"
    await form.locator(".dependencies").screenshot(
        path=str(ARTIFACTS / "plan-task-form-found-1280.png")
    )
    await picker.select_option(str(first.id))
    await form.locator("button", has_text="添加前置任务").click()
    links = page.locator(f"#dependencies-{hardware.id} ul li")
    await links.filter(has_text=f"{first.wbs_code} {first.name}").wait_for()
    assert await page.evaluate("window.__notReloaded === true")

    # The same form as a page of its own on a phone, after a search made without scripts.
    await page.set_viewport_size({"width": 375, "height": 800})
    await page.goto(
        f"{live_server}/projects/X1-LAUNCH/plan/tasks/{hardware.id}/edit?find={first.name}"
    )
    found = page.locator(f"#link-pred-{hardware.id} option")
    assert await found.all_inner_texts() == [f"{first.wbs_code} {first.name}"]
    assert await no_sideways_scroll(page)
    await page.locator(f"#find-pred-{hardware.id}").scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / "plan-task-form-find-375.png"), full_page=False)


async def test_a_liaison_updates_progress_on_a_phone(live_server, phone):
    from server.planning.models import Task

    await load_demo()
    page = phone
    await page.goto(f"{live_server}/my/tasks")
    await page.fill("#email", "sunhao@example.com")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url("**/my/tasks")
    first = page.locator(".my-task").first
    task_id = int((await first.get_attribute("id")).removeprefix("my-task-"))
    await page.evaluate("window.__notReloaded = true")
    await first.locator("button.step", has_text="50%").click()
    await page.locator(f"#my-task-{task_id} button.step.chosen", has_text="50%").wait_for()
    assert await page.evaluate("window.__notReloaded === true")
    assert (await Task.get(id=task_id)).percent_complete == 50
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "my-tasks-375.png"), full_page=False)


async def test_a_liaison_explains_a_late_task_on_the_tracking_page(live_server, phone):
    from tests import factories as f
    from tests.views.test_tracking_pages import late_plan

    project, pm, liaison, viewer, late = await late_plan()
    page = phone
    await page.goto(f"{live_server}/projects/{project.code}/tracking?week=2026-W46")
    await page.fill("#email", liaison.email)
    await page.fill("#password", f.PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url("**/tracking*")
    await page.evaluate("window.__notReloaded = true")
    row = page.locator(f"#track-{late.id}")
    await row.locator("input[name=cause]").fill("模具延期")
    await row.locator("input[name=action]").fill("换供应商，周五前交样")
    await row.locator("button").click()
    await page.locator(f"#track-{late.id} input[value='模具延期']").wait_for()
    assert await page.evaluate("window.__notReloaded === true")
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "tracking-375.png"), full_page=True)
    await page.goto(f"{live_server}/projects/{project.code}/problems")
    await page.fill("#np-title", "模具供应商延期")
    await page.click("form.form button.primary")
    await page.locator(".problem", has_text="模具供应商延期").wait_for()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "problems-375.png"), full_page=True)


async def test_a_liaison_reports_and_follows_the_live_meeting_on_a_phone(live_server, phone):
    from server.auth import Actor
    from server.meetings import running as meeting_running
    from server.meetings.models import Meeting

    await load_demo()
    meeting = await Meeting.filter(title="X1 项目周例会").order_by("scheduled_start").first()
    assert meeting is not None
    page = phone
    # Each page counts its open live streams, so the test waits for the stream, not a clock.
    await page.add_init_script(
        "window.liveStreamsOpen = 0;"
        "document.addEventListener('htmx:sseOpen', () => { window.liveStreamsOpen += 1; });"
    )
    url = f"{live_server}/projects/X1-LAUNCH/meetings/{meeting.id}"
    await page.goto(url)
    await page.fill("#email", "zhoumin@example.com")  # 周敏, marketing's liaison
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url(url)
    assert "研发部" in await page.locator("#live").inner_text()  # R&D has reported
    await page.fill("#rp-done", "完成上市方案初稿")
    await page.fill("#rp-next", "确定首发渠道")
    await page.select_option("select[name=need_department] >> nth=0", label="研发部")
    await page.fill("input[name=need_text] >> nth=0", "提供样机照片")
    await page.click("#report-form button.primary")
    await page.wait_for_url(url)
    assert "提供样机照片" in (await page.locator("#live").text_content() or "")
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "meeting-report-375.png"), full_page=True)

    # The PM starts the meeting elsewhere: this page reloads into the live view by itself,
    # and a decision recorded elsewhere appears within a second.
    pm = Actor.for_user(await User.get(email="wangfang@example.com"))
    await until_a_live_stream_opens(page)
    await meeting_running.start_meeting(pm, meeting_id=meeting.id)
    await page.locator(".live-status .timer").wait_for(timeout=5000)
    # A liaison attends: the chair records, so no recording form is offered here.
    assert await page.locator("#decision-form").count() == 0
    await until_a_live_stream_opens(page)  # the reloaded page's stream
    await meeting_running.record_decision(pm, meeting_id=meeting.id, text="首发渠道定为线上旗舰店")
    await page.locator("#live", has_text="首发渠道定为线上旗舰店").wait_for(timeout=3000)
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "meeting-live-375.png"), full_page=True)


async def test_a_liaison_changes_the_password_and_sees_a_tampered_charter_flagged(
    live_server, phone
):
    from tortoise import connections

    from server.auth import Actor
    from server.signoffs import queries as signoff_queries
    from server.signoffs.models import DocumentKind, DocumentVersion

    await load_demo()
    pm = await User.get(email="wangfang@example.com")
    project_id = (await ProjectMember.get(user_id=pm.id, role=Role.MANAGER)).project_id
    charter = await signoff_queries.open_document(
        Actor.for_user(pm), project_id=project_id, kind=DocumentKind.CHARTER
    )
    page = phone
    await page.goto(f"{live_server}/account")
    await page.fill("#email", "sunhao@example.com")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url("**/account")
    await page.fill("#current-password", "not-my-password")
    await page.fill("#new-password", "a-new-password-1")
    await page.click("form[action='/account/password'] button")
    error = page.locator("#currentPassword-error")
    await error.wait_for()
    assert await error.is_visible() and "当前密码不正确" in await error.inner_text()
    await page.fill("#current-password", DEMO_PASSWORD)
    await page.fill("#new-password", "a-new-password-1")
    await page.click("form[action='/account/password'] button")
    await page.locator("text=密码已修改").wait_for()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "account-375.png"), full_page=True)

    # Someone edits the charter's stored text behind the application's back.
    version = await DocumentVersion.get(document_id=charter.id, number=1)
    body = dict(version.body) | {"background": "改过的背景"}
    import json

    placeholder = "$1" if connections.get("default").capabilities.dialect == "postgres" else "?"
    second = "$2" if placeholder == "$1" else "?"
    await connections.get("default").execute_query(
        f"UPDATE document_version SET body = {placeholder} WHERE id = {second}",  # noqa: S608
        [json.dumps(body, ensure_ascii=False), version.id],
    )
    await page.goto(f"{live_server}/projects/X1-LAUNCH/charter")
    banner = page.locator(".integrity-failed")
    await banner.wait_for()
    assert "完整性校验失败" in await banner.inner_text()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "charter-integrity-375.png"), full_page=True)


async def test_the_pm_moves_the_status_date_and_tries_to_approve_on_a_phone(live_server, phone):
    from server.planning.models import Baseline
    from server.projects.models import Project

    await load_demo()
    page = phone
    await page.goto(f"{live_server}/projects/X1-LAUNCH/plan#status")
    await page.fill("#email", "wangfang@example.com")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url("**/plan*")
    await page.fill("#status-date", "2026-12-04")
    await page.click("#status button.primary")
    await page.wait_for_load_state()
    assert "2026年12月4日" in await page.locator("#status").inner_text()
    project = await Project.get(code="X1-LAUNCH")
    assert project.status_date is not None and project.status_date.isoformat() == "2026-12-04"
    baselines_before = await Baseline.filter(project_id=project.id).count()
    await page.click("#approve button.primary")
    await page.wait_for_load_state()
    approve = page.locator("#approve")
    text = await approve.inner_text()
    if await Baseline.filter(project_id=project.id).count() == baselines_before:
        # Refused: the reason (a department without a liaison, a task without an owner).
        assert await page.locator("#approve .form-error").is_visible()
        assert "接口人" in text or "负责人" in text
    else:
        assert "baseline=" in page.url
    assert await no_sideways_scroll(page)
    await page.locator("#status").screenshot(path=str(ARTIFACTS / "plan-status-375.png"))


async def test_a_liaison_raises_a_risk_and_the_chair_reviews_risks_in_the_meeting(
    live_server, phone
):
    from server.auth import Actor
    from server.meetings import running as meeting_running
    from server.meetings.models import Meeting
    from server.risks import register as risk_register
    from server.risks.models import Risk

    await load_demo()
    page = phone
    url = f"{live_server}/projects/X1-LAUNCH/risks"
    await page.goto(url)
    await page.fill("#email", "sunhao@example.com")  # 孙浩, R&D's liaison
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url(url)
    assert await page.locator("svg.heat-map g.heat-cell").count() == 25
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "risks-375.png"), full_page=True)

    await page.fill("#nr-title", "样机跌落测试不通过")
    await page.select_option("#nr-p", "4")
    await page.select_option("#nr-i", "4")
    await page.click("#raise-risk button.primary")
    await page.wait_for_url(f"{url}/*")
    assert await page.locator("h2").first.inner_text() == "样机跌落测试不通过"
    assert "高" in await page.locator("#risk .badge").first.inner_text()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "risk-375.png"), full_page=True)

    # Tapping a heat-map cell lists the risks in it.
    await page.goto(url)
    await page.locator('svg.heat-map a:has(g[data-probability="4"][data-impact="4"])').click()
    await page.wait_for_url(f"{url}?p=4&i=4")
    assert await page.locator("ul.risks > li.risk").count() == 1

    # The chair reviews the high risks in the weekly meeting; a risk changed meanwhile by
    # someone else is refused in place, with the current version named.
    meeting = await Meeting.filter(title="X1 项目周例会").order_by("scheduled_start").first()
    assert meeting is not None
    pm = Actor.for_user(await User.get(email="wangfang@example.com"))
    await meeting_running.start_meeting(pm, meeting_id=meeting.id)
    await page.context.clear_cookies()
    meeting_url = f"{live_server}/projects/X1-LAUNCH/meetings/{meeting.id}"
    await page.goto(meeting_url)
    await page.fill("#email", "wangfang@example.com")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url(meeting_url)
    risk = await Risk.get(title="样机跌落测试不通过")
    row = page.locator(f"#review-risk-{risk.id}")
    await risk_register.update_risk(
        pm, risk_id=risk.id, version=risk.version, data=risk_register.RiskInput(measures="加固外壳")
    )
    await row.locator("select[name=probability]").select_option("2")
    await row.locator("button").click()
    await row.locator(".form-error", has_text="第 2 版").wait_for(timeout=5000)
    row = page.locator(f"#review-risk-{risk.id}")
    await row.locator("select[name=probability]").select_option("2")
    await row.locator("button").click()
    await row.locator("[role=status]", has_text="已记录复核").wait_for(timeout=5000)
    assert (await Risk.get(id=risk.id)).level.value == "MEDIUM"
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "meeting-risks-375.png"), full_page=True)


async def sign_in_at(page, url: str, email: str) -> None:
    await page.context.clear_cookies()
    await page.goto(url)
    await page.fill("#email", email)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url(url)


async def test_step_3_on_a_phone_from_requirements_to_the_confirmation(live_server, phone):
    from server.requirements.models import ResourceRequest

    await load_demo()
    page = phone
    requirements = f"{live_server}/projects/X1-LAUNCH/requirements"
    resources = f"{live_server}/projects/X1-LAUNCH/resources"
    await sign_in_at(page, requirements, "sunhao@example.com")  # R&D's liaison
    for title in ("保温测试设备 2 台", "工程样机 10 台"):
        await page.fill("#new-title", title)
        await page.select_option("#new-priority", "MUST")
        await page.click("#file-requirement button.primary")
        await page.wait_for_url(requirements)
    assert await page.locator("li.requirement").count() == 2
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "requirements-375.png"), full_page=True)
    await page.goto(resources)
    await page.fill("#nq-desc", "结构工程师")
    await page.fill("#nq-qty", "2")
    await page.fill("#nq-unit", "人")
    await page.fill("#nq-amount", "30000")
    await page.select_option("#nq-supplier", label="生产部")
    await page.click("#file-resource button.primary")
    await page.wait_for_url(resources)
    request = await ResourceRequest.get(description="结构工程师")

    await sign_in_at(page, resources, "liuqiang@example.com")  # the supplier's head
    row = page.locator(f"#resource-{request.id}")
    await row.locator("input[name=comment]").fill("产线满负荷")
    await row.locator("button[value=DECLINE]").click()
    await page.wait_for_url(resources)

    await sign_in_at(page, requirements, "wangfang@example.com")  # the PM
    while await page.locator("form.review-form").count():
        await page.locator("form.review-form button").first.click()
        await page.wait_for_url(requirements)
    await page.goto(resources)
    row = page.locator(f"#resource-{request.id}")
    await row.locator("select[name=resolution]").select_option("MANAGEMENT")
    await row.locator("form.gap-form button").click()
    await page.wait_for_url(resources)

    decide = f"{live_server}/projects/X1-LAUNCH/resources/{request.id}/decide"
    await sign_in_at(page, decide, "huangjianguo@example.com")  # management
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "gap-decide-375.png"), full_page=True)
    await page.fill("#dg-comment", "同意外包两名")
    await page.click("#decide-form button[value=APPROVE]")
    await page.wait_for_url(resources)

    confirmation = f"{live_server}/projects/X1-LAUNCH/confirmation"
    await sign_in_at(page, confirmation, "wangfang@example.com")
    text = await page.locator("main").inner_text()
    assert "评审通过的需求" in text and "保温测试设备 2 台" in text
    assert "资源缺口及处理" in text and "同意外包两名" in text
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "confirmation-375.png"), full_page=True)


async def test_a_refused_htmx_request_says_why_where_the_user_tapped(live_server, phone):
    from server.auth import Actor
    from server.projects import service as projects
    from server.projects.models import Project

    await load_demo()
    page = phone
    team = f"{live_server}/projects/X1-LAUNCH/team"
    await sign_in_at(page, team, "sunhao@example.com")  # R&D's liaison
    # The form offers only what a liaison may give: members and viewers.
    offered = await page.locator("#role option").evaluate_all("(os) => os.map(o => o.value)")
    assert sorted(offered) == ["MEMBER", "VIEWER"]
    # Meanwhile the PM archives the project: the liaison's add is refused, and says so.
    pm = Actor.for_user(await User.get(email="wangfang@example.com"))
    project = await Project.get(code="X1-LAUNCH")
    await projects.archive_project(pm, project_id=project.id, version=project.version)
    await page.click("form.add-member button")
    alert = page.locator("form.add-member").locator("xpath=preceding-sibling::p[1]")
    await alert.wait_for(timeout=5000)
    assert "已归档" in await alert.inner_text()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "refused-in-place-375.png"), full_page=True)
