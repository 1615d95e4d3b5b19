"""Test data made through the service functions, as users would make it."""

from __future__ import annotations

import itertools
from datetime import date

from server.auth import Actor
from server.org import service as org
from server.org.models import Department, User
from server.projects import service as projects
from server.projects.models import Project, ProjectMember, Role

PASSWORD = "correct-horse-42"
_sequence = itertools.count(1)


def system() -> Actor:
    return Actor.system()


async def department(name: str | None = None) -> Department:
    return await org.create_department(system(), name=name or f"部门{next(_sequence)}")


async def user(
    *,
    name: str | None = None,
    dept: Department | None = None,
    email: str | None = None,
    mobile: str | None = None,
    is_admin: bool = False,
    password: str | None = PASSWORD,
    language: str = "zh-CN",
) -> User:
    n = next(_sequence)
    dept = dept or await department()
    return await org.create_user(
        system(),
        name=name or f"用户{n}",
        email=email if email is not None else f"user{n}@example.com",
        mobile=mobile,
        department_id=dept.id,
        password=password,
        is_admin=is_admin,
        language=language,
    )


def actor(u: User, language: str | None = None) -> Actor:
    return Actor.for_user(u, language)


async def project(
    manager: User,
    *,
    code: str | None = None,
    departments: list[Department] | None = None,
    name: str = "新品上市",
) -> Project:
    """A project managed by `manager`, with the manager's department initiating."""
    departments = departments or []
    return await projects.create_project(
        actor(manager),
        projects.ProjectInput(
            code=code or f"P{next(_sequence)}",
            name=name,
            initiating_department_id=manager.department_id,
            department_ids=[d.id for d in departments],
            start_date=date(2026, 11, 2),
            goals="上市首月销量 ≥ 20,000 件",
            # Progress is measured as of the start: the plan as entered, whatever today is.
            status_date=date(2026, 11, 2),
        ),
    )


async def member(
    by: User, proj: Project, who: User, role: Role, dept: Department | None = None
) -> ProjectMember:
    return await projects.add_project_member(
        actor(by),
        projects.MemberInput(
            project_id=proj.id,
            user_id=who.id,
            role=role,
            department_id=(dept.id if dept else who.department_id),
        ),
    )
