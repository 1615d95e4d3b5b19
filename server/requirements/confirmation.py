"""The collaboration confirmation (跨部门协作确认书) written from the rows: each department's
accepted requirements, committed resources and resolved gaps; and the refusal to send it for
signing while a department still has something open."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from server.domain_events import ConfirmationToBeSent, handles
from server.errors import Invalid
from server.i18n import gettext as _
from server.i18n import ngettext, speaking, translate
from server.org.models import Department
from server.projects.models import Project, ProjectDepartment
from server.requirements.models import (
    GAP_RESOLUTION_LABELS,
    PRIORITY_LABELS,
    RESOURCE_KIND_LABELS,
    UNRESOLVED_GAPS,
    ConflictStatus,
    GapState,
    Requirement,
    RequirementConflict,
    RequirementStatus,
    ResourceRequest,
    ResourceStatus,
)
from server.settings import get_settings
from server.signoffs import content
from server.signoffs import service as signoffs


def money(amount: Decimal | None, currency: str) -> str:
    return f"{currency} {amount:,.2f}" if amount is not None else ""


def quantity(request: ResourceRequest) -> str:
    number = request.quantity.normalize() if request.quantity is not None else ""
    return f"{number:f} {request.unit}".strip() if number != "" else ""


def _row(cells: list[str]) -> str:
    # A "|" inside a cell would split it: the row keeps its columns.
    return content.GENERATED_SEPARATOR.join(
        cell.replace("|", "/").replace("\n", " ") for cell in cells
    )


def requirement_line(requirement: Requirement, names: dict[int, str]) -> str:
    return _row(
        [
            _(PRIORITY_LABELS[requirement.priority]),
            requirement.title,
            names[requirement.asked_of_id] if requirement.asked_of_id else "",
            requirement.acceptance_criterion,
            requirement.needed_by.isoformat() if requirement.needed_by else "",
        ]
    )


def resource_line(request: ResourceRequest, names: dict[int, str]) -> str:
    supplier = names[request.supplier_id] if request.supplier_id else _("project budget")
    return _row(
        [
            _(RESOURCE_KIND_LABELS[request.kind]),
            request.description,
            quantity(request),
            money(request.amount, request.currency),
            supplier,
        ]
    )


def gap_line(request: ResourceRequest, names: dict[int, str]) -> str:
    assert request.gap_resolution is not None
    return _row(
        [
            request.description,
            _(GAP_RESOLUTION_LABELS[request.gap_resolution]),
            names[request.gap_from_id] if request.gap_from_id else "",
            request.gap_note,
            request.management_comment,
        ]
    )


async def generated_parts(project: Project) -> dict[int, dict[str, str]]:
    """Per department, the lines the confirmation lists, in the company's language."""
    names = dict(await Department.all().values_list("id", "name"))
    accepted = await Requirement.filter(project_id=project.id, status=RequirementStatus.ACCEPTED)
    requests = await ResourceRequest.filter(project_id=project.id)
    lines: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    with speaking(get_settings().default_language):
        for r in accepted:
            lines[r.department_id]["acceptedRequirements"].append(requirement_line(r, names))
        for q in requests:
            if q.status == ResourceStatus.COMMITTED:
                lines[q.department_id]["committedResources"].append(resource_line(q, names))
            if q.gap_state == GapState.RESOLVED and q.gap_resolution is not None:
                lines[q.department_id]["resolvedGaps"].append(gap_line(q, names))
    return {
        dept: {part: "\n".join(text) for part, text in parts.items()}
        for dept, parts in lines.items()
    }


async def refresh(project: Project) -> None:
    """Write the generated parts into the confirmation (a signed one gets a new version)."""
    await signoffs.write_generated_parts(
        project, await generated_parts(project), get_settings().default_language
    )


async def review_decision_text(requirement: Requirement, language: str) -> str:
    """The meeting decision a review in a requirement-review meeting records."""
    if requirement.status == RequirementStatus.ACCEPTED:
        return translate(language, "Requirement accepted: %(title)s", title=requirement.title)
    if requirement.status == RequirementStatus.REJECTED:
        return translate(
            language,
            "Requirement rejected: %(title)s (%(reason)s)",
            title=requirement.title,
            reason=requirement.decision_reason,
        )
    into = await Requirement.get(id=requirement.merged_into_id)
    return translate(
        language,
        "Requirement merged: %(title)s into %(into)s",
        title=requirement.title,
        into=into.title,
    )


def _open_item_words(kind: str, n: int) -> str:
    if kind == "requirement":
        return ngettext(
            "%(num)s requirement awaiting review", "%(num)s requirements awaiting review", n, num=n
        )
    if kind == "conflict":
        return ngettext("%(num)s open conflict", "%(num)s open conflicts", n, num=n)
    return ngettext("%(num)s unresolved resource gap", "%(num)s unresolved resource gaps", n, num=n)


async def _open_items(project_id: int) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    unreviewed = await Requirement.filter(
        project_id=project_id, status=RequirementStatus.FILED
    ).values_list("department_id", flat=True)
    gaps = await ResourceRequest.filter(
        project_id=project_id, gap_state__in=list(UNRESOLVED_GAPS)
    ).values_list("department_id", flat=True)
    conflicts = await RequirementConflict.filter(
        project_id=project_id, status=ConflictStatus.OPEN
    ).values_list("requirement_a__department_id", flat=True)
    for kind, rows in (("requirement", unreviewed), ("gap", gaps), ("conflict", conflicts)):
        for department_id in rows:
            counts[int(str(department_id))][kind] += 1
    return counts


@handles(ConfirmationToBeSent)
async def refuse_while_open(event: ConfirmationToBeSent) -> None:
    """Every requirement reviewed, no conflict open, no gap unresolved — else say, per
    department, what is still open."""
    counts = await _open_items(event.project_id)
    if not counts:
        return
    names = dict(
        await ProjectDepartment.filter(project_id=event.project_id).values_list(
            "department_id", "department__name"
        )
    )
    with speaking(get_settings().default_language):
        summary = "；".join(
            f"{names.get(dept, dept)}: "
            + "、".join(_open_item_words(kind, n) for kind, n in sorted(items.items()))
            for dept, items in sorted(counts.items())
        )
    raise Invalid(
        "Review every requirement, settle every conflict and resolve every resource gap "
        "before sending the confirmation for signing. Still open: %(items)s.",
        field="documentId",
        items=summary,
    )
