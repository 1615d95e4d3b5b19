"""Who approves a change request, and telling them (once per content: a new hash asks again)."""

from __future__ import annotations

from tortoise.expressions import Q

from server.changes.models import ChangeRequest
from server.db import with_related
from server.notices.models import ChatRobot
from server.notices.service import queue_chat, queue_email
from server.org.models import User
from server.projects.models import Project, ProjectMember, Role
from server.signoffs.models import SigningDelegate

PM_SLOT, MANAGEMENT_SLOT = "pm", "management"


async def people_of(project: Project, slot: str) -> list[User]:
    members = ProjectMember.filter(project_id=project.id, left_at__isnull=True)
    if slot == PM_SLOT:
        rows = await with_related(members.filter(role=Role.MANAGER), "user")
    elif slot == MANAGEMENT_SLOT:
        rows = await with_related(members.filter(role=Role.MANAGEMENT), "user")
    else:
        department = int(slot.split(":")[1])
        rows = await with_related(
            members.filter(role=Role.DEPARTMENT_HEAD, department_id=department), "user"
        )
        delegate = await with_related(
            SigningDelegate.filter(project_id=project.id, department_id=department), "delegate"
        )
        return _unique([r.user for r in rows] + [d.delegate for d in delegate])
    return _unique([r.user for r in rows])


def _unique(users: list[User]) -> list[User]:
    return list({u.id: u for u in users if u.is_active}.values())


def approval_link(project: Project, request: ChangeRequest) -> str:
    return f"/projects/{project.code}/changes/{request.number}"


async def ask_approvers(project: Project, request: ChangeRequest, slots: list[str]) -> int:
    """One mail per approver and content, and one post in each of the project's group chats
    @-mentioning them; a changed request asks everyone again."""
    queued = 0
    everyone: dict[int, User] = {}
    for slot in slots:
        for person in await people_of(project, slot):
            everyone[person.id] = person
            await queue_email(
                recipient=person,
                template="change_approval_requested",
                dedup_key=f"change:{request.id}:{request.content_hash[:16]}:{slot}:{person.id}",
                project_id=project.id,
                project=project,
                request=request,
                link=approval_link(project, request),
            )
            queued += 1
    mobiles = [p.mobile for p in everyone.values() if p.mobile]
    for robot in await ChatRobot.filter(Q(project_id=project.id), active=True):
        await queue_chat(
            robot=robot,
            template="change_approval_requested",
            dedup_key=f"change:{request.id}:{request.content_hash[:16]}:r{robot.id}",
            mentions=mobiles,
            project_id=project.id,
            project=project,
            request=request,
            link=approval_link(project, request),
        )
    return queued
