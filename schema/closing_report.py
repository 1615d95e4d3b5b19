"""The closing report through the API: generated from the record, completed by the PM, then
signed with the same `signDocument` as the charter."""

import strawberry
from strawberry.types import Info

from schema.common import from_global_id, refusals_in_payload
from schema.context import Context
from schema.signoffs import DocumentPayload, SignableDocument, load_document
from server.closing import report as closing_report
from server.signoffs import queries as signoff_queries
from server.signoffs import service as signoffs


@strawberry.input
class DraftClosingReportInput:
    project_id: strawberry.ID


@strawberry.input
class ResultInput:
    """One goal's or success criterion's result, in the order the signed charter lists them."""

    result: str = ""
    evidence: str = strawberry.field(default="", description="A web address or a Xietong page.")
    verdict: str = strawberry.field(default="", description="MET, PARTLY, NOT_MET or empty.")


@strawberry.input
class UpdateClosingReportInput:
    document_id: strawberry.ID
    version: int | None = None
    goals: list[ResultInput] | None = None
    criteria: list[ResultInput] | None = None
    summary: str | None = None


def _results(rows: list[ResultInput]) -> list[dict[str, str]]:
    return [{"result": r.result, "evidence": r.evidence, "verdict": r.verdict} for r in rows]


async def closing_report_of(info: Info[Context, None], project_pk: int) -> SignableDocument | None:
    row = await closing_report.current_report(project_pk)
    return await load_document(info, row) if row is not None else None


@strawberry.type
class ClosingReportMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def draft_closing_report(
        self, info: Info[Context, None], input: DraftClosingReportInput
    ) -> DocumentPayload:
        """Generate the report, or bring its figures up to date (results already written stay)."""
        row = await closing_report.draft_closing_report(
            info.context.actor,
            project_id=from_global_id(input.project_id, "Project", field="projectId"),
        )
        return DocumentPayload(document=await load_document(info, row), errors=[])

    @strawberry.mutation
    @refusals_in_payload
    async def update_closing_report(
        self, info: Info[Context, None], input: UpdateClosingReportInput
    ) -> DocumentPayload:
        pk = from_global_id(input.document_id, "SignableDocument", field="documentId")
        body: dict[str, object] = {}
        if input.goals is not None:
            body["goalResults"] = _results(input.goals)
        if input.criteria is not None:
            body["criterionResults"] = _results(input.criteria)
        if input.summary is not None:
            body["summary"] = input.summary
        await signoffs.revise_document(
            info.context.actor, document_id=pk, body=body, version=input.version
        )
        row = await signoff_queries.get_document_by_id(info.context.actor, document_id=pk)
        return DocumentPayload(document=await load_document(info, row), errors=[])
