"""Which departments take part in a project, and the people a joining department brings:
its head from the org chart. Also the unique slots that keep one role per person and one
liaison per department."""

from __future__ import annotations

from tortoise.expressions import Q

from server.audit.service import record, snapshot
from server.auth import Actor
from server.notices.service import queue_email
from server.org.models import User
from server.projects.models import Project, ProjectDepartment, ProjectMember, Role

MEMBER_FIELDS = ["user_id", "department_id", "role", "position", "responsibilities"]


async def add_participation(actor: Actor, project: Project, department_id: int) -> None:
    await ProjectDepartment.create(
        project_id=project.id, department_id=department_id, pair=f"{project.id}:{department_id}"
    )
    await seat_org_chart_head(actor, project, department_id)


async def seat_org_chart_head(actor: Actor, project: Project, department_id: int) -> None:
    """A department that joins brings its head from the org chart, so the sign-offs know whom
    to ask at once; the PM can still replace or remove them on the team page. Nobody is seated
    when the department already has a head here or that person already heads another one."""
    head = (
        await User.filter(department_id=department_id, heads_department=True, is_active=True)
        .order_by("id")
        .first()
    )
    if head is None:
        return
    slot = role_slot(project.id, head.id, Role.DEPARTMENT_HEAD)
    seated = await ProjectMember.filter(
        Q(role_slot=slot)
        | Q(department_id=department_id, role=Role.DEPARTMENT_HEAD, left_at__isnull=True),
        project_id=project.id,
    ).exists()
    if seated:
        return
    member = await ProjectMember.create(
        project=project,
        user=head,
        department_id=department_id,
        role=Role.DEPARTMENT_HEAD,
        position=head.position,
        role_slot=slot,
    )
    await welcome_member(actor, project, member, head)


async def welcome_member(actor: Actor, project: Project, member: ProjectMember, user: User) -> None:
    """The audit row and the "you were added" mail of a new member, however they joined."""
    await record(
        actor,
        action="member.add",
        object_type="project_member",
        object_id=member.id,
        project_id=project.id,
        summary=f"{user.name} {member.role.value}",
        after=snapshot(member, MEMBER_FIELDS),
    )
    await queue_email(
        recipient=user,
        template="member_added",
        dedup_key=f"member-added:{member.id}",
        project_id=project.id,
        project=project,
        role=member.role,
    )


def role_slot(project_id: int, user_id: int, role: Role) -> str:
    return f"{project_id}:{user_id}:{role.value}"


def liaison_slot(project_id: int, department_id: int) -> str:
    return f"{project_id}:{department_id}"
