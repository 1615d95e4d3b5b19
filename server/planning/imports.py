"""Bringing a plan from Microsoft Project: a preview first, then the import, whole or not at
all, into a project whose plan is still empty.

The preview lists two kinds of findings, each with the task named:
- errors: the file cannot be imported as it stands (a link to a task not in the file, a
  cycle, a duration that is no duration, a task before the project's start, …);
- problems: what the plan cannot represent, imported without it (a manually scheduled
  task is scheduled like the rest, a link to a summary task is left out, …).
The import names the content hash of the file the PM saw previewed, so what is imported is
what was previewed. Afterwards our own early and late dates and floats are compared with
the file's stored ones; a plan using only what we support shows no difference.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from graphlib import CycleError, TopologicalSorter

from redis.asyncio import Redis
from tortoise.transactions import in_transaction

from server.audit.service import record
from server.auth import Action, Actor, authorize
from server.errors import Conflict, Invalid, Unavailable
from server.i18n import N_, translate
from server.planning.calendar import WorkingCalendar
from server.planning.models import (
    Baseline,
    BaselineTask,
    Dependency,
    ProjectCalendarDay,
    Task,
    TaskSchedule,
    TaskStatus,
)
from server.planning.mspdi_read import FileTask, PlanFile, Problem, read_plan_file
from server.planning.scheduling import company_calendar_days, reschedule, working_calendar
from server.planning.service import lock_project
from server.planning.wbs_read import is_workbook, read_wbs_workbook
from server.projects.models import Project
from server.projects.service import get_project, list_members, list_participating_departments
from server.settings import get_settings

# Findings that stop an import; the others are imported without what they describe.
BLOCKING = {
    N_("A link names a predecessor that is not in the file."),
    N_("A link names no predecessor or an unknown type."),
    N_("The duration is not a valid duration."),
    N_("The task has no name."),
    N_("A task without a numeric UID was left out."),
    N_("The row has no WBS code like 1.2.3."),
    N_("Two rows have the same WBS code."),
    N_("The WBS code does not fit under the row above it."),
}
# A task's wbs_code while it is written, until the plan is renumbered in the same transaction.
MARK = "import:"


@dataclass(frozen=True)
class Counts:
    tasks: int
    summaries: int
    milestones: int
    links: int
    calendar_days: int
    with_progress: int
    baseline_tasks: int


@dataclass
class ImportPreview:
    content_hash: str
    counts: Counts
    errors: list[Problem]
    problems: list[Problem]
    file_start: date | None
    status_date: date | None


@dataclass(frozen=True)
class Difference:
    task: str
    field: str
    theirs: str
    ours: str


@dataclass
class ImportResult:
    preview: ImportPreview
    differences: list[Difference] = field(default_factory=list)


@dataclass(frozen=True)
class Team:
    """Whom an imported task's owner and department can be: the project's active members by
    name or e-mail, its participating departments by name. A name two members share matches
    neither."""

    people: dict[str, int | None]
    departments: dict[str, int]

    def owner(self, task: FileTask) -> int | None:
        for key in (task.owner_email, task.owner):
            if key and (found := self.people.get(key.strip().casefold())) is not None:
                return found
        return None

    def department(self, task: FileTask) -> int | None:
        return self.departments.get(task.department.strip().casefold())


async def _team(project: Project) -> Team:
    people: dict[str, int | None] = {}
    for member in (await list_members([project.id]))[project.id]:
        keys = {member.user.name.strip().casefold()}
        if member.user.email:
            keys.add(member.user.email.strip().casefold())
        for key in keys:
            people[key] = (
                None if people.get(key, member.user_id) != member.user_id else member.user_id
            )
    departments = (await list_participating_departments([project.id]))[project.id]
    return Team(people, {d.name.strip().casefold(): d.id for d in departments})


def read_plan(data: bytes) -> PlanFile:
    """An MS Project XML file or this product's WBS workbook, told apart by their first bytes."""
    if is_workbook(data):
        return read_wbs_workbook(data)
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise Invalid(
            N_(
                "This is a binary MS Project file (.mpp). In MS Project choose File → Save As → "
                "XML format (*.xml), then bring that file."
            ),
            field="file",
        )
    return read_plan_file(data)


def hash_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Between the preview and the PM's confirmation the file waits in Redis (every web server
# sees it), for an hour.
KEPT_SECONDS = 3600


