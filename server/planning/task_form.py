"""What one task's form reads of the rest of the plan: the phases it may go under, the tasks
its predecessor picker offers first (the nearest in the outline), what was typed in the
picker's search, and its links with their predecessors' codes and names. Fixed statements
whose cost does not grow with the plan: the form is opened by a tap and swapped in for one
row of a plan of hundreds of tasks (bench/reads.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from server.db import Statement
from server.planning.models import DependencyType, Task
from server.planning.queries import PlanLink
from server.projects.models import Project


# Tuples, not frozen dataclasses: a frozen dataclass sets each field through
# object.__setattr__, and a 500-task plan's form builds a thousand of these.
class OutlineTask(NamedTuple):
    id: int
    parent_id: int | None
    wbs_code: str
    name: str
    is_milestone: bool


class OutlineRow(NamedTuple):
    """A task as the pickers of another task's form list it (phase, predecessor)."""

    task: OutlineTask
    is_summary: bool


_CHOICE_COLUMNS = "t.id, t.parent_id, t.wbs_code, t.name, t.is_milestone"
_IS_LEAF = "NOT EXISTS (SELECT 1 FROM task c WHERE c.parent_id = t.id)"

# Phases (tasks with children) and top-level tasks, never a milestone: what a task may be
# put under. A plan has tens of these where it has hundreds of tasks.
PHASE_CHOICES = Statement(
    Task,
    f"""SELECT {_CHOICE_COLUMNS}, EXISTS (SELECT 1 FROM task c WHERE c.parent_id = t.id),
        t.wbs_key AS k FROM task t
    WHERE t.project_id = ? AND t.parent_id IS NULL AND NOT t.is_milestone
    UNION ALL
    SELECT {_CHOICE_COLUMNS}, TRUE, t.wbs_key AS k FROM task t
    WHERE t.id IN (SELECT DISTINCT parent_id FROM task
                   WHERE project_id = ? AND parent_id IS NOT NULL)
      AND t.parent_id IS NOT NULL AND NOT t.is_milestone""",  # noqa: S608 - constant columns
)
# The leaf tasks nearest a task in the outline, most before it (a predecessor usually comes
# earlier): what its predecessor picker offers before anything is typed.
NEARBY_LEAVES = Statement(
    Task,
    f"""SELECT * FROM (SELECT {_CHOICE_COLUMNS}, 0 AS side, t.wbs_key AS k FROM task t
        WHERE t.project_id = ? AND (t.wbs_key, t.id) < (?, ?) AND {_IS_LEAF}
        ORDER BY t.wbs_key DESC, t.id DESC LIMIT 15) AS before_it
    UNION ALL
    SELECT * FROM (SELECT {_CHOICE_COLUMNS}, 1 AS side, t.wbs_key AS k FROM task t
        WHERE t.project_id = ? AND (t.wbs_key, t.id) > (?, ?) AND {_IS_LEAF}
        ORDER BY t.wbs_key, t.id LIMIT 5) AS after_it
    ORDER BY k, id""",  # noqa: S608 - constant columns
)
# Leaf tasks whose WBS code starts with, or whose name holds, what was typed.
MATCHING_LEAVES = Statement(
    Task,
    f"""SELECT {_CHOICE_COLUMNS} FROM task t
    WHERE t.project_id = ? AND t.id <> ? AND {_IS_LEAF}
      AND (t.wbs_code LIKE ? ESCAPE '!' OR LOWER(t.name) LIKE ? ESCAPE '!')
    ORDER BY t.wbs_key, t.id LIMIT ?""",  # noqa: S608 - constant columns
)
# A task's links, each with its predecessor's code and name, in the order they were made.
LINKS_WITH_PREDECESSORS = Statement(
    Task,
    f"""SELECT {_CHOICE_COLUMNS}, d.type, d.lag_days FROM dependency d
    JOIN task t ON t.id = d.predecessor_id WHERE d.successor_id = ? ORDER BY d.id""",  # noqa: S608 - constant columns
)
PREDECESSORS_FOUND_AT_MOST = 30


def _outline_order(row: tuple[Any, ...]) -> tuple[str, int]:
    """(wbs_key, id) of a row whose last column is the sort key."""
    return (row[-1] or "", int(row[0]))


def _outline_rows(rows: list[tuple[Any, ...]], is_summary: bool = False) -> list[OutlineRow]:
    return [
        OutlineRow(
            OutlineTask(int(row[0]), row[1], row[2], row[3], bool(row[4])),
            bool(row[5]) if is_summary else False,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class TaskForm:
    """What one task's form needs of the others: the phases it may go under, the tasks its
    predecessor picker offers first (the nearest, not the whole plan: the rest are found
    by typing), and its links with their predecessors' codes and names."""

    task: Task
    is_summary: bool
    links: list[PlanLink]
    phases: list[OutlineRow]
    nearby: list[OutlineRow]
    nearest_before: int | None  # the likeliest predecessor, chosen to start with
    linked: list[OutlineRow]


async def task_form(project: Project, task: Task) -> TaskForm:
    """A task's form, read in a handful of statements whose cost does not grow with the plan
    (a 500-task plan's form is opened by a tap and swapped in for one row)."""
    # Put in outline order here: asked to sort, SQLite reads the project's every task
    # through the (project, wbs_key) index rather than the few through (project, parent).
    found = sorted(await PHASE_CHOICES.rows(project.id, project.id), key=_outline_order)
    phases = _outline_rows(found, is_summary=True)
    is_summary = any(row.task.id == task.id and row.is_summary for row in phases)
    nearby, nearest_before = ([], None) if is_summary else await nearest_leaves(project, task)
    linked = await LINKS_WITH_PREDECESSORS.rows(task.id)
    return TaskForm(
        task,
        is_summary,
        [PlanLink(int(r[0]), task.id, DependencyType(r[5]), int(r[6])) for r in linked],
        [row for row in phases if row.task.id != task.id],
        nearby,
        nearest_before,
        _outline_rows(linked),
    )


async def nearest_leaves(project: Project, task: Task) -> tuple[list[OutlineRow], int | None]:
    """The leaf tasks nearest the task in the outline, and the one just before it."""
    key = (task.wbs_key or "", task.id)
    nearby = await NEARBY_LEAVES.rows(project.id, *key, project.id, *key)
    before = [row for row in nearby if row[5] == 0]
    return _outline_rows(nearby), int(before[-1][0]) if before else None


async def predecessor_choices(
    project: Project, task: Task, typed: str
) -> tuple[list[OutlineRow], int | None]:
    """What the predecessor picker offers for what was typed, and which is chosen: the
    matches, the first chosen; with nothing typed, the nearest tasks again."""
    if not typed.strip():
        return await nearest_leaves(project, task)
    found = await matching_predecessors(project, task, typed)
    return found, found[0].task.id if found else None


async def matching_predecessors(project: Project, task: Task, typed: str) -> list[OutlineRow]:
    """Leaf tasks of the plan other than this one whose WBS code starts with, or whose name
    holds, what was typed (any case), in outline order, at most PREDECESSORS_FOUND_AT_MOST."""
    escaped = typed.strip().lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    found = await MATCHING_LEAVES.rows(
        project.id, task.id, f"{escaped}%", f"%{escaped}%", PREDECESSORS_FOUND_AT_MOST
    )
    return _outline_rows(found)
