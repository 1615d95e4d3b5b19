"""The fixed statements behind the project reads that every page and API call makes (a
project with the actor's roles in it, its members, its departments): written once, with
`?` placeholders, so no query is built per request (server.db.Statement)."""

from __future__ import annotations

import functools
from typing import Any

from server.db import Statement, readable_columns
from server.org.models import Department, User
from server.projects.models import Project, ProjectMember

PROJECT_OF_TASK_WITH_ROLES = Statement(
    Project,
    """
    SELECT p.*, m.role AS member_role, m.department_id AS member_department_id
    FROM task t
    JOIN project p ON p.id = t.project_id
    LEFT JOIN project_member m
      ON m.project_id = p.id AND m.user_id = ? AND m.left_at IS NULL
    WHERE t.id = ?
    """,
    extra=["member_role", "member_department_id"],
)


_PROJECT_WITH_ROLES = """
    SELECT p.*, m.role AS member_role, m.department_id AS member_department_id
    FROM project p
    LEFT JOIN project_member m
      ON m.project_id = p.id AND m.user_id = ? AND m.left_at IS NULL
    """
PROJECT_WITH_ROLES = Statement(
    Project, _PROJECT_WITH_ROLES + " WHERE p.id = ?", extra=["member_role", "member_department_id"]
)
PROJECT_BY_CODE_WITH_ROLES = Statement(
    Project,
    _PROJECT_WITH_ROLES + " WHERE p.code = ?",
    extra=["member_role", "member_department_id"],
)


PARTICIPATING_DEPARTMENTS = Statement(
    Department,
    "SELECT d.*, pd.project_id AS participating_project_id FROM project_department pd"
    " JOIN department d ON d.id = pd.department_id"
    " WHERE pd.project_id IN (SELECT value FROM json_each(?)) ORDER BY pd.id",
    postgres="SELECT d.*, pd.project_id AS participating_project_id FROM project_department pd"
    " JOIN department d ON d.id = pd.department_id"
    " WHERE pd.project_id = ANY(?::bigint[]) ORDER BY pd.id",
    extra=["participating_project_id"],
)


class MembersStatement(Statement[ProjectMember]):
    """Members with their user (never a secret column) and department, made into models as
    Tortoise's select_related makes them, from one row each."""

    def __init__(self) -> None:
        self.columns = [
            readable_columns(ProjectMember),
            readable_columns(User),
            readable_columns(Department),
        ]
        member, user, department = (
            ", ".join(f"{alias}.{column}" for column in columns)
            for alias, columns in zip(("pm", "u", "d"), self.columns, strict=True)
        )
        select = (
            f"SELECT {member}, {user}, {department} FROM project_member pm"  # noqa: S608 - model columns
            " JOIN app_user u ON u.id = pm.user_id JOIN department d ON d.id = pm.department_id"
        )
        where = " AND pm.left_at IS NULL ORDER BY d.name, pm.id"
        super().__init__(
            ProjectMember,
            select + " WHERE pm.project_id IN (SELECT value FROM json_each(?))" + where,  # noqa: S608
            postgres=select + " WHERE pm.project_id = ANY(?::bigint[])" + where,
        )

    def member(self, row: tuple[Any, ...]) -> ProjectMember:
        member_columns, user_columns, department_columns = self.columns
        a, b = len(member_columns), len(member_columns) + len(user_columns)
        member = ProjectMember._init_from_db(**dict(zip(member_columns, row[:a], strict=True)))
        user = User._init_from_db(**dict(zip(user_columns, row[a:b], strict=True)))
        department = Department._init_from_db(**dict(zip(department_columns, row[b:], strict=True)))
        object.__setattr__(member, "_user", user)
        object.__setattr__(member, "_department", department)
        return member


@functools.cache
def active_members() -> MembersStatement:
    # Made on first use: the columns are known once the models are.
    return MembersStatement()
