"""The liaisons' daily digest: their departments' tasks due this week, late, and not updated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from server import clock
from server.db import with_related
from server.notices import service as notices
from server.org.models import User
from server.planning import queries as planning_queries
from server.planning import scheduling as planning_scheduling
from server.planning.calendar import WorkingCalendar, days_late
from server.planning.models import (
    Task,
    TaskStatus,
)
from server.progress.models import TaskUpdate
from server.projects.models import LIVE_STATUSES, Project, ProjectMember, Role

# --- the liaisons' daily digest --------------------------------------------------------------


@dataclass
class DigestLine:
    task: Task
    project: Project
    due: date
    days_late: int


@dataclass
class Digest:
    due_this_week: list[DigestLine]
    late: list[DigestLine]
    not_updated: list[DigestLine]

    def __bool__(self) -> bool:
        return bool(self.due_this_week or self.late or self.not_updated)


STALE_AFTER_WORKING_DAYS = 2


async def queue_digests(*, now: datetime | None = None, only_at_hour: int | None = None) -> int:
    """One message per liaison: their departments' tasks due this week, late, and not updated
    for 2 working days. The cron passes only_at_hour (the digest hour in each liaison's own
    time zone, working days only); `job run digest` sends to everyone now. Once per local day."""
    now = now or clock.now()
    calendar = WorkingCalendar(await planning_scheduling.company_calendar_days())
    liaisons = await with_related(
        ProjectMember.filter(
            role=Role.LIAISON,
            left_at__isnull=True,
            project__status__in=list(LIVE_STATUSES),
        ),
        "user",
        "project",
    )
    due_users: dict[int, tuple[User, date, list[ProjectMember]]] = {}
    for member in liaisons:
        local = now.astimezone(ZoneInfo(member.user.time_zone))
        if member.user.deactivated_at is not None:
            continue
        if only_at_hour is not None and (
            local.hour != only_at_hour or not calendar.is_working_day(local.date())
        ):
            continue
        due_users.setdefault(member.user.id, (member.user, local.date(), []))[2].append(member)
    if not due_users:
        return 0
    pairs = {
        (m.project_id, m.department_id) for _, _, members in due_users.values() for m in members
    }
    tasks = await Task.filter(
        project_id__in={p for p, _ in pairs}, status__not=TaskStatus.DONE
    ).order_by("id")
    parents = {
        int(str(pid))
        for pid in await Task.filter(
            project_id__in={p for p, _ in pairs}, parent_id__not_isnull=True
        ).values_list("parent_id", flat=True)
    }
    tasks = [t for t in tasks if t.id not in parents]
    ids = [t.id for t in tasks]
    schedules = await planning_queries.schedules_for(ids)
    baselines = await planning_queries.baseline_dates(ids)
    last_update: dict[int, datetime] = {}
    for task_id, created_at in await TaskUpdate.filter(task_id__in=ids).values_list(
        "task_id", "created_at"
    ):
        last_update[task_id] = max(last_update.get(task_id, created_at), created_at)
    queued = 0
    for user, today, members in due_users.values():
        projects = {m.project_id: m.project for m in members}
        mine = {(m.project_id, m.department_id) for m in members}
        digest = Digest([], [], [])
        week_end = today + timedelta(days=6 - today.weekday())
        for task in tasks:
            key = (task.project_id, task.department_id)
            if key not in mine:
                continue
            schedule = schedules.get(task.id)
            due = planning_queries.agreed_finish(
                task.planned_start, task.planned_finish, baselines.get(task.id)
            )
            late = days_late(calendar, finish=due, today=today, done=False)
            line = DigestLine(task, projects[key[0]], due, late)
            if late > 0:
                digest.late.append(line)
            elif due <= week_end:
                digest.due_this_week.append(line)
            start = schedule.early_start if schedule else task.planned_start
            if start <= today:
                seen = last_update.get(task.id)
                seen_day = seen.astimezone(ZoneInfo(user.time_zone)).date() if seen else None
                quiet_since = seen_day or calendar.add_working_days(start, -1)
                if calendar.working_days_between(quiet_since, today) >= STALE_AFTER_WORKING_DAYS:
                    digest.not_updated.append(line)
        if not digest:
            continue
        await notices.queue_email(
            recipient=user,
            template="daily_digest",
            dedup_key=f"digest:{user.id}:{today.isoformat()}",
            digest=digest,
            today=today,
        )
        queued += 1
    return queued