def _kept_key(project_id: int, content_hash: str) -> str:
    return f"xietong:plan-import:{project_id}:{content_hash}"


async def keep_file(project_id: int, data: bytes) -> str:
    content_hash = hash_of(data)
    client = _redis()
    try:
        await client.set(_kept_key(project_id, content_hash), data, ex=KEPT_SECONDS)
    finally:
        await client.aclose()
    return content_hash


async def kept_file(project_id: int, content_hash: str) -> bytes:
    client = _redis()
    try:
        data = await client.get(_kept_key(project_id, content_hash))
    finally:
        await client.aclose()
    if data is None:
        raise Conflict(
            N_("The previewed file is no longer kept (an hour has passed); upload it again."),
            field="file",
        )
    return bytes(data)


def _redis() -> Redis:
    url = get_settings().redis_url
    if not url:
        raise Unavailable(N_("Importing a plan needs Redis, which this server lacks."))
    client: Redis = Redis.from_url(url)
    return client


async def preview_plan_import(actor: Actor, *, project_id: int, data: bytes) -> ImportPreview:
    project = await get_project(actor, project_id=project_id)
    # The PM, who approves the plan, brings it.
    await authorize(actor, Action.APPROVE_PLAN, project, field="file")
    plan = read_plan(data)
    return _preview(project, plan, await _company_calendar(), await _team(project), hash_of(data))


async def _company_calendar() -> WorkingCalendar:
    return WorkingCalendar(await company_calendar_days())


def _preview(
    project: Project, plan: PlanFile, company: WorkingCalendar, team: Team, content_hash: str
) -> ImportPreview:
    errors = [p for p in plan.problems if p.what in BLOCKING]
    problems = [p for p in plan.problems if p.what not in BLOCKING]
    problems += _unmatched(plan, team)
    errors += _plan_errors(project, plan)
    if plan.start is not None and plan.start != project.start_date:
        problems.append(
            Problem(
                "",
                N_("The file's project starts on another day; tasks start with this project."),
                f"{plan.start.isoformat()} → {project.start_date.isoformat()}",
            )
        )
    usable = _usable_links(plan)
    return ImportPreview(
        content_hash=content_hash,
        counts=Counts(
            tasks=len(plan.tasks),
            summaries=len(_parents(plan.tasks)[1]),
            milestones=sum(t.is_milestone for t in plan.tasks),
            links=sum(len(links) for links in usable.values()),
            calendar_days=len(_project_days(plan, company)),
            with_progress=sum(1 for t in plan.tasks if t.percent_complete or t.actual_start),
            baseline_tasks=sum(1 for t in plan.tasks if t.baseline),
        ),
        errors=errors,
        problems=problems,
        file_start=plan.start,
        status_date=plan.status_date,
    )


def _unmatched(plan: PlanFile, team: Team) -> list[Problem]:
    """Owners and departments the project does not have: the PM assigns those tasks after
    the import."""
    found = []
    for task in plan.tasks:
        if (task.owner or task.owner_email) and team.owner(task) is None:
            found.append(
                Problem(
                    task.name,
                    N_("Nobody on the project team has this name or e-mail: no owner is set."),
                    task.owner_email or task.owner,
                )
            )
        if task.department and team.department(task) is None:
            found.append(
                Problem(
                    task.name,
                    N_("The project has no participating department of this name: none is set."),
                    task.department,
                )
            )
    return found


def describe_preview(preview: ImportPreview, language: str = "en") -> list[str]:
    """The preview as lines of text (the command line's)."""
    c = preview.counts
    lines = [
        f"{c.tasks} tasks ({c.summaries} summaries, {c.milestones} milestones), {c.links} links, "
        f"{c.calendar_days} calendar days, {c.with_progress} with progress, "
        f"{c.baseline_tasks} with a baseline"
    ]
    for kind, findings in (("error", preview.errors), ("not supported", preview.problems)):
        for found in findings:
            where = f"{found.task}: " if found.task else ""
            detail = f" ({found.detail})" if found.detail else ""
            lines.append(f"{kind}: {where}{translate(language, found.what)}{detail}")
    return lines


