"""A liaison on a phone discusses a task: @ a colleague from the list, post in place, and
attach a photo straight from the camera button (375 px, real Chromium)."""

from __future__ import annotations

import io

from PIL import Image

from server.demo import load_demo
from server.discussion.models import Attachment, Comment
from server.notices.models import Notice
from server.org.models import User
from tests.browser.test_phone import ARTIFACTS, no_sideways_scroll, phone, sign_in_at  # noqa: F401


async def test_a_liaison_mentions_the_pm_and_attaches_a_photo_on_a_phone(live_server, phone):  # noqa: F811
    await load_demo()
    page = phone
    await sign_in_at(page, f"{live_server}/my/tasks", "sunhao@example.com")
    await page.locator(".my-task a", has_text="讨论与照片").first.click()
    await page.wait_for_url("**/tasks/*")
    await page.evaluate("window.__notReloaded = true")

    box = page.locator(".comment-form textarea")
    await box.click()
    await box.type("@王")
    choice = page.locator(".mention-list button", has_text="@王芳")
    await choice.wait_for()
    assert (await choice.bounding_box())["height"] >= 44
    await choice.click()
    await box.type("模具图纸已上传，请确认")
    assert await box.input_value() == "@王芳 模具图纸已上传，请确认"
    await page.locator(".comment-form button.primary").click()
    await page.locator(".comment .mention", has_text="@王芳").wait_for()
    assert await page.evaluate("window.__notReloaded === true")
    pm = await User.get(email="wangfang@example.com")
    assert (await Comment.get()).mentions == [pm.id]
    assert await Notice.filter(dedup_key__startswith="mention:", recipient_id=pm.id).exists()

    camera = page.locator(".attach-form label.button", has_text="拍照")
    assert (await camera.bounding_box())["height"] >= 44
    picture = io.BytesIO()
    Image.new("RGB", (1600, 1200), (180, 40, 40)).save(picture, "JPEG")
    await page.locator(".attach-form input[name=photo]").set_input_files(
        {"name": "blocker.jpg", "mimeType": "image/jpeg", "buffer": picture.getvalue()}
    )
    await page.locator(".attachments img").wait_for()
    assert (await Attachment.get()).has_preview
    width = await page.locator(".attachments img").evaluate(
        "img => img.getBoundingClientRect().width"
    )
    assert width <= 375
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(ARTIFACTS / "task-discussion-375.png"), full_page=True)
