"""The risk register (风险登记表): raising, editing and reviewing risks, a risk that occurs
becoming a problem, and the project's risk matrix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from server import clock, events
from server.audit.service import record, snapshot
from server.auth import Action, Actor, Relation, authorize, may
from server.errors import Invalid, stale
from server.meetings.models import Meeting, MeetingStatus
from server.planning.models import Task
from server.projects.checks import check_member, check_takes_part
from server.projects.models import Project
from server.projects.service import get_project
from server.risks.models import (
    LIVE_RISK_STATUSES,
    AssessmentKind,
    Problem,
    Risk,
    RiskAssessment,
    RiskCategory,
    RiskLevel,
    RiskStatus,
    RiskStrategy,
    RiskTask,
    Severity,
)
from server.risks.problems import OWNER_MUST_BE_MEMBER, record_report
from server.risks.queries import get_risk
from server.validation import Checks

RISK_FIELDS = [
    "title",
    "description",
    "category",
    "department_id",
    "owner_id",
    "probability",
    "impact",
    "level",
    "level_by_hand",
    "level_reason",
    "strategy",
    "measures",
    "trigger",
    "review_date",
    "status",
    "problem_id",
]
# A review without a next date comes back a week later, the rhythm of the weekly meeting.
DEFAULT_REVIEW_INTERVAL = timedelta(days=7)
SEVERITY_OF_LEVEL = {
    RiskLevel.LOW: Severity.LOW,
    RiskLevel.MEDIUM: Severity.MEDIUM,
    RiskLevel.HIGH: Severity.HIGH,
}


def level_of(project: Project, probability: int, impact: int) -> RiskLevel:
    """The level the project's matrix gives to probability × impact."""
    score = probability * impact
    if score >= project.risk_high_score:
        return RiskLevel.HIGH
    if score >= project.risk_medium_score:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


@dataclass
class RiskInput:
    title: str | None = None
    description: str | None = None
    category: str | None = None
    department_id: int | None = None
    owner_id: int | None = None
    probability: int | str | None = None
    impact: int | str | None = None
    # A level set by hand needs a reason; `use_matrix` hands the level back to the matrix.
    level: str | None = None
    level_reason: str | None = None
    use_matrix: bool = False
    strategy: str | None = None
    measures: str | None = None
    trigger: str | None = None
    review_date: date | str | None = None
    status: str | None = None
    task_ids: list[int] | None = None


