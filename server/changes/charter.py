"""Charter edits in a change request: the goals, scope, milestones and success criteria it
replaces, checked as the charter's own editor checks them, applied as the charter's next
version (which the heads sign again, as for any change to the charter)."""

from __future__ import annotations

from typing import Any

from server.auth import Actor
from server.projects.models import Project
from server.projects.service import list_participating_departments
from server.signoffs import bodies
from server.signoffs.content import CHARTER_SECTIONS, normalized
from server.signoffs.drafting import ensure_document
from server.signoffs.models import DocumentKind, DocumentVersion
from server.signoffs.service import write_report_body

# What a change request may change in the charter (not its background or core team).
CHANGEABLE = ("goals", "scopeIn", "scopeOut", "milestones", "successCriteria")
COLUMNS = {s.key: s.columns for s in CHARTER_SECTIONS}
LABELS = {s.key: s.label for s in CHARTER_SECTIONS if s.key in CHANGEABLE}


def section_value(section: str, value: Any) -> Any:
    """A list section may come as lines of "a | b" (a form's text area)."""
    columns = COLUMNS.get(section)
    if columns is None or not isinstance(value, str):
        return value
    rows = []
    for line in value.splitlines():
        if line.strip():
            parts = [p.strip() for p in line.split("|")]
            rows.append(dict(zip(columns, parts + [""] * len(columns), strict=False)))
    return rows


async def current_charter(project: Project, language: str) -> dict[str, Any]:
    document = await ensure_document(project, DocumentKind.CHARTER, language)
    version = await DocumentVersion.get(document_id=document.id, number=document.current_number)
    return normalized(version.body)  # type: ignore[no-any-return]


def with_edits(body: dict[str, Any], edits: list[dict[str, Any]]) -> dict[str, Any]:
    changed = dict(body)
    for edit in edits:
        if edit["op"] == "edit_charter":
            changed[edit["section"]] = edit["value"]
    return changed


async def checked(project: Project, edits: list[dict[str, Any]], language: str) -> None:
    """Refuses charter edits the charter's editor would refuse (on the section's field)."""
    if not any(e["op"] == "edit_charter" for e in edits):
        return
    body = await current_charter(project, language)
    required = (await list_participating_departments([project.id]))[project.id]
    bodies.checked_body(DocumentKind.CHARTER, with_edits(body, edits), required, body)


async def apply(actor: Actor, project: Project, edits: list[dict[str, Any]]) -> dict[str, Any]:
    """The charter's next version with the sections replaced; before and after of each."""
    body = await current_charter(project, actor.language)
    changed = with_edits(body, edits)
    await write_report_body(actor, project, DocumentKind.CHARTER, changed)
    sections = sorted({e["section"] for e in edits if e["op"] == "edit_charter"})
    return {
        "op": "edit_charter",
        "before": {s: body.get(s) for s in sections},
        "after": {s: changed.get(s) for s in sections},
    }
