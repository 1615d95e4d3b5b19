"""Administrators' view of outgoing notices: the mailbox, the outbox and the chat robots."""

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.notices import service as notices
from server.notices.models import NoticeStatus, RobotKind
from server.org import service as org
from server.projects import chat_robots
from server.projects import service as projects
from views.common import (
    actor_of,
    form_data,
    optional_int,
    page,
    refusal,
    render,
)


@page
async def mailbox(request: Request) -> Response:
    actor = actor_of(request)
    mails = await notices.list_mailbox(actor)
    return render(request, "notices/mailbox.html", mails=mails)


@page
async def outbox(request: Request) -> Response:
    actor = actor_of(request)
    status = request.query_params.get("status") or None
    rows = await notices.list_outbox(actor, status=status)
    counts = await notices.count_by_status(actor)
    return render(
        request,
        "notices/outbox.html",
        rows=rows,
        counts=counts,
        status=status,
        statuses=[s.value for s in NoticeStatus],
    )


@page
async def retry(request: Request) -> Response:
    actor = actor_of(request)
    notice_id = int(request.path_params["notice_id"])
    await notices.retry_notice(actor, notice_id=notice_id)
    return RedirectResponse("/admin/outbox?status=PENDING", status_code=303)


async def _robots_page(
    request: Request, *, errors: dict[str, str], values: dict[str, str], status_code: int = 200
) -> Response:
    actor = actor_of(request)
    robots = await chat_robots.list_robots(actor)
    departments = await org.list_departments(actor)
    return render(
        request,
        "notices/robots.html",
        status_code=status_code,
        robots=[r for r in robots if r.active],
        departments=departments,
        kinds=[k.value for k in RobotKind],
        errors=errors,
        values=values,
    )


def _robot_input(form: dict[str, str], project_code: str) -> chat_robots.RobotInput:
    return chat_robots.RobotInput(
        kind=form.get("kind", ""),
        name=form.get("name", ""),
        url=form.get("url", ""),
        secret=form.get("secret", ""),
        project_code=project_code,
        department_id=optional_int(form.get("department_id")),
    )


@page
async def robots(request: Request) -> Response:
    return await _robots_page(request, errors={}, values={})


@page
async def add_robot(request: Request) -> Response:
    actor = actor_of(request)
    form = await form_data(request)
    async with refusal(request) as refused:
        await chat_robots.add_robot(actor, _robot_input(form, form.get("project_code", "")))
    if refused:
        return await _robots_page(request, errors=refused.errors, values=form, status_code=400)
    return RedirectResponse("/admin/robots", status_code=303)


@page
async def remove_robot(request: Request) -> Response:
    actor = actor_of(request)
    await chat_robots.remove_robot(actor, robot_id=int(request.path_params["robot_id"]))
    return RedirectResponse("/admin/robots", status_code=303)


# --- a project's own robots, managed by its PM ---------------------------------------------------


async def _project_robots_page(
    request: Request, *, errors: dict[str, str], values: dict[str, str], status_code: int = 200
) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    robots = await chat_robots.list_robots(actor, project_id=project.id)
    departments = (await projects.list_participating_departments([project.id]))[project.id]
    return render(
        request,
        "notices/project_robots.html",
        status_code=status_code,
        project=project,
        robots=robots,
        departments=departments,
        kinds=[k.value for k in RobotKind],
        errors=errors,
        values=values,
    )


@page
async def project_robots(request: Request) -> Response:
    return await _project_robots_page(request, errors={}, values={})


@page
async def add_project_robot(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    async with refusal(request) as refused:
        await chat_robots.add_robot(actor, _robot_input(form, project.code))
    if refused:
        return await _project_robots_page(
            request, errors=refused.errors, values=form, status_code=400
        )
    return RedirectResponse(f"/projects/{project.code}/robots", status_code=303)


@page
async def remove_project_robot(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    await chat_robots.remove_robot(actor, robot_id=int(request.path_params["robot_id"]))
    return RedirectResponse(f"/projects/{project.code}/robots", status_code=303)
