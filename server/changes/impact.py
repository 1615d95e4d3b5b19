"""The impact preview: the scheduler run on the plan as it stands and on a copy with the
request's edits applied, compared — finish, milestones, the critical set, and per department
the tasks that move and the float they lose. Computed, never typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from server.changes.edits import referenced_tasks
from server.errors import Invalid
from server.org.models import Department
from server.planning import cpm
from server.planning.calendar import WorkingCalendar
from server.planning.models import Dependency, Task
from server.planning.scheduling import options_of, working_calendar
from server.projects.models import Project

_TASK_COLUMNS = (
    "id", "parent_id", "name", "department_id", "planned_start", "duration_days",
    "actual_start", "actual_finish", "percent_complete", "remaining_duration_days", "version",
    "is_milestone",
)  # fmt: skip


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass
class Plan:
    """The leaf tasks and links of a project, as the scheduler and the comparison need them."""

    tasks: dict[int, dict[str, Any]]
    links: dict[tuple[int, int], tuple[str, int]]
    versions: dict[int, int]

    @classmethod
    async def of(cls, project_id: int) -> Plan:
        rows = await Task.filter(project_id=project_id).values(*_TASK_COLUMNS)
        parents = {row["parent_id"] for row in rows if row["parent_id"]}
        links = await Dependency.filter(project_id=project_id).values_list(
            "predecessor_id", "successor_id", "type", "lag_days"
        )
        return cls(
            tasks={int(r["id"]): dict(r) for r in rows if r["id"] not in parents},
            links={(int(p), int(s)): (str(t), int(lag)) for p, s, t, lag in links},
            versions={int(r["id"]): int(r["version"]) for r in rows},
        )

    def edited(self, edits: list[dict[str, Any]]) -> tuple[Plan, dict[str, int]]:
        """A copy with the edits applied; new tasks get negative ids, by their keys."""
        tasks = {tid: dict(row) for tid, row in self.tasks.items()}
        links = dict(self.links)
        keys: dict[str, int] = {}
        for edit in (e for e in edits if e["op"] == "add_task"):
            new_id = -(len(keys) + 1)
            keys[edit["key"]] = new_id
            tasks[new_id] = {
                "id": new_id,
                "name": edit["name"],
                "department_id": edit["department_id"],
                "planned_start": _day(edit["planned_start"]),
                "duration_days": edit["duration_days"],
                "actual_start": None,
                "actual_finish": None,
                "percent_complete": 0,
                "remaining_duration_days": None,
                "is_milestone": edit["is_milestone"],
            }

        def end(value: Any) -> int:
            return keys[value] if value in keys else int(value)

        for edit in edits:
            op = edit["op"]
            if op == "edit_task":
                row = tasks[edit["task_id"]]
                row.update({k: v for k, v in edit.items() if k not in ("op", "task_id")})
                row["planned_start"] = _day(row["planned_start"])
            elif op == "remove_task":
                tasks.pop(edit["task_id"], None)
                links = {pair: v for pair, v in links.items() if edit["task_id"] not in pair}
            elif op == "add_link":
                links[(end(edit["predecessor"]), end(edit["successor"]))] = (
                    edit["type"],
                    edit["lag"],
                )
            elif op == "remove_link":
                links.pop((edit["predecessor"], edit["successor"]), None)
        return Plan(tasks=tasks, links=links, versions=self.versions), keys

    def schedule(self, project: Project, calendar: WorkingCalendar) -> cpm.Schedule:
        plan_tasks = [
            cpm.PlanTask(
                id=tid,
                duration=int(row["duration_days"] or 0),
                not_before=_day(row["planned_start"]),
                actual_start=_day(row["actual_start"]),
                actual_finish=_day(row["actual_finish"]),
                percent_complete=int(row["percent_complete"] or 0),
                remaining=None if row["actual_finish"] else row["remaining_duration_days"],
            )
            for tid, row in self.tasks.items()
        ]
        plan_links = [
            cpm.Link(p, s, cpm.LinkType(kind), lag) for (p, s), (kind, lag) in self.links.items()
        ]
        return cpm.schedule(
            plan_tasks, plan_links, project.start_date, calendar, options_of(project)
        )


def working_day_delta(calendar: WorkingCalendar, before: date, after: date) -> int:
    if after >= before:
        return calendar.working_days_between(before, after)
    return -calendar.working_days_between(after, before)


async def preview(project: Project, edits: list[dict[str, Any]]) -> dict[str, Any]:
    """The request's effect on the plan as it stands now (JSON, stored with the request)."""
    calendar = await working_calendar(project.id)
    plan = await Plan.of(project.id)
    changed, keys = plan.edited(edits)
    before = plan.schedule(project, calendar)
    try:
        after = changed.schedule(project, calendar)
    except cpm.CycleError as cycle:
        names = {tid: row["name"] for tid, row in changed.tasks.items()}
        raise Invalid(
            "These edits would make a cycle: %(tasks)s.",
            field="edits",
            tasks=" → ".join(str(names.get(t, t)) for t in cycle.cycle),
        ) from cycle
    departments = await _department_names(plan, changed)
    return {
        "finishBefore": before.finish.isoformat(),
        "finishAfter": after.finish.isoformat(),
        "deltaWorkingDays": working_day_delta(calendar, before.finish, after.finish),
        "milestones": _milestones(plan, changed, before, after, calendar),
        "criticalAdded": _named(changed, _critical(after) - _critical(before)),
        "criticalRemoved": _named(plan, _critical(before) - _critical(after)),
        "departments": _by_department(plan, changed, before, after, calendar, departments),
        "taskVersions": {
            str(tid): plan.versions[tid]
            for tid in sorted(referenced_tasks(edits))
            if tid in plan.versions
        },
        "newTasks": keys,
        "editedDepartments": _edited_departments(plan, changed, edits),
    }


