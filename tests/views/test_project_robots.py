"""A PM manages their own project's group-chat robots; nobody else's, and no company-wide ones."""

from __future__ import annotations

import pytest

from server.errors import Forbidden, NotFound
from server.notices.models import ChatRobot
from server.projects import chat_robots
from server.projects.chat_robots import RobotInput
from server.projects.models import Role
from tests import factories as f
from tests.views.helpers import log_in, post

DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=abc"


async def test_the_pm_adds_and_removes_a_robot_of_their_project(http, db):
    rnd = await f.department("研发部")
    other = await f.department("财务部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd])
    liaison = await f.user(dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await log_in(http, pm.email)
    page = f"/projects/{project.code}/robots"
    assert (await http.get(page)).status_code == 200
    wrong = await post(
        http,
        page,
        {"kind": "DINGTALK", "name": "财务群", "url": DINGTALK, "department_id": other.id},
    )
    assert wrong.status_code == 400 and 'id="departmentId-error"' in wrong.text
    bad_url = await post(http, page, {"kind": "DINGTALK", "name": "项目群", "url": "ftp://x"})
    assert bad_url.status_code == 400 and 'id="url-error"' in bad_url.text
    assert await ChatRobot.all().count() == 0
    added = await post(
        http, page, {"kind": "DINGTALK", "name": "项目群", "url": DINGTALK, "secret": "SEC123"}
    )
    assert added.status_code == 303
    robot = await ChatRobot.get(name="项目群")
    assert robot.project_id == project.id and robot.department_id is None
    listing = await http.get(page)
    assert (
        "项目群" in listing.text
        and "SEC123" not in listing.text
        and "access_token" not in listing.text
    )
    removed = await post(http, f"{page}/{robot.id}/remove", {})
    assert removed.status_code == 303
    assert not (await ChatRobot.get(id=robot.id)).active


async def test_others_may_not_manage_a_projects_robots(http, db):
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd])
    liaison = await f.user(dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    other_pm = await f.user(name="另一位经理")
    await f.project(other_pm)
    robot = await chat_robots.add_robot(
        f.actor(pm),
        RobotInput(kind="FEISHU", name="项目群", url=DINGTALK, project_code=project.code),
    )
    with pytest.raises(Forbidden):
        await chat_robots.add_robot(
            f.actor(pm),
            RobotInput(kind="FEISHU", name="研发群", url=DINGTALK, department_id=rnd.id),
        )
    with pytest.raises(Forbidden):
        await chat_robots.remove_robot(f.actor(liaison), robot_id=robot.id)
    with pytest.raises(NotFound):
        await chat_robots.remove_robot(f.actor(other_pm), robot_id=robot.id)
    await log_in(http, liaison.email)
    assert (await http.get(f"/projects/{project.code}/robots")).status_code == 403
    refused = await post(
        http, f"/projects/{project.code}/robots", {"kind": "FEISHU", "name": "x", "url": DINGTALK}
    )
    assert refused.status_code == 403
    assert await ChatRobot.filter(active=True).count() == 1
