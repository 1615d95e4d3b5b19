"""The project's lifecycle: 筹备中 PLANNING → 进行中 ACTIVE → 收尾中 CLOSING → 已关闭 CLOSED →
已归档 ARCHIVED, with 暂停 ON_HOLD and back. A project becomes ACTIVE by itself once its charter
is signed by every department and its plan approved; every other move is a person's, refused
with what is missing."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from server import i18n
from server.audit.service import record
from server.auth import Action, Actor, authorize
from server.closing.models import Acceptance, AcceptanceStatus
from server.errors import Forbidden, Invalid, stale
from server.i18n import N_
from server.planning.models import Baseline, Task, TaskStatus
from server.projects.models import STATUS_LABELS, Project, ProjectStatus
from server.projects.service import get_project
from server.signoffs.models import DocumentKind, DocumentStatus, SignableDocument
from server.validation import Checks

S = ProjectStatus
# Where a person may move a project from each status (ON_HOLD goes back where it came from).
MOVES: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    S.PLANNING: frozenset({S.ACTIVE, S.ON_HOLD}),
    S.ACTIVE: frozenset({S.CLOSING, S.ON_HOLD}),
    S.CLOSING: frozenset({S.ACTIVE, S.CLOSED, S.ON_HOLD}),
    S.ON_HOLD: frozenset(),
    S.CLOSED: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset({S.CLOSED}),
}
# Moves that need a reason in words: holding, resuming, reopening, restoring.
NEEDS_REASON = {(S.CLOSING, S.ACTIVE), (S.ARCHIVED, S.CLOSED)}


def allowed_moves(project: Project) -> list[ProjectStatus]:
    if project.status == S.ON_HOLD:
        return [project.held_from or S.PLANNING]
    return sorted(MOVES[project.status], key=list(S).index)


async def missing_for(project: Project, status: ProjectStatus) -> list[str]:
    """What stands between the project and `status`, in words a PM acts on (untranslated)."""
    missing: list[str] = []
    if status == S.ACTIVE and project.status == S.PLANNING:
        charter = await SignableDocument.filter(
            project_id=project.id, kind=DocumentKind.CHARTER
        ).first()
        if charter is None or charter.status != DocumentStatus.SIGNED:
            missing.append(N_("the charter signed by every participating department"))
        if not await Baseline.filter(project_id=project.id).exists():
            missing.append(N_("the plan approved (a baseline frozen)"))
    if status == S.CLOSED and project.status == S.CLOSING:
        open_tasks = await Task.filter(
            project_id=project.id, status__not_in=[TaskStatus.DONE, TaskStatus.CANCELLED]
        ).count()
        if open_tasks:
            missing.append(N_("every task done or cancelled"))
        if await _unaccepted(project.id):
            missing.append(N_("every deliverable accepted by the department receiving it"))
        report = await SignableDocument.filter(
            project_id=project.id, kind=DocumentKind.CLOSING_REPORT
        ).first()
        if report is None or report.status != DocumentStatus.SIGNED:
            missing.append(N_("the closing report signed by every participating department"))
    return missing


async def set_status(
    actor: Actor, *, project_id: int, version: int, status: str, reason: str | None = None
) -> Project:
    checks = Checks()
    try:
        wanted = ProjectStatus(status)
    except ValueError:
        checks.fail("status", "Choose one of: %(choices)s.", choices=", ".join(S))
        wanted = S.PLANNING
    text = checks.text("reason", reason, required=False, max_length=2000, multiline=True)
    checks.done()
    async with in_transaction():
        visible = await get_project(actor, project_id=project_id)
        project = await Project.filter(id=visible.id).select_for_update().get()
        await _authorize_move(actor, project, wanted)
        if project.version != version:
            raise stale(project.version)
        if wanted not in allowed_moves(project):
            raise Invalid(
                "A project cannot go from %(from)s to %(to)s.",
                field="status",
                **{
                    "from": i18n.translate(actor.language, STATUS_LABELS[project.status]),
                    "to": i18n.translate(actor.language, STATUS_LABELS[wanted]),
                },
            )
        if not text and (
            wanted == S.ON_HOLD
            or project.status == S.ON_HOLD
            or (project.status, wanted) in NEEDS_REASON
        ):
            raise Invalid("Say why, for the project's history.", field="reason")
        missing = await missing_for(project, wanted)
        if missing:
            said = "；".join(i18n.translate(actor.language, m) for m in missing)
            raise Invalid("Not yet: first %(missing)s.", field="status", missing=said)
        await _move(actor, project, wanted, text)
    return project


async def _authorize_move(actor: Actor, project: Project, wanted: ProjectStatus) -> None:
    if project.status == S.ARCHIVED:
        # Archived projects refuse every write; only an administrator brings one back.
        if not actor.is_admin:
            raise Forbidden("Only an administrator restores an archived project.")
        return
    action = Action.ARCHIVE_PROJECT if wanted == S.ARCHIVED else Action.EDIT_PROJECT
    await authorize(actor, action, project)


async def _move(actor: Actor, project: Project, wanted: ProjectStatus, reason: str) -> None:
    before = {"status": project.status.value, "reason": project.status_reason}
    project.update_from_dict(
        {
            "held_from": project.status if wanted == S.ON_HOLD else None,
            "status": wanted,
            "status_reason": reason or None,
            "version": project.version + 1,
        }
    )
    await project.save()
    await record(
        actor,
        action="project.status",
        object_type="project",
        object_id=project.id,
        project_id=project.id,
        summary=project.name,
        before=before,
        after={"status": wanted.value, "reason": project.status_reason},
    )


async def activate_when_ready(project_id: int) -> bool:
    """Called inside the transaction that signed the charter or approved the plan: a project
    still in planning becomes active once both are true."""
    project = await Project.filter(id=project_id).select_for_update().get()
    if project.status != S.PLANNING or await missing_for(project, S.ACTIVE):
        return False
    await _move(Actor.system(), project, S.ACTIVE, "")
    return True


async def _unaccepted(project_id: int) -> bool:
    """Some task with a deliverable (or milestone) is not accepted yet (closing's table, read
    here through its model: the closing domain sits above this one)."""
    accepted = Acceptance.filter(project_id=project_id, status=AcceptanceStatus.ACCEPTED)
    accepted_ids = {int(str(i)) for i in await accepted.values_list("task_id", flat=True)}
    tasks = await Task.filter(project_id=project_id).exclude(status=TaskStatus.CANCELLED)
    return any(
        (t.deliverable.strip() or t.is_milestone) and t.id not in accepted_ids for t in tasks
    )
