"""The PM brings a plan edited in Excel on a desktop screen: the preview's counts and the
list of what will be left unset read at 1280 px, and the import lands in the empty plan."""

from __future__ import annotations

from server.demo import load_demo
from server.org.models import User
from server.planning import exports
from server.planning.models import Task
from server.planning.queries import plan_view
from server.projects.models import Project
from tests import factories as f
from tests.browser.test_phone import ARTIFACTS, no_sideways_scroll, phone, sign_in_at  # noqa: F401

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_the_pm_previews_and_imports_a_wbs_workbook_at_1280(live_server, phone):  # noqa: F811
    await load_demo()
    pm = await User.get(email="wangfang@example.com")
    source = await Project.get(code="X1-LAUNCH")
    workbook = exports.plan_xlsx(await plan_view(source), "zh-CN")
    target = await f.project(pm, code="X2-LAUNCH", name="X2 新品上市")
    page = phone
    await page.set_viewport_size({"width": 1280, "height": 900})
    await sign_in_at(page, f"{live_server}/projects/X2-LAUNCH/plan", pm.email)
    await page.locator("#import-file").set_input_files(
        {"name": "X1-LAUNCH-wbs.xlsx", "mimeType": XLSX, "buffer": workbook}
    )
    await page.locator("#import button").click()
    await page.wait_for_url("**/plan/import")
    tasks = await Task.filter(project_id=source.id).count()
    counts = page.locator(".import-counts dd")
    assert await counts.first.inner_text() == str(tasks)
    # The owners of X1 are not on X2's team: each such task is listed, none is guessed.
    unset = page.locator("#import-problems tbody tr")
    assert await unset.count() > 0
    assert "项目团队中没有" in await unset.first.inner_text()
    assert await page.locator("#import-errors").count() == 0
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "plan-import-preview-1280.png"), full_page=False)

    await page.get_by_role("button", name=f"导入 {tasks} 个任务").click()
    await page.wait_for_url("**/plan/import/confirm")
    await page.locator("h1", has_text="计划已导入").wait_for()
    assert await Task.filter(project_id=target.id).count() == tasks
    await page.screenshot(path=str(ARTIFACTS / "plan-imported-1280.png"), full_page=False)
