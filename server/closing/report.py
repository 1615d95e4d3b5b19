"""The closing report (项目总结报告): generated from the charter's last signed version and the
project's record, completed by the PM (results, evidence, verdicts, summary), then signed by
every participating department's head like the charter (the same hash-bound signatures)."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from server.auth import Actor
from server.closing.figures import closing_figures
from server.errors import Invalid
from server.projects.models import Project, ProjectStatus
from server.projects.service import get_project
from server.signoffs import content
from server.signoffs import queries as signoff_queries
from server.signoffs import service as signoffs
from server.signoffs.models import (
    Decision,
    DocumentKind,
    DocumentVersion,
    SignableDocument,
    Signature,
)

# The report is written while the project closes, and kept as it was signed afterwards.
DRAFTING_STATUSES = (ProjectStatus.CLOSING,)


async def signed_charter_body(project_id: int) -> dict[str, Any]:
    """The charter version every department approved last (the current text if none was)."""
    charter = await SignableDocument.get_or_none(project_id=project_id, kind=DocumentKind.CHARTER)
    if charter is None:
        return content.empty_charter()
    versions = await DocumentVersion.filter(document_id=charter.id).order_by("-number")
    signatures = await Signature.filter(document_id=charter.id).values(
        "document_version_id", "department_id", "decision"
    )
    every = await _departments_that_signed(charter.id)
    for version in versions:
        mine = [s for s in signatures if s["document_version_id"] == version.id]
        approved = all(s["decision"] == Decision.APPROVE for s in mine)
        if mine and approved and {s["department_id"] for s in mine} >= every:
            return dict(version.body)
    return dict(versions[0].body) if versions else content.empty_charter()


async def _departments_that_signed(charter_id: int) -> set[int]:
    """Every department that ever approved the charter must have approved the version used."""
    rows = await Signature.filter(document_id=charter_id, decision=Decision.APPROVE).values_list(
        "department_id", flat=True
    )
    return {int(str(d)) for d in rows}


def _kept(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """What the PM already wrote, by the goal's or criterion's words."""
    return {str(r.get(key, "")): r for r in rows}


def report_body(
    charter: dict[str, Any], figures: dict[str, list[str]], current: dict[str, Any] | None
) -> dict[str, Any]:
    current = current or content.empty_closing_report()
    goals_kept = _kept(current.get("goalResults", []), "goal")
    criteria_kept = _kept(current.get("criterionResults", []), "criterion")
    blank = {"result": "", "evidence": "", "verdict": ""}
    goals = [
        {"goal": g.get("goal", ""), "target": g.get("target", "")}
        | {k: goals_kept.get(str(g.get("goal", "")), blank).get(k, "") for k in blank}
        for g in charter.get("goals", [])
    ]
    criteria = [
        {"criterion": line} | {k: criteria_kept.get(line, blank).get(k, "") for k in blank}
        for line in str(charter.get("successCriteria", "")).split("\n")
        if line.strip()
    ]
    return (
        content.empty_closing_report()
        | {"goalResults": goals, "criterionResults": criteria}
        | {"summary": current.get("summary", "")}
        | figures
    )


async def current_report(project_id: int) -> SignableDocument | None:
    return await SignableDocument.get_or_none(
        project_id=project_id, kind=DocumentKind.CLOSING_REPORT
    )


async def draft_closing_report(actor: Actor, *, project_id: int) -> SignableDocument:
    """Generate the report, or bring its figures up to date: the PM's results, evidence and
    verdicts stay. A report out for signing that changes becomes the next version."""
    async with in_transaction():
        visible = await get_project(actor, project_id=project_id)
        project = await Project.filter(id=visible.id).select_for_update().get()
        await signoff_queries.authorize_edit(actor, project)
        if project.status not in DRAFTING_STATUSES:
            raise Invalid(
                "Start closing the project first; the report is written while it closes.",
                field="status",
            )
        existing = await current_report(project.id)
        current = None
        if existing is not None:
            version = await DocumentVersion.get(
                document_id=existing.id, number=existing.current_number
            )
            current = version.body
        body = report_body(
            await signed_charter_body(project.id),
            await closing_figures(project.id, actor.language),
            current,
        )
        document, _ = await signoffs.write_report_body(
            actor, project, DocumentKind.CLOSING_REPORT, body
        )
    return document