def _edited_departments(plan: Plan, changed: Plan, edits: list[dict[str, Any]]) -> list[int]:
    """Departments owning a task the edits add, remove or edit (before or after the edit)."""
    found: set[int] = set()
    for edit in edits:
        if edit["op"] == "add_task":
            found.add(int(edit["department_id"]))
        elif edit["op"] in ("edit_task", "remove_task"):
            for p in (plan, changed):
                row = p.tasks.get(edit["task_id"])
                if row is not None and row.get("department_id"):
                    found.add(int(row["department_id"]))
    return sorted(found)


def _critical(schedule: cpm.Schedule) -> set[int]:
    return {tid for tid, row in schedule.tasks.items() if row.is_critical}


def _named(plan: Plan, ids: set[int]) -> list[dict[str, Any]]:
    return [{"id": tid, "name": plan.tasks[tid]["name"]} for tid in sorted(ids)]


def _milestones(
    plan: Plan,
    changed: Plan,
    before: cpm.Schedule,
    after: cpm.Schedule,
    calendar: WorkingCalendar,
) -> list[dict[str, Any]]:
    moved = []
    ids = {t for t, r in plan.tasks.items() if r["is_milestone"]}
    ids |= {t for t, r in changed.tasks.items() if r["is_milestone"]}
    for tid in sorted(ids):
        old = before.tasks[tid].early_finish if tid in before.tasks else None
        new = after.tasks[tid].early_finish if tid in after.tasks else None
        if old != new:
            name = (changed.tasks.get(tid) or plan.tasks[tid])["name"]
            delta = working_day_delta(calendar, old, new) if old and new else None
            moved.append(
                {
                    "id": tid,
                    "name": name,
                    "before": old.isoformat() if old else None,
                    "after": new.isoformat() if new else None,
                    "deltaWorkingDays": delta,
                }
            )
    return moved


def _by_department(
    plan: Plan,
    changed: Plan,
    before: cpm.Schedule,
    after: cpm.Schedule,
    calendar: WorkingCalendar,
    names: dict[int, str],
) -> list[dict[str, Any]]:
    """Per department: its tasks added, removed or moving, and the float they lose."""
    result: dict[int, dict[str, Any]] = {}

    def entry(department_id: int | None) -> dict[str, Any] | None:
        if department_id is None:
            return None
        return result.setdefault(
            department_id,
            {
                "departmentId": department_id,
                "name": names.get(department_id, ""),
                "tasksMoved": [],
                "floatLost": 0,
            },
        )

    for tid in sorted(set(plan.tasks) | set(changed.tasks), key=lambda t: (t < 0, abs(t))):
        old_row, new_row = before.tasks.get(tid), after.tasks.get(tid)
        task = changed.tasks.get(tid) or plan.tasks[tid]
        moved = {"id": tid, "name": task["name"], "before": None, "after": None, "delta": None}
        if old_row:
            moved["before"] = old_row.early_finish.isoformat()
        if new_row:
            moved["after"] = new_row.early_finish.isoformat()
        if old_row and new_row:
            if (old_row.early_start, old_row.early_finish) == (
                new_row.early_start,
                new_row.early_finish,
            ) and plan.tasks[tid].get("department_id") == task.get("department_id"):
                lost = old_row.total_float - new_row.total_float
                department = entry(task.get("department_id")) if lost > 0 else None
                if department is not None:
                    department["floatLost"] += lost
                continue
            moved["delta"] = working_day_delta(calendar, old_row.early_finish, new_row.early_finish)
        department = entry(task.get("department_id"))
        if department is None:
            continue
        department["tasksMoved"].append(moved)
        if old_row and new_row:
            department["floatLost"] += max(0, old_row.total_float - new_row.total_float)
    return [result[d] for d in sorted(result, key=lambda d: names.get(d, ""))]


async def _department_names(plan: Plan, changed: Plan) -> dict[int, str]:
    ids = {
        int(row["department_id"])
        for p in (plan, changed)
        for row in p.tasks.values()
        if row.get("department_id")
    }
    rows = await Department.filter(id__in=list(ids)).values_list("id", "name")
    return {int(i): str(n) for i, n in rows}


def affected_departments(impact: dict[str, Any], named: list[int]) -> list[int]:
    """Every department owning a task the edits add, remove, edit or move, and those named."""
    touched = {int(d["departmentId"]) for d in impact.get("departments", []) if d["tasksMoved"]}
    return sorted(touched | set(impact.get("editedDepartments", [])) | set(named))
