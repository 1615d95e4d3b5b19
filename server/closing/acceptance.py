"""Acceptance of deliverables (验收): a finished task's deliverable, or a reached milestone, is
handed over to the department that receives it; that department's head or liaison accepts it
or rejects it with the reason, and a rejection reopens the task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from server import clock, events
from server.audit.service import record, snapshot
from server.auth import Action, Actor, Relation, authorize, may
from server.closing.models import Acceptance, AcceptanceStatus
from server.db import with_related
from server.errors import Invalid, NotFound, stale
from server.meetings.models import MeetingKind
from server.meetings.queries import live_meeting_ids, live_meeting_of
from server.planning import scheduling as planning_scheduling
from server.planning.models import Task, TaskStatus
from server.progress.models import TaskUpdate
from server.projects.checks import check_takes_part
from server.projects.models import Project
from server.projects.service import get_project
from server.validation import Checks

FIELDS = ["task_id", "receiving_department_id", "status", "comment", "evidence_link"]
# A rejected deliverable goes back to work: the task shows as nearly, not fully, done.
REOPENED_PERCENT = 90


@dataclass
class Handover:
    task_id: int
    receiving_department_id: int | None = None
    note: str | None = None
    meeting_id: int | None = None


async def submit_for_acceptance(actor: Actor, data: Handover) -> Acceptance:
    """Whoever reports the task's progress hands its deliverable over, once it is done."""
    task = await Task.get_or_none(id=data.task_id)
    if task is None:
        raise NotFound("No such task.", field="taskId")
    project = await get_project(actor, project_id=task.project_id)
    owns = task.owner_id is not None and task.owner_id == actor.user_id
    async with in_transaction():
        await authorize(
            actor,
            Action.REPORT_PROGRESS,
            project,
            department_id=task.department_id,
            relations=(Relation.TASK_OWNER,) if owns else (),
        )
        checks = Checks()
        note = checks.long_text("note", data.note)
        receiving = data.receiving_department_id or project.initiating_department_id
        await check_takes_part(checks, project.id, receiving, "receivingDepartmentId")
        if not (task.deliverable.strip() or task.is_milestone):
            checks.fail("taskId", "Only a task with a deliverable, or a milestone, is accepted.")
        elif task.status != TaskStatus.DONE:
            checks.fail("taskId", "Hand a deliverable over once its task is done.")
        checks.done()
        if data.meeting_id is not None:
            await live_meeting_of(project.id, data.meeting_id)
        if await Acceptance.filter(open_slot=str(task.id)).exists():
            raise Invalid("This deliverable already awaits acceptance.", field="taskId")
        acceptance = await Acceptance.create(
            project_id=project.id,
            task_id=task.id,
            receiving_department_id=receiving,
            deliverable=task.deliverable or task.name,
            note=note,
            submitted_by_id=actor.user_id,
            submitted_at=clock.now(),
            meeting_id=data.meeting_id,
            open_slot=str(task.id),
        )
        await _audit(actor, "acceptance.submit", acceptance, task.name)
    await events.publish("project", project.id, "acceptance.submitted", taskId=task.id)
    await _tell_acceptance_meetings(project.id, data.meeting_id, acceptance.id)
    return acceptance


@dataclass
class Verdict:
    decision: str
    comment: str | None = None
    evidence_link: str | None = None
    meeting_id: int | None = None


async def decide_acceptance(
    actor: Actor, *, acceptance_id: int, version: int, verdict: Verdict
) -> Acceptance:
    acceptance = await get_acceptance(actor, acceptance_id=acceptance_id)
    project = await get_project(actor, project_id=acceptance.project_id)
    async with in_transaction():
        acceptance = await Acceptance.filter(id=acceptance.id).select_for_update().get()
        await authorize(
            actor,
            Action.ACCEPT_DELIVERABLES,
            project,
            department_id=acceptance.receiving_department_id,
        )
        if acceptance.version != version:
            raise stale(acceptance.version)
        if acceptance.status != AcceptanceStatus.SUBMITTED:
            raise Invalid("This hand-over was decided already.", field="decision")
        decision, comment, link = _checked_verdict(verdict)
        if verdict.meeting_id is not None:
            await live_meeting_of(project.id, verdict.meeting_id)
        before = snapshot(acceptance, FIELDS)
        acceptance.status = decision
        acceptance.comment = comment
        acceptance.evidence_link = link
        acceptance.decided_by_id = actor.user_id
        acceptance.decided_at = clock.now()
        acceptance.meeting_id = verdict.meeting_id or acceptance.meeting_id
        acceptance.open_slot = None
        acceptance.version += 1
        await acceptance.save()
        task = await Task.filter(id=acceptance.task_id).select_for_update().get()
        if decision == AcceptanceStatus.REJECTED:
            await _reopen(actor, project, task, comment)
        action = (
            "acceptance.accept" if decision == AcceptanceStatus.ACCEPTED else "acceptance.reject"
        )
        await _audit(actor, action, acceptance, task.name, before)
    await events.publish("project", project.id, "acceptance.decided", taskId=acceptance.task_id)
    await _tell_acceptance_meetings(project.id, verdict.meeting_id, acceptance.id)
    return acceptance


