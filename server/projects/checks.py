"""Checks other domains make on their input: does this department take part in the project,
is this person on its team. They add to the caller's `Checks`, so a form shows every error."""

from __future__ import annotations

from server.projects.models import ProjectDepartment, ProjectMember
from server.validation import Checks


async def takes_part(project_id: int, department_id: int) -> bool:
    return await ProjectDepartment.filter(
        project_id=project_id, department_id=department_id
    ).exists()


async def check_takes_part(
    checks: Checks, project_id: int, department_id: int | None, field_name: str
) -> None:
    """The field's department must take part in the project (nothing to check when unset)."""
    if department_id is not None and not await takes_part(project_id, department_id):
        checks.fail(field_name, "This department does not take part in the project.")


async def check_member(
    checks: Checks, project_id: int, user_id: int | None, field_name: str, message: str
) -> None:
    """The field's person must be a current member of the project (nothing when unset)."""
    if user_id is None:
        return
    member = await ProjectMember.filter(
        project_id=project_id, user_id=user_id, left_at__isnull=True
    ).exists()
    if not member:
        checks.fail(field_name, message)
