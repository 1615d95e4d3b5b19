"""The register knows the critical path: when a task a risk threatens becomes critical, a
low risk is raised to medium, with the reason in its history."""

from __future__ import annotations

from server.audit.service import record
from server.auth import Actor
from server.domain_events import TasksBecameCritical, handles
from server.i18n import N_
from server.planning.models import Task
from server.risks.models import (
    LIVE_RISK_STATUSES,
    AssessmentKind,
    Risk,
    RiskAssessment,
    RiskLevel,
    RiskTask,
)

# The history keeps the task's name as the note; pages say the sentence in the reader's language.
CRITICAL_NOTE = N_("The task “%(task)s” it threatens became critical (no float left).")


@handles(TasksBecameCritical)
async def raise_low_risks_on_critical_tasks(event: TasksBecameCritical) -> None:
    """Runs inside the reschedule's transaction, so the level and the schedule agree."""
    links = await RiskTask.filter(
        task_id__in=list(event.task_ids),
        risk__status__in=list(LIVE_RISK_STATUSES),
        risk__level=RiskLevel.LOW,
    ).values_list("risk_id", "task_id")
    if not links:
        return
    first_task: dict[int, int] = {}
    for risk_id, task_id in sorted(links):
        first_task.setdefault(int(risk_id), int(task_id))
    names = dict(await Task.filter(id__in=list(first_task.values())).values_list("id", "name"))
    for risk in await Risk.filter(id__in=list(first_task)):
        task_name = names[first_task[risk.id]]
        risk.level = RiskLevel.MEDIUM
        risk.version += 1
        await risk.save(update_fields=["level", "version"])
        await RiskAssessment.create(
            risk_id=risk.id,
            kind=AssessmentKind.CRITICAL_PATH,
            probability=risk.probability,
            impact=risk.impact,
            level=RiskLevel.MEDIUM,
            previous_level=RiskLevel.LOW,
            measures=risk.measures,
            note=task_name,
        )
        await record(
            Actor.system(),
            action="risk.critical_path",
            object_type="risk",
            object_id=risk.id,
            project_id=risk.project_id,
            summary=task_name[:200],
        )