def _choice(checks: Checks, field_name: str, value: str | None, kind: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        checks.fail(field_name, "Choose one of: %(choices)s.", choices=", ".join(kind))
        return None


async def _checked_people(
    checks: Checks, project: Project, data: RiskInput, changes: dict[str, Any]
) -> None:
    await check_member(checks, project.id, data.owner_id, "ownerId", OWNER_MUST_BE_MEMBER)
    await check_takes_part(checks, project.id, data.department_id, "departmentId")
    if data.owner_id is not None:
        changes["owner_id"] = data.owner_id
    if data.department_id is not None:
        changes["department_id"] = data.department_id


async def _checked_tasks(checks: Checks, project: Project, task_ids: list[int]) -> list[int]:
    wanted = sorted(set(task_ids))
    found = await Task.filter(id__in=wanted, project_id=project.id).count() if wanted else 0
    if found != len(wanted):
        checks.fail("taskIds", "No such task in this project.")
    return wanted


def _checked_assessment(
    checks: Checks, data: RiskInput, *, creating: bool, changes: dict[str, Any]
) -> None:
    if creating or data.probability not in (None, ""):
        changes["probability"] = checks.whole_number("probability", data.probability, low=1, high=5)
    if creating or data.impact not in (None, ""):
        changes["impact"] = checks.whole_number("impact", data.impact, low=1, high=5)
    if data.level not in (None, ""):
        changes["level"] = _choice(checks, "level", data.level, RiskLevel)
        changes["level_by_hand"] = True
        reason = checks.text("levelReason", data.level_reason, required=False, max_length=2000)
        if not reason:
            checks.fail("levelReason", "Say why the level differs from the matrix.")
        changes["level_reason"] = reason
    elif data.use_matrix:
        changes["level_by_hand"] = False
        changes["level_reason"] = ""


async def _checked_risk(
    project: Project, data: RiskInput, *, creating: bool, today: date
) -> tuple[dict[str, Any], list[int] | None]:
    checks = Checks()
    changes: dict[str, Any] = {}
    if creating or data.title is not None:
        changes["title"] = checks.text("title", data.title, max_length=200)
    for name in ("description", "measures", "trigger"):
        value = getattr(data, name)
        if value is not None:
            changes[name] = checks.long_text(name, value)
    if data.category not in (None, ""):
        changes["category"] = _choice(checks, "category", data.category, RiskCategory)
    if data.strategy is not None:
        strategy = data.strategy or None
        changes["strategy"] = strategy and _choice(checks, "strategy", strategy, RiskStrategy)
    if data.status not in (None, ""):
        status = _choice(checks, "status", data.status, RiskStatus)
        if status is not None and status not in LIVE_RISK_STATUSES:
            checks.fail("status", "Use “occurred” or “close” for that.")
        changes["status"] = status
    _checked_assessment(checks, data, creating=creating, changes=changes)
    if data.review_date not in (None, ""):
        review = checks.day("reviewDate", data.review_date)
        if review is not None and review < today:
            checks.fail("reviewDate", "The review date cannot be in the past.")
        changes["review_date"] = review
    elif data.review_date == "":
        changes["review_date"] = None
    await _checked_people(checks, project, data, changes)
    task_ids = None
    if data.task_ids is not None:
        task_ids = await _checked_tasks(checks, project, data.task_ids)
    checks.done()
    return changes, task_ids


async def _default_department(actor: Actor, project: Project) -> int | None:
    """A risk belongs to the raiser's department in the project, so its liaison may edit it."""
    roles = await actor.roles_in(project.id)
    return roles[0][1] if roles else None


async def raise_risk(actor: Actor, *, project_id: int, data: RiskInput) -> Risk:
    project = await get_project(actor, project_id=project_id)
    async with in_transaction():
        await authorize(actor, Action.RAISE_RISK, project)
        changes, task_ids = await _checked_risk(
            project, data, creating=True, today=clock.local_today(project)
        )
        changes.setdefault("owner_id", actor.user_id)
        if "department_id" not in changes:
            changes["department_id"] = await _default_department(actor, project)
        if not changes.get("level_by_hand"):
            changes["level"] = level_of(project, changes["probability"], changes["impact"])
        risk = await Risk.create(project=project, raised_by_id=actor.user_id, **changes)
        await _link_tasks(risk, task_ids or [])
        await _assess(risk, AssessmentKind.RAISED, actor, previous=None)
        await _audit(actor, "risk.raise", risk)
    await events.publish("project", project.id, "risk.raised", riskId=risk.id)
    return risk


async def _audit(
    actor: Actor,
    action: str,
    risk: Risk,
    before: dict[str, Any] | None = None,
    *,
    summary: str | None = None,
) -> None:
    await record(
        actor,
        action=action,
        object_type="risk",
        object_id=risk.id,
        project_id=risk.project_id,
        summary=summary or risk.title,
        before=before,
        after=snapshot(risk, RISK_FIELDS),
    )


async def _link_tasks(risk: Risk, task_ids: list[int]) -> None:
    await RiskTask.filter(risk_id=risk.id).exclude(task_id__in=task_ids).delete()
    have: set[Any] = set(await RiskTask.filter(risk_id=risk.id).values_list("task_id", flat=True))
    await RiskTask.bulk_create(
        [RiskTask(risk_id=risk.id, task_id=tid) for tid in task_ids if tid not in have]
    )


async def _assess(
    risk: Risk,
    kind: AssessmentKind,
    actor: Actor | None,
    *,
    previous: RiskLevel | None,
    note: str = "",
    meeting_id: int | None = None,
) -> RiskAssessment:
    return await RiskAssessment.create(
        risk_id=risk.id,
        kind=kind,
        probability=risk.probability,
        impact=risk.impact,
        level=risk.level,
        previous_level=previous,
        measures=risk.measures,
        note=note,
        meeting_id=meeting_id,
        author_id=actor.user_id if actor else None,
    )


async def _locked_for_change(actor: Actor, risk_id: int, version: int) -> tuple[Project, Risk]:
    """The project and risk locked, the actor allowed, the version current — in that order,
    so a stale form always hears it is stale."""
    risk = await get_risk(actor, risk_id=risk_id)
    project = await Project.filter(id=risk.project_id).select_for_update().get()
    risk = await Risk.filter(id=risk.id).select_for_update().get()
    await authorize_risk_change(actor, project, risk)
    if risk.version != version:
        raise stale(risk.version)
    return project, risk


def _relations(actor: Actor, risk: Risk) -> tuple[Relation, ...]:
    owns = risk.owner_id is not None and risk.owner_id == actor.user_id
    return (Relation.RISK_OWNER,) if owns else ()


async def authorize_risk_change(actor: Actor, project: Project, risk: Risk) -> None:
    await authorize(
        actor,
        Action.EDIT_RISK,
        project,
        department_id=risk.department_id,
        relations=_relations(actor, risk),
    )


async def may_change(actor: Actor, project: Project, risk: Risk) -> bool:
    return await may(
        actor,
        Action.EDIT_RISK,
        project,
        department_id=risk.department_id,
        relations=_relations(actor, risk),
    )


def _apply(project: Project, risk: Risk, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(risk, name, value)
    if not risk.level_by_hand:
        risk.level = level_of(project, risk.probability, risk.impact)
    if risk.status in LIVE_RISK_STATUSES:
        risk.closed_at = None


async def update_risk(actor: Actor, *, risk_id: int, version: int, data: RiskInput) -> Risk:
    async with in_transaction():
        project, risk = await _locked_for_change(actor, risk_id, version)
        if risk.status == RiskStatus.OCCURRED:
            raise Invalid("This risk has occurred; follow it as a problem.", field="status")
        changes, task_ids = await _checked_risk(
            project, data, creating=False, today=clock.local_today(project)
        )
        before = snapshot(risk, RISK_FIELDS)
        previous = risk.level
        _apply(project, risk, changes)
        risk.version += 1
        await risk.save()
        if task_ids is not None:
            await _link_tasks(risk, task_ids)
        if risk.level != previous:
            await _assess(risk, AssessmentKind.UPDATED, actor, previous=previous)
        await _audit(actor, "risk.update", risk, before)
    await events.publish("project", project.id, "risk.updated", riskId=risk.id)
    return risk


@dataclass
class ReviewInput:
    probability: int | str | None = None
    impact: int | str | None = None
    measures: str | None = None
    note: str | None = None
    next_review: date | str | None = None
    level: str | None = None
    level_reason: str | None = None
    use_matrix: bool = False
    meeting_id: int | None = None


async def _authorize_review(
    actor: Actor, project: Project, risk: Risk, meeting_id: int | None
) -> None:
    """In a live meeting of the project the chair records the review; otherwise whoever may
    change the risk reviews it."""
    if meeting_id is None:
        await authorize_risk_change(actor, project, risk)
        return
    meeting = await Meeting.filter(id=meeting_id, project_id=project.id).first()
    if meeting is None:
        raise Invalid("No such meeting in this project.", field="meetingId")
    if meeting.status != MeetingStatus.LIVE:
        raise Invalid("The meeting is not running.", field="meetingId")
    if not await may_change(actor, project, risk):
        await authorize(actor, Action.RECORD_IN_MEETING, project)


async def review_risk(actor: Actor, *, risk_id: int, version: int, data: ReviewInput) -> Risk:
    """A review records the level and measures as they stand now and sets the next review."""
    risk = await get_risk(actor, risk_id=risk_id)
    async with in_transaction():
        project = await Project.filter(id=risk.project_id).select_for_update().get()
        risk = await Risk.filter(id=risk.id).select_for_update().get()
        await _authorize_review(actor, project, risk, data.meeting_id)
        if risk.version != version:
            raise stale(risk.version)
        if risk.status not in LIVE_RISK_STATUSES:
            raise Invalid("Only an open or monitored risk is reviewed.", field="status")
        today = clock.local_today(project)
        changes, _ = await _checked_risk(
            project,
            RiskInput(
                probability=data.probability,
                impact=data.impact,
                measures=data.measures,
                level=data.level,
                level_reason=data.level_reason,
                use_matrix=data.use_matrix,
                review_date=data.next_review or today + DEFAULT_REVIEW_INTERVAL,
            ),
            creating=False,
            today=today,
        )
        note = Checks()
        cleaned_note = note.long_text("note", data.note)
        note.done()
        before = snapshot(risk, RISK_FIELDS)
        previous = risk.level
        _apply(project, risk, changes)
        risk.version += 1
        await risk.save()
        await _assess(
            risk,
            AssessmentKind.REVIEWED,
            actor,
            previous=previous,
            note=cleaned_note,
            meeting_id=data.meeting_id,
        )
        await _audit(actor, "risk.review", risk, before)
    await events.publish("project", project.id, "risk.reviewed", riskId=risk.id)
    if data.meeting_id is not None:
        await events.publish("meeting", data.meeting_id, "risk.reviewed", riskId=risk.id)
    return risk


async def risk_occurred(
    actor: Actor,
    *,
    risk_id: int,
    version: int,
    note: str | None = None,
    due_date: date | str | None = None,
) -> Risk:
    """The risk happened: it becomes a problem (owner, department, severity from the level,
    the first task it threatens), which then climbs the escalation ladder."""
    async with in_transaction():
        project, risk = await _locked_for_change(actor, risk_id, version)
        if risk.status == RiskStatus.CLOSED:
            raise Invalid("A closed risk cannot occur; reopen it first.", field="status")
        if risk.status == RiskStatus.OCCURRED:
            raise Invalid("This risk has already occurred.", field="status")
        today = clock.local_today(project)
        checks = Checks()
        cleaned_note = checks.long_text("note", note)
        due = checks.day("dueDate", due_date, required=False) or today
        if due < today:
            checks.fail("dueDate", "The due date cannot be in the past.")
        checks.done()
        first_task = await RiskTask.filter(risk_id=risk.id).order_by("task_id").first()
        problem = await Problem.create(
            project=project,
            title=risk.title,
            description="\n\n".join(t for t in (risk.description, cleaned_note) if t),
            severity=SEVERITY_OF_LEVEL[risk.level],
            owner_id=risk.owner_id,
            department_id=risk.department_id,
            due_date=due,
            task_id=first_task.task_id if first_task else None,
            raised_by_id=actor.user_id,
        )
        await record_report(actor, problem, project)
        before = snapshot(risk, RISK_FIELDS)
        risk.status = RiskStatus.OCCURRED
        risk.problem_id = problem.id
        risk.version += 1
        await risk.save()
        await _audit(actor, "risk.occur", risk, before)
    await events.publish("project", project.id, "risk.occurred", riskId=risk.id)
    await events.publish("project", project.id, "problem.reported", problemId=problem.id)
    return risk


async def close_risk(actor: Actor, *, risk_id: int, version: int, note: str | None = None) -> Risk:
    async with in_transaction():
        project, risk = await _locked_for_change(actor, risk_id, version)
        if risk.status == RiskStatus.CLOSED:
            raise Invalid("This risk is already closed.", field="status")
        checks = Checks()
        cleaned_note = checks.long_text("note", note)
        checks.done()
        before = snapshot(risk, RISK_FIELDS)
        risk.status = RiskStatus.CLOSED
        risk.closed_at = clock.now()
        risk.version += 1
        await risk.save()
        await _audit(actor, "risk.close", risk, before, summary=cleaned_note[:200])
    await events.publish("project", project.id, "risk.closed", riskId=risk.id)
    return risk


async def set_risk_matrix(
    actor: Actor, *, project_id: int, version: int, high_from: Any, medium_from: Any
) -> Project:
    """The scores from which probability × impact is high or medium; every risk whose level
    follows the matrix takes its new level at once, with the change in its history."""
    project = await get_project(actor, project_id=project_id)
    async with in_transaction():
        project = await Project.filter(id=project.id).select_for_update().get()
        await authorize(actor, Action.EDIT_PROJECT, project)
        if project.version != version:
            raise stale(project.version)
        checks = Checks()
        high = checks.whole_number("riskHighScore", high_from, low=2, high=25)
        medium = checks.whole_number("riskMediumScore", medium_from, low=1, high=24)
        if high is not None and medium is not None and medium >= high:
            checks.fail("riskMediumScore", "Medium must start below high.")
        checks.done()
        assert high is not None and medium is not None
        before = snapshot(project, ["risk_high_score", "risk_medium_score"])
        project.risk_high_score, project.risk_medium_score = high, medium
        project.version += 1
        await project.save(update_fields=["risk_high_score", "risk_medium_score", "version"])
        await _relevel(project, actor)
        await record(
            actor,
            action="risk.matrix",
            object_type="project",
            object_id=project.id,
            project_id=project.id,
            summary=f"{medium}/{high}",
            before=before,
            after={"risk_high_score": high, "risk_medium_score": medium},
        )
    await events.publish("project", project.id, "risk.matrix")
    return project


async def _relevel(project: Project, actor: Actor) -> None:
    rows = await Risk.filter(
        project_id=project.id, level_by_hand=False, status__in=list(LIVE_RISK_STATUSES)
    )
    for risk in rows:
        level = level_of(project, risk.probability, risk.impact)
        if level == risk.level:
            continue
        previous, risk.level = risk.level, level
        risk.version += 1
        await risk.save(update_fields=["level", "version"])
        await _assess(risk, AssessmentKind.MATRIX, actor, previous=previous)
