"""The meeting jobs: minutes past their deadline climb the escalation ladder, and departments
that have not reported by the day before a weekly meeting are reminded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from server import clock
from server.db import ids_in, with_related
from server.meetings.models import (
    DepartmentReport,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from server.notices import service as notices
from server.notices.models import Notice
from server.projects.models import LIVE_STATUSES, Project, ProjectMember, Role
from server.risks import ladder

# --- jobs ---------------------------------------------------------------------------------------

REMINDER_WINDOW = timedelta(hours=24)


@dataclass
class DeadlineReport:
    meetings: int = 0
    notices: int = 0
    levels: dict[int, int] = field(default_factory=dict)

    def __str__(self) -> str:
        by_level = ", ".join(f"L{k}: {v}" for k, v in sorted(self.levels.items())) or "none"
        return f"{self.meetings} meetings with late minutes, {self.notices} notices ({by_level})"


def deadline_level(meeting: Meeting, now: datetime) -> int:
    return ladder.minutes_level_reached(
        due_at=meeting.minutes_due_at, published_at=meeting.minutes_published_at, now=now
    )


async def run_minutes_deadlines(*, now: datetime | None = None) -> DeadlineReport:
    """Escalate unpublished minutes past end + 24 h: one notice per level and person."""
    now = now or clock.now()
    report = DeadlineReport()
    candidates = await ids_in(
        Meeting.filter(
            status=MeetingStatus.ENDED,
            minutes_published_at__isnull=True,
            minutes_due_at__lt=now,
            minutes_escalation_level__lt=max(ladder.MINUTES_RUNGS),
            project__status__in=list(LIVE_STATUSES),
        ),
        "id",
    )
    for meeting_id in candidates:
        told = await _escalate_minutes(meeting_id, now)
        if told:
            report.meetings += 1
        for level, count in told.items():
            report.notices += count
            report.levels[level] = report.levels.get(level, 0) + count
    return report


async def _escalate_minutes(meeting_id: int, now: datetime) -> dict[int, int]:
    told: dict[int, int] = {}
    async with in_transaction():
        meeting = await Meeting.filter(id=meeting_id).select_for_update().get()
        rung = ladder.next_rungs(
            reached=deadline_level(meeting, now),
            episode=0,
            notified_level=meeting.minutes_escalation_level,
        )
        if not rung.levels:
            return told
        project = await Project.get(id=meeting.project_id)
        for level in rung.levels:
            query = ProjectMember.filter(project_id=project.id, left_at__isnull=True)
            if ladder.MINUTES_RUNGS[level] == "MANAGER":
                query = query.filter(role=Role.MANAGER)
            else:
                query = query.filter(
                    role=Role.DEPARTMENT_HEAD,
                    department_id=project.initiating_department_id,
                )
            people = {m.user.id: m.user for m in await with_related(query, "user")}
            for user in people.values():
                if user.deactivated_at is not None:
                    continue
                await notices.queue_email(
                    recipient=user,
                    template="minutes_late",
                    dedup_key=f"minutes-late:{meeting.id}:L{level}:u{user.id}",
                    project_id=project.id,
                    project=project,
                    meeting=meeting,
                    level=level,
                    path=f"/projects/{project.code}/meetings/{meeting.id}",
                )
                told[level] = told.get(level, 0) + 1
        meeting.minutes_escalation_level = rung.level_after
        await meeting.save(update_fields=["minutes_escalation_level"])
    return told


@dataclass
class ReminderReport:
    meetings: int = 0
    reminders: int = 0

    def __str__(self) -> str:
        return f"{self.meetings} weekly meetings within a day, {self.reminders} reminders queued"


async def run_report_reminders(*, now: datetime | None = None) -> ReminderReport:
    """The day before a weekly meeting, each department that has not reported is reminded once."""
    now = now or clock.now()
    report = ReminderReport()
    meetings = await Meeting.filter(
        kind=MeetingKind.WEEKLY,
        status=MeetingStatus.SCHEDULED,
        scheduled_start__gt=now,
        scheduled_start__lte=now + REMINDER_WINDOW,
        project__status__in=list(LIVE_STATUSES),
    ).select_related("project")
    for meeting in meetings:
        report.meetings += 1
        reported = set(
            await ids_in(DepartmentReport.filter(meeting_id=meeting.id), "department_id")
        )
        liaisons = await with_related(
            ProjectMember.filter(
                project_id=meeting.project.id, role=Role.LIAISON, left_at__isnull=True
            ),
            "user",
            "department",
        )
        # A rerun queues nothing new; say so instead of counting the reminders again.
        sent: set[Any] = set(
            await Notice.filter(dedup_key__startswith=f"report-reminder:{meeting.id}:").values_list(
                "dedup_key", flat=True
            )
        )
        async with in_transaction():
            for member in liaisons:
                key = f"report-reminder:{meeting.id}:d{member.department_id}"
                if member.department_id in reported or member.user.deactivated_at or key in sent:
                    continue
                sent.add(key)
                await notices.queue_email(
                    recipient=member.user,
                    template="report_reminder",
                    dedup_key=key,
                    project_id=meeting.project.id,
                    project=meeting.project,
                    meeting=meeting,
                    department=member.department,
                    path=f"/projects/{meeting.project.code}/meetings/{meeting.id}",
                )
                report.reminders += 1
    return report
