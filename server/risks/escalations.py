"""The escalation ladder at work: late tasks and overdue problems climb it, by email and chat,
once per level and episode."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server import clock
from server.db import with_related
from server.notices import service as notices
from server.notices.models import ChatRobot
from server.org.models import User
from server.planning import queries as planning_queries
from server.planning import scheduling as planning_scheduling
from server.planning.calendar import WorkingCalendar, days_late
from server.planning.models import Task, TaskStatus
from server.projects.models import (
    LIVE_STATUSES,
    Project,
    ProjectMember,
    Role,
)
from server.requirements.models import (
    UNRESOLVED_GAPS,
    GapState,
    ResourceRequest,
    ResourceStatus,
)
from server.risks.ladder import finish_slip, level_reached, next_rungs
from server.risks.models import (
    OPEN_STATUSES,
    Escalation,
    LadderStep,
    Problem,
    Severity,
)

# --- the escalation ladder ---------------------------------------------------------------------


@dataclass
class LateSubject:
    """A task, problem or resource gap as the ladder sees it."""

    key: str
    kind: str  # "task", "problem" or "gap"
    name: str
    owner_id: int | None
    department_id: int | None
    days_late: int
    critical: bool
    due: date
    total_float: int | None = None


@dataclass
class EscalationReport:
    projects: int = 0
    escalations: int = 0
    notices: int = 0
    recovered: int = 0
    levels: dict[int, int] = field(default_factory=dict)

    def __str__(self) -> str:
        by_level = ", ".join(f"L{k}: {v}" for k, v in sorted(self.levels.items())) or "none"
        return (
            f"{self.projects} projects checked, {self.escalations} escalations ({by_level}), "
            f"{self.notices} notices queued, {self.recovered} recovered"
        )


async def _late_tasks(
    project: Project, calendar: WorkingCalendar, today: date
) -> list[LateSubject]:
    tasks = await Task.filter(project_id=project.id)
    parents = {t.parent_id for t in tasks if t.parent_id is not None}
    leaves = [t for t in tasks if t.id not in parents]
    ids = [t.id for t in leaves]
    schedules = await planning_queries.schedules_for(ids)
    baselines = await planning_queries.baseline_dates(ids)
    subjects = []
    for task in leaves:
        schedule = schedules.get(task.id)
        due = planning_queries.agreed_finish(
            task.planned_start, task.planned_finish, baselines.get(task.id)
        )
        late = days_late(calendar, finish=due, today=today, done=task.status == TaskStatus.DONE)
        subjects.append(
            LateSubject(
                key=f"task:{task.id}",
                kind="task",
                name=task.name,
                owner_id=task.owner_id,
                department_id=task.department_id,
                days_late=late,
                critical=bool(schedule and schedule.is_critical),
                due=due,
                total_float=schedule.total_float if schedule else None,
            )
        )
    return subjects


async def _overdue_problems(
    project: Project, calendar: WorkingCalendar, today: date
) -> list[LateSubject]:
    subjects = []
    for problem in await Problem.filter(project_id=project.id, due_date__isnull=False):
        is_open = problem.status in OPEN_STATUSES
        assert problem.due_date is not None
        late = days_late(calendar, finish=problem.due_date, today=today, done=not is_open)
        subjects.append(
            LateSubject(
                key=f"problem:{problem.id}",
                kind="problem",
                name=problem.title,
                owner_id=problem.owner_id,
                department_id=problem.department_id,
                days_late=late,
                critical=problem.severity == Severity.CRITICAL,
                due=problem.due_date,
            )
        )
    return subjects


@dataclass
class _ProjectPeople:
    members: list[ProjectMember]

    def with_role(self, role: Role, department_id: int | None = None) -> list[User]:
        return [
            m.user
            for m in self.members
            if m.role == role and (department_id is None or m.department_id == department_id)
        ]

    def recipients(self, level: int, subject: LateSubject, users: dict[int, User]) -> list[User]:
        if level == 1:
            found = self.with_role(Role.LIAISON, subject.department_id or -1)
            owner = users.get(subject.owner_id or -1)
            found = ([owner] if owner else []) + found
        elif level == 2:
            found = self.with_role(Role.MANAGER)
        elif level == 3:
            found = self.with_role(Role.DEPARTMENT_HEAD, subject.department_id or -1)
        else:
            found = self.with_role(Role.MANAGEMENT)
        unique: dict[int, User] = {}
        for user in found:
            if user.deactivated_at is None:
                unique.setdefault(user.id, user)
        return list(unique.values())


def _robots_for(robots: list[ChatRobot], subject: LateSubject) -> list[ChatRobot]:
    return [
        r for r in robots if r.department_id is None or r.department_id == subject.department_id
    ]


@dataclass
class _Rungs:
    """What one run tells about one subject: its context and every level it just reached."""

    project: Project
    subject: LateSubject
    episode: int
    context: dict[str, Any]


SUBJECT_PAGES = {"task": "plan", "problem": "problems", "gap": "resources"}


def _context(
    project: Project,
    subject: LateSubject,
    users: dict[int, User],
    project_finish: date | None,
    calendar: WorkingCalendar,
) -> dict[str, Any]:
    slip = (
        finish_slip(subject.days_late, total_float=subject.total_float)
        if subject.kind == "task"
        else 0
    )
    moved_finish = (
        calendar.add_working_days(project_finish, slip) if project_finish and slip else None
    )
    return {
        "project": project,
        "subject": subject,
        "owner": users.get(subject.owner_id or -1),
        "slip": slip,
        "project_finish": project_finish,
        "moved_finish": moved_finish,
        "path": f"/projects/{project.code}/{SUBJECT_PAGES[subject.kind]}",
    }


async def _email_level(
    rungs: _Rungs, level: int, people: _ProjectPeople, users: dict[int, User]
) -> list[User]:
    """Record the rung and mail its people; returns who was told."""
    subject = rungs.subject
    base_key = f"escalation:{subject.key}:e{rungs.episode}:L{level}"
    await Escalation.bulk_create(
        [
            Escalation(
                project=rungs.project,
                slot=base_key[:64],
                subject=subject.key,
                episode=rungs.episode,
                level=level,
                days_late=subject.days_late,
                summary=subject.name[:300],
            )
        ],
        ignore_conflicts=True,
    )
    recipients = people.recipients(level, subject, users)
    for user in recipients:
        await notices.queue_email(
            recipient=user,
            template="escalation",
            dedup_key=f"{base_key}:u{user.id}",
            project_id=rungs.project.id,
            level=level,
            **rungs.context,
        )
    return recipients


async def _post_to_chats(
    rungs: _Rungs, level: int, told: list[User], robots: list[ChatRobot]
) -> int:
    """One chat message per robot for the highest level reached, @-mentioning everyone told."""
    mobiles = list(dict.fromkeys(u.mobile for u in told if u.mobile))
    base_key = f"escalation:{rungs.subject.key}:e{rungs.episode}:L{level}"
    targets = _robots_for(robots, rungs.subject)
    for robot in targets:
        await notices.queue_chat(
            robot=robot,
            template="escalation",
            dedup_key=f"{base_key}:r{robot.id}",
            project_id=rungs.project.id,
            mentions=mobiles,
            level=level,
            **rungs.context,
        )
    return len(targets)


async def _unresolved_gaps(
    project: Project, calendar: WorkingCalendar, today: date
) -> list[LateSubject]:
    """Resource gaps (declined, or unmet on the day) not resolved by their needed-by date.

    A resolved or met request reports "done", so a gap that recovers starts over.
    """
    subjects = []
    rows = await ResourceRequest.filter(project_id=project.id, needed_by__isnull=False)
    for request in rows:
        assert request.needed_by is not None
        unresolved = request.gap_state in UNRESOLVED_GAPS or (
            request.gap_state == GapState.NONE and request.status == ResourceStatus.REQUESTED
        )
        late = days_late(calendar, finish=request.needed_by, today=today, done=not unresolved)
        subjects.append(
            LateSubject(
                key=f"gap:{request.id}",
                kind="gap",
                name=request.description.splitlines()[0][:200] if request.description else "",
                owner_id=None,
                department_id=request.department_id,
                days_late=late,
                critical=False,
                due=request.needed_by,
            )
        )
    return subjects


async def escalate_project(project_id: int, *, today: date | None = None) -> EscalationReport:
    """One project's ladder run, in one transaction: notices and ladder state commit together.

    The project row is locked first, so two runs at once take turns; every notice also has
    a dedup key, so a run repeated after a crash queues only what the first did not commit.
    """
    report = EscalationReport(projects=1)
    async with in_transaction():
        project = await Project.filter(id=project_id).select_for_update().get()
        today = today or clock.local_today(project)
        calendar = await planning_scheduling.working_calendar(project.id)
        subjects = await _late_tasks(project, calendar, today)
        subjects += await _overdue_problems(project, calendar, today)
        subjects += await _unresolved_gaps(project, calendar, today)
        steps = {s.subject: s for s in await LadderStep.filter(project_id=project.id)}
        people = _ProjectPeople(
            await with_related(
                ProjectMember.filter(project_id=project.id, left_at__isnull=True), "user"
            )
        )
        owner_ids = {s.owner_id for s in subjects if s.owner_id}
        users = {u.id: u for u in await User.filter(id__in=list(owner_ids))}
        robots = await ChatRobot.filter(
            Q(project_id=project.id) | Q(project_id=None, department_id__not_isnull=True),
            active=True,
        )
        robots = [
            r
            for r in robots
            if r.project_id == project.id or r.department_id in _department_ids(subjects)
        ]
        schedule = await planning_queries.schedules_for(
            [int(s.key.split(":")[1]) for s in subjects if s.kind == "task"]
        )
        project_finish = max((s.early_finish for s in schedule.values()), default=None)
        for subject in subjects:
            step = steps.get(subject.key)
            reached = level_reached(
                subject.days_late, threshold=project.late_threshold_days, critical=subject.critical
            )
            rung = next_rungs(
                reached=reached,
                episode=step.episode if step else 0,
                notified_level=step.level if step else 0,
            )
            if step is None and not rung.levels:
                continue
            if rung.levels:
                rungs = _Rungs(
                    project,
                    subject,
                    rung.episode,
                    _context(project, subject, users, project_finish, calendar),
                )
                told: list[User] = []
                for level in rung.levels:
                    told += await _email_level(rungs, level, people, users)
                    report.escalations += 1
                    report.levels[level] = report.levels.get(level, 0) + 1
                report.notices += len(told)
                report.notices += await _post_to_chats(rungs, rung.levels[-1], told, robots)
            if step is None:
                await LadderStep.bulk_create(
                    [
                        LadderStep(
                            project=project,
                            subject=subject.key,
                            episode=rung.episode,
                            level=rung.level_after,
                        )
                    ],
                    ignore_conflicts=True,
                )
            elif (step.episode, step.level) != (rung.episode, rung.level_after):
                if rung.episode != step.episode:
                    report.recovered += 1
                await LadderStep.filter(id=step.id).update(
                    episode=rung.episode, level=rung.level_after
                )
    return report


def _department_ids(subjects: list[LateSubject]) -> set[int]:
    return {s.department_id for s in subjects if s.department_id is not None}


def is_escalation_hour(
    project: Project, calendar: WorkingCalendar, now: datetime, hour: int
) -> bool:
    """True at `hour` o'clock on a working day in the project's time zone."""
    local = now.astimezone(ZoneInfo(project.time_zone))
    return local.hour == hour and calendar.is_working_day(local.date())


async def run_escalations(
    *,
    project_code: str | None = None,
    now: datetime | None = None,
    only_at_hour: int | None = None,
) -> EscalationReport:
    """Climb the ladder for every live project (or one); the cron passes only_at_hour=9."""
    now = now or clock.now()
    query = Project.filter(status__in=list(LIVE_STATUSES))
    if project_code:
        query = query.filter(code=project_code.upper())
    total = EscalationReport()
    for project in await query.order_by("id"):
        if only_at_hour is not None:
            calendar = await planning_scheduling.working_calendar(project.id)
            if not is_escalation_hour(project, calendar, now, only_at_hour):
                continue
        today = now.astimezone(ZoneInfo(project.time_zone)).date()
        one = await escalate_project(project.id, today=today)
        total.projects += 1
        total.escalations += one.escalations
        total.notices += one.notices
        total.recovered += one.recovered
        for level, count in one.levels.items():
            total.levels[level] = total.levels.get(level, 0) + count
    return total
