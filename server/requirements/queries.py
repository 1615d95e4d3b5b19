"""Reading step 3: the requirements and resource requests of a project, filtered and paged
in SQL, the open conflicts, and what waits for management."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.queryset import QuerySet

from server.db import with_related
from server.requirements.models import (
    ConflictStatus,
    GapState,
    Requirement,
    RequirementConflict,
    RequirementStatus,
    ResourceRequest,
    ResourceStatus,
)

REQUIREMENT_RELATED = ("department", "asked_of", "filed_by", "merged_into")
REQUEST_RELATED = ("department", "supplier", "gap_from", "filed_by")


@dataclass(frozen=True)
class ListFilter:
    department_id: int | None = None
    status: str | None = None


def _requirements(project_id: int, wanted: ListFilter) -> QuerySet[Requirement]:
    query = Requirement.filter(project_id=project_id)
    if wanted.department_id is not None:
        query = query.filter(department_id=wanted.department_id)
    if wanted.status in RequirementStatus.__members__:
        query = query.filter(status=wanted.status)
    return query


async def list_requirements(
    project_id: int, wanted: ListFilter = ListFilter(), *, offset: int = 0, limit: int | None = None
) -> tuple[list[Requirement], int]:
    """One page, in the order filed, and how many match in all."""
    query = _requirements(project_id, wanted)
    total = await query.count()
    page = with_related(query, *REQUIREMENT_RELATED).order_by("id").offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return list(await page), total


def _requests(project_id: int, wanted: ListFilter) -> QuerySet[ResourceRequest]:
    query = ResourceRequest.filter(project_id=project_id)
    if wanted.department_id is not None:
        query = query.filter(department_id=wanted.department_id)
    if wanted.status in ResourceStatus.__members__:
        query = query.filter(status=wanted.status)
    elif wanted.status in GapState.__members__:
        query = query.filter(gap_state=wanted.status)
    return query


async def list_requests(
    project_id: int, wanted: ListFilter = ListFilter(), *, offset: int = 0, limit: int | None = None
) -> tuple[list[ResourceRequest], int]:
    query = _requests(project_id, wanted)
    total = await query.count()
    page = with_related(query, *REQUEST_RELATED).order_by("id").offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return list(await page), total


async def open_conflicts(project_id: int) -> list[RequirementConflict]:
    return list(
        await RequirementConflict.filter(project_id=project_id, status=ConflictStatus.OPEN)
        .select_related("requirement_a", "requirement_b")
        .order_by("id")
    )


async def awaiting_management(project_id: int) -> list[ResourceRequest]:
    return list(
        await with_related(
            ResourceRequest.filter(project_id=project_id, gap_state=GapState.AWAITING_MANAGEMENT),
            *REQUEST_RELATED,
        )
    )


async def merge_targets(project_id: int) -> list[Requirement]:
    """What a requirement may be merged into: the project's open and accepted ones."""
    return list(
        await Requirement.filter(
            project_id=project_id,
            status__in=[RequirementStatus.FILED, RequirementStatus.ACCEPTED],
        )
        .select_related("department")
        .order_by("id")
    )
