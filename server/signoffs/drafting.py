"""The first version of a project's charter or collaboration confirmation, drafted from the
project the first time the document is opened."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.db import with_related
from server.i18n import translate
from server.planning import queries as planning_queries
from server.projects.models import (
    ROLE_LABELS,
    Project,
    ProjectMember,
    Role,
)
from server.projects.service import list_participating_departments
from server.signoffs import content
from server.signoffs.models import (
    DocumentKind,
    DocumentVersion,
    SignableDocument,
)

# --- the first version, pre-filled from the project -------------------------------------


async def _charter_from_project(project: Project, language: str) -> dict[str, Any]:
    body = content.empty_charter()
    body["background"] = project.background
    body["goals"] = [{"goal": line, "target": ""} for line in project.goals.split("\n") if line]
    body["scopeIn"] = project.scope
    body["successCriteria"] = project.success_criteria
    # The days the plan forecasts, not the days typed: heads sign what the schedule says.
    body["milestones"] = [
        {"name": m.task.name, "date": m.day.isoformat()}
        for m in await planning_queries.milestone_dates(project.id)
    ]
    members = await with_related(
        ProjectMember.filter(project_id=project.id, left_at__isnull=True), "user", "department"
    ).order_by("id")
    body["coreTeam"] = [
        {
            "name": m.user.name,
            "department": m.department.name,
            # The charter is a document people read and edit: the role in words.
            "role": translate(language, ROLE_LABELS[m.role]),
        }
        for m in members
        if m.role != Role.VIEWER
    ]
    return content.normalized(body)  # type: ignore[no-any-return]


async def _confirmation_from_project(project: Project) -> dict[str, Any]:
    departments = (await list_participating_departments([project.id]))[project.id]
    return {
        "departments": [
            {"departmentId": d.id, "department": d.name, "requirements": "", "resources": ""}
            for d in departments
        ]
    }


async def _first_body(project: Project, kind: DocumentKind, language: str) -> dict[str, Any]:
    if kind is DocumentKind.CLOSING_REPORT:
        # Its figures are written by the closing domain right after (write_report_body).
        return content.empty_closing_report()
    if kind is DocumentKind.CHARTER:
        return await _charter_from_project(project, language)
    return await _confirmation_from_project(project)


async def ensure_document(project: Project, kind: DocumentKind, language: str) -> SignableDocument:
    """The project's charter or confirmation; made (as a pre-filled draft) on first use."""
    slot = f"{project.id}:{kind.value}"
    document = await SignableDocument.get_or_none(kind_slot=slot)
    if document is not None:
        return document
    body = await _first_body(project, kind, language)
    try:
        async with in_transaction():
            document = await SignableDocument.create(project=project, kind=kind, kind_slot=slot)
            await DocumentVersion.create(
                document=document,
                number=1,
                number_slot=f"{document.id}:1",
                body=body,
                content_hash=content.content_hash(document.id, 1, body),
            )
    except IntegrityError:
        # Someone opened it at the same moment and made it first.
        return await SignableDocument.get(kind_slot=slot)
    return document
