"""Bringing a plan from MS Project on the plan page: upload, preview, confirm."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Invalid
from server.planning import imports
from server.projects import service as projects
from views.common import actor_of, form_data, page, refusal, render
from views.planning import plan_page_refused


@page
async def preview(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await request.form()
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    await form.close()
    async with refusal(request) as refused:
        if not data:
            raise Invalid("Choose an MS Project XML file or a WBS workbook.", field="file")
        found = await imports.preview_plan_import(actor, project_id=project.id, data=data)
        await imports.keep_file(project.id, data)
    if refused:
        return await plan_page_refused(request, project, "import_errors", refused.error, {})
    return render(request, "planning/import.html", project=project, preview=found)


@page
async def confirm(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    content_hash = form.get("content_hash", "")
    async with refusal(request) as refused:
        data = await imports.kept_file(project.id, content_hash)
        result = await imports.import_plan(
            actor, project_id=project.id, data=data, content_hash=content_hash
        )
    if refused:
        return await plan_page_refused(request, project, "import_errors", refused.error, {})
    return render(request, "planning/imported.html", project=project, result=result)