def _plan_errors(project: Project, plan: PlanFile) -> list[Problem]:
    errors: list[Problem] = []
    if not plan.tasks:
        errors.append(Problem("", N_("The file has no tasks.")))
    level = 0
    for task in plan.tasks:
        if task.outline_level > level + 1 or task.outline_level < 1:
            errors.append(Problem(task.name, N_("The outline skips a level.")))
        level = task.outline_level
        if task.planned_start is not None and task.planned_start < project.start_date:
            errors.append(
                Problem(
                    task.name,
                    N_("The task starts before the project."),
                    task.planned_start.isoformat(),
                )
            )
        if any(link.predecessor_uid == task.uid for link in task.links):
            errors.append(Problem(task.name, N_("The task is linked to itself.")))
    graph = {uid: {link[0] for link in links} for uid, links in _usable_links(plan).items()}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        names = {t.uid: t.name for t in plan.tasks}
        cycle = " → ".join(names.get(uid, str(uid)) for uid in error.args[1])
        errors.append(Problem("", N_("The links go round in a circle."), cycle))
    return errors


def _parents(tasks: list[FileTask]) -> tuple[dict[int, int | None], set[int]]:
    """Each task's parent UID from the outline levels, and the UIDs that have children."""
    parent_of: dict[int, int | None] = {}
    open_levels: list[int] = []  # UIDs of the last task seen at each level
    for task in tasks:
        level = max(1, min(task.outline_level, len(open_levels) + 1))
        del open_levels[level - 1 :]
        parent_of[task.uid] = open_levels[-1] if open_levels else None
        open_levels.append(task.uid)
    return parent_of, {p for p in parent_of.values() if p is not None}


def _usable_links(plan: PlanFile) -> dict[int, list[tuple[int, str, int]]]:
    """Links between leaf tasks both in the file: (predecessor UID, type, lag days)."""
    known = {t.uid for t in plan.tasks}
    summaries = _parents(plan.tasks)[1]
    return {
        task.uid: [
            (link.predecessor_uid, link.type.value, link.lag_days)
            for link in task.links
            if link.predecessor_uid in known
            and link.predecessor_uid not in summaries
            and task.uid not in summaries
            and link.predecessor_uid != task.uid
        ]
        for task in plan.tasks
    }


def _project_days(plan: PlanFile, company: WorkingCalendar) -> dict[date, tuple[bool, str]]:
    """The file's calendar exceptions where the company's calendar says otherwise."""
    return {
        day: (working, name[:64])
        for day, working, name in plan.exceptions
        if company.is_working_day(day) != working
    }


async def import_plan(
    actor: Actor, *, project_id: int, data: bytes, content_hash: str
) -> ImportResult:
    plan = read_plan(data)
    if hash_of(data) != content_hash:
        raise Conflict(
            N_("This is not the file that was previewed; preview it again."), field="contentHash"
        )
    async with in_transaction():
        project = await lock_project(actor, project_id)
        await authorize(actor, Action.APPROVE_PLAN, project, field="file")
        company = await _company_calendar()
        team = await _team(project)
        preview = _preview(project, plan, company, team, content_hash)
        if preview.errors:
            raise Invalid(N_("The file has errors; the preview lists them."), field="file")
        if await Task.filter(project_id=project.id).exists():
            raise Invalid(
                N_("This project's plan already has tasks: import into an empty plan."),
                field="file",
            )
        ids = await _write_tasks(project, plan, team)
        await _write_links(project, plan, ids)
        await _write_calendar(project, _project_days(plan, company))
        await _write_baseline(actor, project, plan, ids)
        if plan.status_date is not None and plan.status_date != project.status_date:
            await Project.filter(id=project.id).update(
                status_date=plan.status_date, version=project.version + 1
            )
            project.status_date = plan.status_date
        await reschedule(project, calendar=await working_calendar(project.id), renumber=True)
        await record(
            actor,
            action="plan.import",
            object_type="project",
            object_id=project.id,
            project_id=project.id,
            summary=f"{preview.counts.tasks} tasks, {preview.counts.links} links",
        )
    return ImportResult(preview, await _differences(plan, ids))