async def _tell_acceptance_meetings(
    project_id: int, meeting_id: int | None, acceptance_id: int
) -> None:
    """Running acceptance meetings list what awaits a decision: their pages follow along."""
    ids = set(await live_meeting_ids(project_id, MeetingKind.ACCEPTANCE))
    if meeting_id is not None:
        ids.add(meeting_id)
    for live in sorted(ids):
        await events.publish("meeting", live, "acceptance.changed", acceptanceId=acceptance_id)


def _checked_verdict(verdict: Verdict) -> tuple[AcceptanceStatus, str, str]:
    checks = Checks()
    decision = {"ACCEPT": AcceptanceStatus.ACCEPTED, "REJECT": AcceptanceStatus.REJECTED}.get(
        (verdict.decision or "").upper()
    )
    if decision is None:
        checks.fail("decision", "Choose accept or reject.")
    comment = checks.long_text("comment", verdict.comment)
    if decision == AcceptanceStatus.REJECTED and not comment:
        checks.fail("comment", "Say what is missing, so the task can be finished.")
    link = checks.link("evidenceLink", verdict.evidence_link)
    checks.done()
    assert decision is not None
    return decision, comment, link


async def _reopen(actor: Actor, project: Project, task: Task, comment: str) -> None:
    """Back to work: not done, the reason in its history, the plan rescheduled."""
    task.status = TaskStatus.IN_PROGRESS
    task.percent_complete = min(task.percent_complete, REOPENED_PERCENT)
    task.actual_finish = None
    task.version += 1
    await task.save()
    await TaskUpdate.create(
        task_id=task.id,
        author_id=actor.user_id,
        percent_complete=task.percent_complete,
        note=comment,
        blocker=False,
    )
    locked = await Project.filter(id=project.id).select_for_update().get()
    await planning_scheduling.reschedule(locked)


async def _audit(
    actor: Actor,
    action: str,
    acceptance: Acceptance,
    task_name: str,
    before: dict[str, Any] | None = None,
) -> None:
    await record(
        actor,
        action=action,
        object_type="acceptance",
        object_id=acceptance.id,
        project_id=acceptance.project_id,
        summary=task_name,
        before=before,
        after=snapshot(acceptance, FIELDS),
    )


async def get_acceptance(actor: Actor, *, acceptance_id: int) -> Acceptance:
    acceptance = await Acceptance.get_or_none(id=acceptance_id)
    if acceptance is None:
        raise NotFound("No such hand-over.", field="id")
    await get_project(actor, project_id=acceptance.project_id)
    return acceptance


async def list_acceptances(project_id: int) -> list[Acceptance]:
    """Every hand-over of the project, newest first, with its task and people (one query)."""
    return await with_related(
        Acceptance.filter(project_id=project_id),
        "task",
        "receiving_department",
        "submitted_by",
        "decided_by",
    )


async def ready_to_hand_over(project_id: int) -> list[Task]:
    """Done tasks with a deliverable (and reached milestones) not yet accepted nor awaiting."""
    handled: set[int] = {
        int(str(task_id))
        for task_id in await Acceptance.filter(
            project_id=project_id,
            status__in=[AcceptanceStatus.SUBMITTED, AcceptanceStatus.ACCEPTED],
        ).values_list("task_id", flat=True)
    }
    done = await Task.filter(project_id=project_id, status=TaskStatus.DONE).order_by("wbs_code")
    return [t for t in done if (t.deliverable.strip() or t.is_milestone) and t.id not in handled]


async def may_hand_over(actor: Actor, project: Project, task: Task) -> bool:
    owns = task.owner_id is not None and task.owner_id == actor.user_id
    return await may(
        actor,
        Action.REPORT_PROGRESS,
        project,
        department_id=task.department_id,
        relations=(Relation.TASK_OWNER,) if owns else (),
    )


async def may_decide(actor: Actor, project: Project, acceptance: Acceptance) -> bool:
    return await may(
        actor,
        Action.ACCEPT_DELIVERABLES,
        project,
        department_id=acceptance.receiving_department_id,
    )
