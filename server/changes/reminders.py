"""A change request waiting for approvals climbs a ladder by working days since it was
submitted: past 2 the approvers still to decide are reminded; past 4 the project manager is
told who holds it up; past 6 the requesting department's head; past 8 management. Each rung
is told once per content (dedup keys), so reruns and restarts never double a mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from server import clock
from server.changes.models import ChangeRequest, ChangeStatus
from server.changes.notify import MANAGEMENT_SLOT, PM_SLOT, approval_link, people_of
from server.changes.service import counted_approvals, required_slots
from server.notices.service import queue_email
from server.org.models import User
from server.planning.scheduling import working_calendar
from server.projects.models import Project

# Working days waited → rung; rung 1 reminds the approvers themselves.
RUNGS = ((8, 4), (6, 3), (4, 2), (2, 1))


def rung_reached(working_days_waited: int) -> int:
    for days, rung in RUNGS:
        if working_days_waited > days:
            return rung
    return 0


@dataclass
class ChangeReminderReport:
    waiting: int = 0
    # Reminders due now; each is queued once (a rerun finds them queued already).
    reminders: int = 0

    def __str__(self) -> str:
        return (
            f"{self.waiting} change requests waiting past 2 working days, "
            f"{self.reminders} reminders due (each sent once)"
        )


async def _told_at(project: Project, rung: int, request: ChangeRequest) -> list[User]:
    """Who hears at a rung above the approvers themselves."""
    if rung == 2:
        return await people_of(project, PM_SLOT)
    if rung == 3:
        slot = f"department:{request.requester_department_id}"
        return await people_of(project, slot) if request.requester_department_id else []
    return await people_of(project, MANAGEMENT_SLOT)


async def run_change_reminders(*, now: datetime | None = None) -> ChangeReminderReport:
    now = now or clock.now()
    report = ChangeReminderReport()
    waiting = await ChangeRequest.filter(status=ChangeStatus.SUBMITTED).select_related("project")
    for request in waiting:
        project = request.project
        assert request.submitted_at is not None
        calendar = await working_calendar(project.id)
        today = now.astimezone(ZoneInfo(project.time_zone)).date()
        since = request.submitted_at.astimezone(ZoneInfo(project.time_zone)).date()
        waited = calendar.working_days_between(since, today) if today > since else 0
        reached = rung_reached(waited)
        if not reached:
            continue
        report.waiting += 1
        decided = await counted_approvals(request)
        missing = [s for s in required_slots(project, request) if s not in decided]
        if not missing:
            continue
        holders = [p.name for s in missing for p in await people_of(project, s)]
        for rung in range(1, reached + 1):
            people = (
                [p for s in missing for p in await people_of(project, s)]
                if rung == 1
                else await _told_at(project, rung, request)
            )
            for person in {p.id: p for p in people}.values():
                await queue_email(
                    recipient=person,
                    template="change_waiting",
                    dedup_key=f"change-wait:{request.id}:{request.content_hash[:16]}:"
                    f"{rung}:{person.id}",
                    project_id=project.id,
                    project=project,
                    request=request,
                    days=waited,
                    holders="、".join(dict.fromkeys(holders)),
                    approver=rung == 1,
                    link=approval_link(project, request),
                )
                report.reminders += 1
    return report
