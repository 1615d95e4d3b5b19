"""Which group chats hear about a project: chat robots, kept by administrators and PMs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server.auth import Action, Actor, authorize
from server.errors import NotFound
from server.notices.models import ChatRobot, RobotKind
from server.org.models import Department, User
from server.projects.checks import check_takes_part
from server.projects.models import Project, ProjectMember
from server.projects.service import get_project
from server.validation import Checks


@dataclass
class RobotInput:
    kind: str
    name: str
    url: str
    secret: str = ""
    project_code: str = ""
    department_id: int | None = None


async def list_robots(actor: Actor, *, project_id: int | None = None) -> list[ChatRobot]:
    """Every robot for administrators; a project's own robots for its PM."""
    query = ChatRobot.all()
    if project_id is None:
        await authorize(actor, Action.ADMINISTER)
    else:
        await authorize(actor, Action.EDIT_PROJECT, await _visible_project(actor, project_id))
        query = ChatRobot.filter(project_id=project_id, active=True)
    return await query.select_related("project", "department").order_by("id")


async def _visible_project(actor: Actor, project_id: int) -> Project:
    return await get_project(actor, project_id=project_id)


async def add_robot(actor: Actor, data: RobotInput) -> ChatRobot:
    """A group chat's robot for a project, a department, or a department within a project.

    Administrators add any; a project's PM adds robots for their own project only.
    """
    if not actor.is_admin:
        if not data.project_code.strip():
            await authorize(actor, Action.ADMINISTER)
        visible = await Project.get_or_none(code=data.project_code.strip().upper())
        if visible is None:
            raise NotFound("No such project.", field="projectCode")
        await authorize(actor, Action.EDIT_PROJECT, await _visible_project(actor, visible.id))
    checks = Checks()
    try:
        kind = RobotKind(data.kind)
    except ValueError:
        checks.fail("kind", "Choose one of: %(choices)s.", choices=", ".join(RobotKind))
        kind = RobotKind.GENERIC
    name = checks.text("name", data.name, max_length=100)
    url = (data.url or "").strip()
    parsed = urlparse(url)
    local = kind == RobotKind.LOCAL  # kept in the mailbox page: no address to post to
    if not local and (parsed.scheme not in ("http", "https") or not parsed.hostname):
        checks.fail("url", "Enter the robot's webhook address (http:// or https://).")
    project = None
    if data.project_code.strip():
        project = await Project.get_or_none(code=data.project_code.strip().upper())
        if project is None:
            checks.fail("projectCode", "No such project.")
    department = None
    if data.department_id is not None:
        department = await Department.get_or_none(id=data.department_id)
        if department is None:
            checks.fail("departmentId", "No such department.")
        elif project is not None and not actor.is_admin:
            await check_takes_part(checks, project.id, department.id, "departmentId")
    if project is None and department is None and not checks.errors:
        checks.fail("projectCode", "Name a project, a department, or both.")
    checks.done()
    async with in_transaction():
        robot = await ChatRobot.create(
            kind=kind,
            name=name,
            url=url[:1000],
            secret=(data.secret or "").strip()[:255],
            project=project,
            department=department,
        )
    return robot


async def remove_robot(actor: Actor, *, robot_id: int) -> None:
    robot = await ChatRobot.get_or_none(id=robot_id, active=True)
    if robot is None:
        raise NotFound("No such chat robot.", field="robotId")
    if robot.project_id is None:
        await authorize(actor, Action.ADMINISTER)  # a company-wide robot is the admins'
    elif not actor.is_admin:
        try:
            project = await _visible_project(actor, robot.project_id)
        except NotFound:
            raise NotFound("No such chat robot.", field="robotId") from None
        await authorize(actor, Action.EDIT_PROJECT, project)
    await ChatRobot.filter(id=robot_id).update(active=False)


async def unreachable_people(actor: Actor) -> list[User]:
    """Active people with no email whom no group chat can @ either: no mobile, or no robot of
    any project they are in nor of their department. Notices to them go nowhere."""
    await authorize(actor, Action.ADMINISTER)
    without_mail = await User.filter(is_active=True).filter(Q(email__isnull=True) | Q(email=""))
    if not without_mail:
        return []
    ids = [u.id for u in without_mail]
    memberships = await ProjectMember.filter(user_id__in=ids, left_at__isnull=True).values_list(
        "user_id", "project_id", "department_id"
    )
    robots = await ChatRobot.filter(active=True).values_list("project_id", "department_id")
    project_robots = {p for p, _ in robots if p is not None}
    department_robots = {d for p, d in robots if p is None and d is not None}
    reached: set[int] = set()
    for user_id, project_id, department_id in memberships:
        if project_id in project_robots or department_id in department_robots:
            reached.add(int(user_id))
    for user in without_mail:
        if user.department_id in department_robots:
            reached.add(user.id)
    return [u for u in without_mail if not u.mobile or u.id not in reached]
