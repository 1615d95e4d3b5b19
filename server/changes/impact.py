"""The impact preview: the scheduler run on the plan as it stands and on a copy with the
request's edits applied, compared — finish, milestones, the critical set, and per department
the tasks that move and the float they lose. Computed, never typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

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


class Dated(NamedTuple):
    """One task's computed dates as day ordinals, its total float and whether critical."""

    early_start: int
    early_finish: int
    total_float: int
    critical: bool


def dated(schedule: cpm.Schedule) -> dict[int, Dated]:
    """Every task's figures from the schedule's columns (no row object per task)."""
    table = schedule.table
    assert table is not None
    columns = (table.ids, table.early_start, table.early_finish, table.total_float)
    return {
        tid: Dated(es, ef, tf, crit == 1)
        for tid, es, ef, tf, crit in zip(
            *(c.tolist() for c in columns), table.is_critical.tolist(), strict=True
        )
    }


def _iso(ordinal: int | None) -> str | None:
    return date.fromordinal(ordinal).isoformat() if ordinal else None


async def preview(project: Project, edits: list[dict[str, Any]]) -> dict[str, Any]:
    """The request's effect on the plan as it stands now (JSON, stored with the request)."""
    calendar = await working_calendar(project.id)
    plan = await Plan.of(project.id)
    changed, keys = plan.edited(edits)
    before_schedule = plan.schedule(project, calendar)
    try:
        after_schedule = changed.schedule(project, calendar)
    except cpm.CycleError as cycle:
        names = {tid: row["name"] for tid, row in changed.tasks.items()}
        raise Invalid(
            "These edits would make a cycle: %(tasks)s.",
            field="edits",
            tasks=" → ".join(str(names.get(t, t)) for t in cycle.cycle),
        ) from cycle
    before, after = dated(before_schedule), dated(after_schedule)
    critical_before = {t for t, d in before.items() if d.critical}
    critical_after = {t for t, d in after.items() if d.critical}
    comparison = _Comparison(plan, changed, before, after, calendar)
    finish_before, finish_after = before_schedule.finish, after_schedule.finish
    return {
        "finishBefore": finish_before.isoformat(),
        "finishAfter": finish_after.isoformat(),
        "deltaWorkingDays": working_day_delta(calendar, finish_before, finish_after),
        "milestones": comparison.milestones(),
        "criticalAdded": _named(changed, critical_after - critical_before),
        "criticalRemoved": _named(plan, critical_before - critical_after),
        "departments": comparison.by_department(await _department_names(plan, changed)),
        "taskVersions": {
            str(tid): plan.versions[tid]
            for tid in sorted(referenced_tasks(edits))
            if tid in plan.versions
        },
        "newTasks": keys,
        "editedDepartments": _edited_departments(plan, changed, edits),
        "charterSections": sorted({e["section"] for e in edits if e["op"] == "edit_charter"}),
    }


def _edited_departments(plan: Plan, changed: Plan, edits: list[dict[str, Any]]) -> list[int]:
    """Departments owning a task the edits add, remove or edit (before or after the edit)."""
    found: set[int] = set()
    for edit in edits:
        if edit["op"] == "add_task":
            found.add(int(edit["department_id"]))
        elif edit["op"] == "edit_resource":
            found.update(int(d) for d in edit.get("departments", []))
        elif edit["op"] in ("edit_task", "remove_task"):
            for p in (plan, changed):
                row = p.tasks.get(edit["task_id"])
                if row is not None and row.get("department_id"):
                    found.add(int(row["department_id"]))
    return sorted(found)


def _named(plan: Plan, ids: set[int]) -> list[dict[str, Any]]:
    return [{"id": tid, "name": plan.tasks[tid]["name"]} for tid in sorted(ids)]


@dataclass
class _Comparison:
    plan: Plan
    changed: Plan
    before: dict[int, Dated]
    after: dict[int, Dated]
    calendar: WorkingCalendar

    def delta(self, old: int, new: int) -> int:
        return working_day_delta(self.calendar, date.fromordinal(old), date.fromordinal(new))

    def task(self, tid: int) -> dict[str, Any]:
        return self.changed.tasks.get(tid) or self.plan.tasks[tid]

    def milestones(self) -> list[dict[str, Any]]:
        ids = {t for t, r in self.plan.tasks.items() if r["is_milestone"]}
        ids |= {t for t, r in self.changed.tasks.items() if r["is_milestone"]}
        moved = []
        for tid in sorted(ids):
            old, new = self.before.get(tid), self.after.get(tid)
            old_day = old.early_finish if old else None
            new_day = new.early_finish if new else None
            if old_day != new_day:
                moved.append(
                    {
                        "id": tid,
                        "name": self.task(tid)["name"],
                        "before": _iso(old_day),
                        "after": _iso(new_day),
                        "deltaWorkingDays": self.delta(old_day, new_day)
                        if old_day and new_day
                        else None,
                    }
                )
        return moved

    def by_department(self, names: dict[int, str]) -> list[dict[str, Any]]:
        """Per department: its tasks added, removed or moving, and the float they lose."""
        result: dict[int, dict[str, Any]] = {}

        def entry(department_id: int) -> dict[str, Any]:
            return result.setdefault(
                department_id,
                {
                    "departmentId": department_id,
                    "name": names.get(department_id, ""),
                    "tasksMoved": [],
                    "floatLost": 0,
                },
            )

        every = set(self.plan.tasks) | set(self.changed.tasks)
        for tid in sorted(every, key=lambda t: (t < 0, abs(t))):
            old, new = self.before.get(tid), self.after.get(tid)
            task = self.task(tid)
            department = task.get("department_id")
            if department is None:
                continue
            lost = max(0, old.total_float - new.total_float) if old and new else 0
            same_place = (
                old is not None
                and new is not None
                and ((old.early_start, old.early_finish) == (new.early_start, new.early_finish))
                and self.plan.tasks[tid].get("department_id") == department
            )
            if same_place:
                if lost:
                    entry(department)["floatLost"] += lost
                continue
            moved = {
                "id": tid,
                "name": task["name"],
                "before": _iso(old.early_finish) if old else None,
                "after": _iso(new.early_finish) if new else None,
                "delta": self.delta(old.early_finish, new.early_finish) if old and new else None,
            }
            target = entry(department)
            target["tasksMoved"].append(moved)
            target["floatLost"] += lost
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
