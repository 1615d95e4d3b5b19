"""Reading the risk register: one risk, the filtered register, the heat map, what is due for
review, the tasks a risk threatens with their float, and the weekly trend of high risks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tortoise.expressions import F, RawSQL
from tortoise.queryset import QuerySet

from server import clock
from server.auth import Actor
from server.db import with_related
from server.errors import NotFound
from server.planning.models import Task, TaskSchedule
from server.progress.models import ProgressSnapshot
from server.projects.models import LIVE_STATUSES, Project, ProjectMember
from server.projects.service import get_project
from server.risks.models import (
    LIVE_RISK_STATUSES,
    Risk,
    RiskAssessment,
    RiskLevel,
    RiskStatus,
    RiskTask,
)

RELATED = ("owner", "department", "problem")


async def get_risk(actor: Actor, *, risk_id: int) -> Risk:
    """The risk, if the actor may see its project (NotFound otherwise, as for a missing one)."""
    risk = await with_related(Risk.filter(id=risk_id), *RELATED).first()
    if risk is None:
        raise NotFound("No such risk.", field="riskId")
    await get_project(actor, project_id=risk.project_id)
    return risk


@dataclass(frozen=True)
class RiskFilter:
    status: RiskStatus | None = None
    level: RiskLevel | None = None
    department_id: int | None = None
    owner_id: int | None = None
    # A heat-map cell: (probability, impact).
    cell: tuple[int, int] | None = None
    # Open and monitored risks only, unless a status is named.
    live_only: bool = False


def _filtered(project_id: int, wanted: RiskFilter) -> QuerySet[Risk]:
    query = Risk.filter(project_id=project_id)
    if wanted.status is not None:
        query = query.filter(status=wanted.status)
    elif wanted.live_only:
        query = query.filter(status__in=list(LIVE_RISK_STATUSES))
    if wanted.level is not None:
        query = query.filter(level=wanted.level)
    if wanted.department_id is not None:
        query = query.filter(department_id=wanted.department_id)
    if wanted.owner_id is not None:
        query = query.filter(owner_id=wanted.owner_id)
    if wanted.cell is not None:
        query = query.filter(probability=wanted.cell[0], impact=wanted.cell[1])
    return query


async def list_risks(
    project_id: int, wanted: RiskFilter = RiskFilter(), *, offset: int = 0, limit: int | None = None
) -> tuple[list[Risk], int]:
    """One page of the register, highest level and score first, and how many match in all."""
    query = _filtered(project_id, wanted)
    total = await query.count()
    rows = await _ordered(with_related(query, *RELATED), offset, limit)
    return rows, total


async def _ordered(query: Any, offset: int, limit: int | None) -> list[Risk]:
    # Live risks first, then by level and score: sorted in SQL, so only the page is read.
    page = (
        query.annotate(
            closed_rank=_rank("status", {RiskStatus.CLOSED: 2, RiskStatus.OCCURRED: 1}),
            level_rank=_rank("level", {RiskLevel.HIGH: 2, RiskLevel.MEDIUM: 1}),
            score=F("probability") * F("impact"),
        )
        .order_by("closed_rank", "-level_rank", "-score", "id")
        .offset(offset)
    )
    if limit is not None:
        page = page.limit(limit)
    return list(await page)


def _rank(column: str, ranks: dict[Any, int]) -> RawSQL:
    # Constants written into the SQL (our own enum values and small integers): as bound
    # parameters PostgreSQL could not tell the CASE's type.
    whens = " ".join(f"WHEN '{key.value}' THEN {int(rank)}" for key, rank in ranks.items())
    return RawSQL(f'CASE "risk"."{column}" {whens} ELSE 0 END')


def heat_map(risks: Sequence[Risk]) -> dict[tuple[int, int], int]:
    """Open and monitored risks per (probability, impact) cell."""
    counts: dict[tuple[int, int], int] = {}
    for risk in risks:
        if risk.status in LIVE_RISK_STATUSES:
            key = (risk.probability, risk.impact)
            counts[key] = counts.get(key, 0) + 1
    return counts


async def live_risks(project_id: int) -> list[Risk]:
    return list(await Risk.filter(project_id=project_id, status__in=list(LIVE_RISK_STATUSES)))


async def risks_to_review(today_of: dict[int, date]) -> dict[int, list[Risk]]:
    """For the weekly meeting: every high risk, and the others whose review date has come
    (by each project's own today)."""
    rows = await with_related(
        Risk.filter(project_id__in=list(today_of), status__in=list(LIVE_RISK_STATUSES)),
        *RELATED,
    ).order_by("review_date", "id")
    result: dict[int, list[Risk]] = {pid: [] for pid in today_of}
    for risk in rows:
        due = risk.review_date is not None and risk.review_date <= today_of[risk.project_id]
        if risk.level == RiskLevel.HIGH or due:
            result[risk.project_id].append(risk)
    return result


async def reviews_due(actor: Actor) -> list[Risk]:
    """The actor's own risks whose review date has come (by each project's today), in the
    live projects they are on, for their "my tasks" list."""
    if actor.user is None:
        return []
    member_of = await ProjectMember.filter(user_id=actor.user.id, left_at__isnull=True).values_list(
        "project_id", flat=True
    )
    reached = [pid for pid in {int(str(p)) for p in member_of} if actor.reaches(pid)]
    projects = {
        p.id: p for p in await Project.filter(id__in=reached, status__in=list(LIVE_STATUSES))
    }
    if not projects:
        return []
    rows = await (
        Risk.filter(
            owner_id=actor.user.id,
            project_id__in=list(projects),
            status__in=list(LIVE_RISK_STATUSES),
            review_date__isnull=False,
        )
        .select_related("project", "department")
        .order_by("review_date", "id")
    )
    return [
        r
        for r in rows
        if r.review_date is not None and r.review_date <= clock.local_today(projects[r.project_id])
    ]


@dataclass
class ThreatenedTask:
    task: Task
    total_float: int | None
    is_critical: bool


@dataclass
class RiskDetail:
    risk: Risk
    tasks: list[ThreatenedTask] = field(default_factory=list)
    history: list[RiskAssessment] = field(default_factory=list)

    @property
    def any_critical(self) -> bool:
        return any(t.is_critical for t in self.tasks)


async def threatened_tasks(risk_ids: Sequence[int]) -> dict[int, list[ThreatenedTask]]:
    """The tasks each risk threatens, with their total float and criticality, in two queries."""
    links = await RiskTask.filter(risk_id__in=list(risk_ids)).select_related("task")
    schedules = {
        s.task_id: s
        for s in await TaskSchedule.filter(task_id__in=[link.task_id for link in links])
    }
    result: dict[int, list[ThreatenedTask]] = {rid: [] for rid in risk_ids}
    for link in sorted(links, key=lambda row: (row.task.wbs_code, row.task_id)):
        schedule = schedules.get(link.task_id)
        result[link.risk_id].append(
            ThreatenedTask(
                task=link.task,
                total_float=schedule.total_float if schedule else None,
                is_critical=bool(schedule and schedule.is_critical),
            )
        )
    return result


async def histories(risk_ids: Sequence[int]) -> dict[int, list[RiskAssessment]]:
    """Each risk's history, oldest first, in one query."""
    rows = await with_related(RiskAssessment.filter(risk_id__in=list(risk_ids)), "author")
    result: dict[int, list[RiskAssessment]] = {rid: [] for rid in risk_ids}
    for row in sorted(rows, key=lambda r: r.id):
        result[row.risk_id].append(row)
    return result


async def risk_detail(actor: Actor, *, risk_id: int) -> RiskDetail:
    risk = await get_risk(actor, risk_id=risk_id)
    tasks = (await threatened_tasks([risk.id]))[risk.id]
    history = (await histories([risk.id]))[risk.id]
    return RiskDetail(risk=risk, tasks=tasks, history=history)


async def reviews_in_meetings(meeting_ids: Sequence[int]) -> list[RiskAssessment]:
    """The reviews recorded in these meetings, for their pages and minutes."""
    return list(
        await with_related(
            RiskAssessment.filter(meeting_id__in=list(meeting_ids)), "risk", "risk__owner"
        ).order_by("id")
    )


async def risks_of_problems(problem_ids: Sequence[int]) -> dict[int, Risk]:
    """The risk each problem came from, when it came from one."""
    rows = await Risk.filter(problem_id__in=list(problem_ids))
    return {r.problem_id: r for r in rows if r.problem_id is not None}


async def open_high_counts(project_ids: Sequence[int]) -> dict[int, int]:
    rows = await Risk.filter(
        project_id__in=list(project_ids),
        status__in=list(LIVE_RISK_STATUSES),
        level=RiskLevel.HIGH,
    ).values_list("project_id", flat=True)
    counts = dict.fromkeys(project_ids, 0)
    for pid in rows:
        counts[int(pid)] += 1  # type: ignore[call-overload]
    return counts


async def high_risk_trend(project_id: int, *, weeks: int = 12) -> list[tuple[date, int]]:
    """Open high risks at the last snapshot of each ISO week, oldest first."""
    rows = await ProgressSnapshot.filter(
        project_id=project_id, open_high_risks__isnull=False
    ).values_list("day", "open_high_risks")
    by_week: dict[tuple[int, int], tuple[date, int]] = {}
    for day, count in sorted(rows):
        year, week, _ = day.isocalendar()
        by_week[(year, week)] = (day, int(count))
    return [by_week[k] for k in sorted(by_week)][-weeks:]
