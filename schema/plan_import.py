"""importPlan: an MS Project XML file or a WBS workbook (.xlsx) as a GraphQL multipart
upload, previewed, or imported
when `confirm` is true and `contentHash` names the previewed file."""

from __future__ import annotations

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.types import Info

from schema.common import UserError, from_global_id, refusals_in_payload
from schema.context import Context
from server import i18n
from server.planning import imports
from server.planning.mspdi_read import Problem


@strawberry.input
class ImportPlanInput:
    project_id: strawberry.ID
    file: Upload
    confirm: bool = False
    content_hash: str | None = None


@strawberry.type
class ImportFinding:
    task: str | None
    message: str
    detail: str | None

    @classmethod
    def of(cls, found: Problem) -> ImportFinding:
        return cls(
            task=found.task or None,
            message=i18n.gettext(found.what),
            detail=found.detail or None,
        )


@strawberry.type
class ImportCounts:
    tasks: int
    summaries: int
    milestones: int
    links: int
    calendar_days: int
    with_progress: int
    baseline_tasks: int


@strawberry.type
class PlanImportPreview:
    content_hash: str
    counts: ImportCounts
    errors: list[ImportFinding]
    unsupported: list[ImportFinding]

    @classmethod
    def of(cls, preview: imports.ImportPreview) -> PlanImportPreview:
        return cls(
            content_hash=preview.content_hash,
            counts=ImportCounts(**preview.counts.__dict__),
            errors=[ImportFinding.of(p) for p in preview.errors],
            unsupported=[ImportFinding.of(p) for p in preview.problems],
        )


@strawberry.type
class ScheduleDifference:
    task: str
    field: str
    theirs: str
    ours: str


@strawberry.type
class ImportPlanPayload:
    preview: PlanImportPreview | None
    imported: bool | None
    differences: list[ScheduleDifference] | None
    errors: list[UserError]


@strawberry.type
class PlanImportMutation:
    @strawberry.mutation
    @refusals_in_payload
    async def import_plan(
        self, info: Info[Context, None], input: ImportPlanInput
    ) -> ImportPlanPayload:
        actor = info.context.actor
        project_id = from_global_id(input.project_id, "Project", field="projectId")
        sent: UploadFile = input.file  # type: ignore[assignment]
        data = await sent.read()
        preview = await imports.preview_plan_import(actor, project_id=project_id, data=data)
        if not input.confirm:
            return ImportPlanPayload(
                preview=PlanImportPreview.of(preview), imported=False, differences=[], errors=[]
            )
        result = await imports.import_plan(
            actor, project_id=project_id, data=data, content_hash=input.content_hash or ""
        )
        return ImportPlanPayload(
            preview=PlanImportPreview.of(result.preview),
            imported=True,
            differences=[ScheduleDifference(**d.__dict__) for d in result.differences],
            errors=[],
        )
