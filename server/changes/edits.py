"""The edits a change request proposes, as operations on the plan: checked one by one against
the plan as it stands (fields named `edit-N-…`), stored as plain JSON, and applied to an
in-memory copy of the plan for the impact preview.

Operations (the "op" key):
- add_task: key, name, department_id, owner_id?, planned_start, duration_days, is_milestone?,
  parent_id? (a phase that already has tasks)
- edit_task: task_id and any of name, planned_start, duration_days, owner_id, department_id
- remove_task: task_id, cancel (required when progress was reported on it)
- add_link: predecessor, successor (a task id, or the key of a task the request adds), type,
  lag
- remove_link: predecessor, successor
- edit_resource: resource_id and any of quantity, amount (CNY), needed_by
- edit_charter: section (goals, scopeIn, scopeOut, milestones, successCriteria) and its new
  value (text, or rows; rows may come as lines of "a | b")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from server.changes import charter
from server.errors import Invalid
from server.planning.models import Dependency, DependencyType, Task
from server.projects.models import ProjectDepartment, ProjectMember
from server.requirements.models import ResourceRequest
from server.validation import Checks

RESOURCE_CHANGES = ("quantity", "amount", "needed_by")
OPERATIONS = (
    "add_task",
    "edit_task",
    "remove_task",
    "add_link",
    "remove_link",
    "edit_charter",
    "edit_resource",
)
MAX_EDITS = 200
MAX_DURATION = 2000
TASK_FIELDS = ("name", "planned_start", "duration_days", "owner_id", "department_id")


@dataclass
class PlanFacts:
    """What checking edits needs to know of the plan, read once."""

    tasks: dict[int, dict[str, Any]]
    summaries: set[int]
    links: set[tuple[int, int]]
    departments: set[int]
    members: set[int]
    # Resource requests: id → (requesting department, supplying department or None).
    resources: dict[int, tuple[int, int | None]] = field(default_factory=dict)

    @classmethod
    async def of(cls, project_id: int) -> PlanFacts:
        tasks = {
            int(row["id"]): row
            for row in await Task.filter(project_id=project_id).values(
                "id", "parent_id", "name", "department_id", "percent_complete", "actual_start",
                "version", "is_milestone",
            )
        }  # fmt: skip
        links = await Dependency.filter(project_id=project_id).values_list(
            "predecessor_id", "successor_id"
        )
        departments = await ProjectDepartment.filter(project_id=project_id).values_list(
            "department_id", flat=True
        )
        members = await ProjectMember.filter(
            project_id=project_id, left_at__isnull=True
        ).values_list("user_id", flat=True)
        resources = await ResourceRequest.filter(project_id=project_id).values_list(
            "id", "department_id", "supplier_id"
        )
        return cls(
            resources={int(i): (int(d), int(s) if s else None) for i, d, s in resources},
            tasks=tasks,
            summaries={int(t["parent_id"]) for t in tasks.values() if t["parent_id"]},
            links={(int(p), int(s)) for p, s in links},
            departments={int(str(d)) for d in departments},
            members={int(str(m)) for m in members},
        )


@dataclass
class _Checker:
    facts: PlanFacts
    checks: Checks = field(default_factory=Checks)
    keys: set[str] = field(default_factory=set)
    added_links: set[tuple[str, str]] = field(default_factory=set)

    def field(self, n: int, name: str) -> str:
        return f"edit-{n}-{name}"

    def task(self, n: int, value: Any, *, leaf: bool = True) -> int | None:
        task_id = _int(value)
        if task_id is None or task_id not in self.facts.tasks:
            self.checks.fail(self.field(n, "taskId"), "No such task in this project.")
            return None
        if leaf and task_id in self.facts.summaries:
            self.checks.fail(
                self.field(n, "taskId"), "Change the tasks inside a phase, not the phase."
            )
            return None
        return task_id

    def end(self, n: int, name: str, value: Any) -> str | None:
        """A link's end: an existing task's id, or the key of a task this request adds."""
        if isinstance(value, str) and value in self.keys:
            return value
        task_id = self.task(n, value)
        return None if task_id is None else str(task_id)

    def dates(self, n: int, edit: dict[str, Any], out: dict[str, Any], *, adding: bool) -> None:
        if adding or edit.get("planned_start") not in (None, ""):
            start = self.checks.day(self.field(n, "plannedStart"), edit.get("planned_start"))
            out["planned_start"] = start.isoformat() if isinstance(start, date) else None
        if adding or edit.get("duration_days") not in (None, ""):
            out["duration_days"] = self.checks.whole_number(
                self.field(n, "durationDays"),
                edit.get("duration_days", 0 if edit.get("is_milestone") else 1),
                low=0,
                high=MAX_DURATION,
            )

    def people(self, n: int, edit: dict[str, Any], out: dict[str, Any], *, adding: bool) -> None:
        department = _int(edit.get("department_id"))
        if department is not None or adding:
            if department not in self.facts.departments:
                self.checks.fail(
                    self.field(n, "departmentId"),
                    "This department does not take part in the project.",
                )
            out["department_id"] = department
        owner = _int(edit.get("owner_id"))
        if owner is not None:
            if owner not in self.facts.members:
                self.checks.fail(self.field(n, "ownerId"), "The owner must be on the project team.")
            out["owner_id"] = owner

    def add_task(self, n: int, edit: dict[str, Any]) -> dict[str, Any]:
        key = str(edit.get("key") or f"new-{n + 1}")[:20]
        if key in self.keys or key.isdigit():
            self.checks.fail(self.field(n, "key"), "Each new task needs its own key.")
        self.keys.add(key)
        out: dict[str, Any] = {"op": "add_task", "key": key}
        out["name"] = self.checks.text(self.field(n, "name"), edit.get("name"))
        out["is_milestone"] = bool(edit.get("is_milestone"))
        self.dates(n, edit, out, adding=True)
        if out["is_milestone"]:
            out["duration_days"] = 0
        self.people(n, edit, out, adding=True)
        parent = _int(edit.get("parent_id"))
        if parent is not None and parent not in self.facts.summaries:
            self.checks.fail(
                self.field(n, "parentId"), "Add it under a phase that already has tasks."
            )
        out["parent_id"] = parent
        return out

    def edit_task(self, n: int, edit: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "edit_task", "task_id": self.task(n, edit.get("task_id"))}
        if edit.get("name") not in (None, ""):
            out["name"] = self.checks.text(self.field(n, "name"), edit.get("name"))
        self.dates(n, edit, out, adding=False)
        self.people(n, edit, out, adding=False)
        if len(out) == 2:
            self.checks.fail(self.field(n, "taskId"), "Say what changes in this task.")
        return out

    def remove_task(self, n: int, edit: dict[str, Any]) -> dict[str, Any]:
        task_id = self.task(n, edit.get("task_id"))
        cancel = bool(edit.get("cancel"))
        if task_id is not None and not cancel:
            row = self.facts.tasks[task_id]
            if row["percent_complete"] or row["actual_start"]:
                self.checks.fail(
                    self.field(n, "taskId"),
                    "Progress was reported on this task: cancel it instead of removing it.",
                )
        return {"op": "remove_task", "task_id": task_id, "cancel": cancel}

    def add_link(self, n: int, edit: dict[str, Any]) -> dict[str, Any]:
        predecessor = self.end(n, "predecessor", edit.get("predecessor"))
        successor = self.end(n, "successor", edit.get("successor"))
        kind = str(edit.get("type") or "FS").upper()
        if kind not in DependencyType.__members__:
            self.checks.fail(self.field(n, "type"), "Use FS, SS, FF or SF.")
        lag = self.checks.whole_number(
            self.field(n, "lag"), edit.get("lag") or 0, low=-MAX_DURATION, high=MAX_DURATION
        )
        if predecessor is not None and successor is not None:
            pair = (predecessor, successor)
            if predecessor == successor:
                self.checks.fail(self.field(n, "successor"), "A task cannot depend on itself.")
            elif pair in self.added_links or (
                predecessor.isdigit()
                and successor.isdigit()
                and (int(predecessor), int(successor)) in self.facts.links
            ):
                self.checks.fail(self.field(n, "successor"), "These tasks are already linked.")
            self.added_links.add(pair)
        return {
            "op": "add_link",
            "predecessor": predecessor,
            "successor": successor,
            "type": kind,
            "lag": lag,
        }

    def edit_resource(self, n: int, edit: dict[str, Any]) -> dict[str, Any]:
        resource = _int(edit.get("resource_id"))
        if resource is None or resource not in self.facts.resources:
            self.checks.fail(self.field(n, "resourceId"), "No such resource request here.")
            resource = None
        out: dict[str, Any] = {"op": "edit_resource", "resource_id": resource}
        if edit.get("quantity") not in (None, ""):
            quantity = _decimal(edit["quantity"])
            if quantity is None or quantity <= 0:
                self.checks.fail(self.field(n, "quantity"), "Enter a quantity above zero.")
            out["quantity"] = str(quantity)
        if edit.get("amount") not in (None, ""):
            amount = _decimal(edit["amount"])
            if amount is None or amount < 0:
                self.checks.fail(self.field(n, "amount"), "Enter an amount in CNY, like 12000.")
            out["amount"] = str(amount)
        if edit.get("needed_by") not in (None, ""):
            day = self.checks.day(self.field(n, "neededBy"), edit["needed_by"])
            out["needed_by"] = day.isoformat() if day else None
        if not set(out) & set(RESOURCE_CHANGES):
            self.checks.fail(self.field(n, "resourceId"), "Say what changes in this request.")
        if resource is not None:
            requester, supplier = self.facts.resources[resource]
            out["departments"] = sorted({requester, *([supplier] if supplier else [])})
        return out

    def edit_charter(self, n: int, edit: dict[str, Any]) -> dict[str, Any]:
        section = str(edit.get("section") or "")
        if section not in charter.CHANGEABLE:
            self.checks.fail(self.field(n, "section"), "Choose the part of the charter.")
        value = charter.section_value(section, edit.get("value", ""))
        return {"op": "edit_charter", "section": section, "value": value}

    def remove_link(self, n: int, edit: dict[str, Any]) -> dict[str, Any]:
        predecessor = self.task(n, edit.get("predecessor"))
        successor = self.task(n, edit.get("successor"))
        if (
            predecessor is not None
            and successor is not None
            and (predecessor, successor) not in self.facts.links
        ):
            self.checks.fail(self.field(n, "successor"), "These tasks are not linked.")
        return {"op": "remove_link", "predecessor": predecessor, "successor": successor}


def _decimal(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or abs(amount) >= Decimal("1e10"):
        return None
    return amount.quantize(Decimal("0.01"))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def checked_edits(facts: PlanFacts, raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The edits as stored, every refusal on its `edit-N-…` field; nothing kept on any error.
    New tasks come first so links may name them whatever order they were written in."""
    if len(raw) > MAX_EDITS:
        raise Invalid("At most 200 edits in one change request.", field="edits")
    checker = _Checker(facts)
    ordered = sorted(enumerate(raw), key=lambda pair: pair[1].get("op") != "add_task")
    result: list[tuple[int, dict[str, Any]]] = []
    for n, edit in ordered:
        op = edit.get("op")
        if op not in OPERATIONS:
            checker.checks.fail(checker.field(n, "op"), "Choose what the edit does.")
            continue
        result.append((n, getattr(checker, str(op))(n, edit)))
    checker.checks.done()
    return [edit for _, edit in sorted(result, key=lambda pair: pair[0])]


def referenced_tasks(edits: list[dict[str, Any]]) -> set[int]:
    """Existing tasks the edits change or link: their versions bind the preview."""
    ids: set[int] = set()
    for edit in edits:
        for key in ("task_id", "predecessor", "successor"):
            value = edit.get(key)
            if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
                ids.add(int(value))
    return ids
