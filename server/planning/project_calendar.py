"""A project's own calendar exceptions on top of the company calendar."""

from __future__ import annotations

from datetime import date

from tortoise.transactions import in_transaction

from server.audit.service import record
from server.auth import Action, Actor, authorize
from server.errors import NotFound
from server.planning.models import (
    ProjectCalendarDay,
)
from server.planning.scheduling import company_calendar_days as company_calendar_days
from server.planning.scheduling import reschedule as reschedule
from server.planning.scheduling import working_calendar as working_calendar
from server.planning.service import lock_project
from server.validation import Checks

# --- a project's own calendar exceptions ---------------------------------------------------


async def list_project_calendar_days(project_id: int) -> list[ProjectCalendarDay]:
    return await ProjectCalendarDay.filter(project_id=project_id).order_by("day")


async def set_project_calendar_day(
    actor: Actor, *, project_id: int, day: date | str, is_working: bool, name: str = ""
) -> ProjectCalendarDay:
    """A day this project works or rests unlike the company (a site shutdown, a weekend push).

    The plan is rescheduled in the same transaction."""
    checks = Checks()
    parsed = checks.day("day", day)
    name = checks.text("name", name, required=False, max_length=64)
    checks.done()
    assert parsed is not None
    async with in_transaction():
        project = await lock_project(actor, project_id)
        await authorize(actor, Action.APPROVE_PLAN, project)
        pair = f"{project.id}:{parsed.isoformat()}"
        row = await ProjectCalendarDay.get_or_none(pair=pair)
        before = {"is_working": row.is_working, "name": row.name} if row else None
        if row is None:
            row = await ProjectCalendarDay.create(
                project=project, day=parsed, is_working=is_working, name=name, pair=pair
            )
        else:
            row.is_working, row.name = is_working, name
            await row.save()
        await record(
            actor,
            action="calendar.set",
            object_type="project_calendar_day",
            object_id=row.id,
            project_id=project.id,
            summary=f"{parsed.isoformat()} {name}",
            before=before,
            after={"is_working": is_working, "name": name},
        )
        await reschedule(project)
    return row


async def remove_project_calendar_day(actor: Actor, *, project_id: int, day: date | str) -> None:
    checks = Checks()
    parsed = checks.day("day", day)
    checks.done()
    assert parsed is not None
    async with in_transaction():
        project = await lock_project(actor, project_id)
        await authorize(actor, Action.APPROVE_PLAN, project)
        row = await ProjectCalendarDay.get_or_none(pair=f"{project.id}:{parsed.isoformat()}")
        if row is None:
            raise NotFound("No such calendar day.", field="day")
        await row.delete()
        await record(
            actor,
            action="calendar.remove",
            object_type="project_calendar_day",
            object_id=row.id,
            project_id=project.id,
            summary=str(parsed),
            before={"is_working": row.is_working, "name": row.name},
        )
        await reschedule(project)