async def _write_tasks(project: Project, plan: PlanFile, team: Team) -> dict[int, int]:
    """Every task in file order (the WBS keeps it), then each one's parent; UID → task id."""
    parent_of, summaries = _parents(plan.tasks)
    await Task.bulk_create([_task_row(project, t, t.uid in summaries, team) for t in plan.tasks])
    marked = await Task.filter(project_id=project.id).values_list("id", "wbs_code")
    ids = {int(code.removeprefix(MARK)): int(task_id) for task_id, code in marked}
    # Parents in batched CASE updates: one UPDATE a task was most of a large import's time.
    children = []
    for uid, parent in parent_of.items():
        if parent is not None:
            child = Task(id=ids[uid], parent_id=ids[parent])
            child._saved_in_db = True
            children.append(child)
    if children:
        await Task.bulk_update(children, fields=["parent_id"], batch_size=500)
    return ids


def _task_row(project: Project, task: FileTask, is_summary: bool, team: Team) -> Task:
    done = task.actual_finish is not None or task.percent_complete >= 100
    started = done or task.actual_start is not None or task.percent_complete > 0
    status = TaskStatus.IN_PROGRESS if started else TaskStatus.NOT_STARTED
    # A leaf of no duration that is not a milestone is given one day, as the plan does.
    duration = 0 if task.is_milestone or is_summary else max(task.duration_days, 1)
    return Task(
        project_id=project.id,
        wbs_code=f"{MARK}{task.uid}",
        name=task.name[:200],
        planned_start=task.planned_start or project.start_date,
        duration_days=duration,
        is_milestone=task.is_milestone and not is_summary,
        deliverable=task.deliverable,
        owner_id=team.owner(task),
        department_id=team.department(task),
        actual_start=task.actual_start if started else None,
        actual_finish=task.actual_finish if done else None,
        percent_complete=100 if done else max(0, min(task.percent_complete, 99)),
        # The work still to do as the file states it, not re-derived from the percentage.
        remaining_duration_days=task.remaining_days if started and not done else None,
        status=TaskStatus.DONE if done else status,
    )


async def _write_links(project: Project, plan: PlanFile, ids: dict[int, int]) -> None:
    await Dependency.bulk_create(
        [
            Dependency(
                project_id=project.id,
                predecessor_id=ids[predecessor],
                successor_id=ids[uid],
                type=kind,
                lag_days=lag,
                pair=f"{ids[predecessor]}:{ids[uid]}",
            )
            for uid, links in _usable_links(plan).items()
            for predecessor, kind, lag in dict.fromkeys(links)
        ]
    )


async def _write_calendar(project: Project, days: dict[date, tuple[bool, str]]) -> None:
    await ProjectCalendarDay.bulk_create(
        [
            ProjectCalendarDay(
                project_id=project.id,
                day=day,
                is_working=working,
                name=name,
                pair=f"{project.id}:{day.isoformat()}",
            )
            for day, (working, name) in sorted(days.items())
        ]
    )


async def _write_baseline(
    actor: Actor, project: Project, plan: PlanFile, ids: dict[int, int]
) -> None:
    rows = [(ids[t.uid], t.baseline) for t in plan.tasks if t.baseline is not None]
    if not rows:
        return
    baseline = await Baseline.create(
        project_id=project.id, name="MS Project baseline 0", approved_by=actor.user
    )
    await BaselineTask.bulk_create(
        [
            BaselineTask(baseline_id=baseline.id, task_id=task_id, start=start, finish=finish)
            for task_id, (start, finish) in rows
        ]
    )


async def _differences(plan: PlanFile, ids: dict[int, int]) -> list[Difference]:
    """Where our schedule and the file's stored one disagree, leaf task by leaf task."""
    summaries = _parents(plan.tasks)[1]
    schedules = {s.task_id: s for s in await TaskSchedule.filter(task_id__in=list(ids.values()))}
    found: list[Difference] = []
    for task in plan.tasks:
        ours = schedules.get(ids[task.uid])
        if ours is None or task.uid in summaries:
            continue
        pairs = [
            ("earlyStart", task.early_start, ours.early_start),
            ("earlyFinish", task.early_finish, ours.early_finish),
        ]
        for name, theirs, mine in pairs:
            if theirs is not None and theirs != mine:
                found.append(Difference(task.name, name, theirs.isoformat(), mine.isoformat()))
        slack = task.total_float_days
        if slack is not None and abs(slack - ours.total_float) > 1e-6:
            found.append(Difference(task.name, "totalFloat", f"{slack:g}", str(ours.total_float)))
    return found
