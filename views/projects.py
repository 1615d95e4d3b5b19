"""My projects, the project overview and the team directory."""

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server import clock
from server.audit.service import list_project_activity
from server.auth import Action, Actor, may
from server.closing import retrospectives
from server.closing.retrospectives import LessonFilter
from server.org import service as org
from server.planning import queries as planning_queries
from server.projects import lifecycle
from server.projects import service as projects
from server.projects.models import ROLE_LABELS, Project, ProjectStatus, Role
from server.signoffs import queries as signoff_queries
from views.common import (
    actor_of,
    form_data,
    is_htmx,
    optional_int,
    page,
    refusal,
    render,
)

PROJECT_TEXT_FIELDS = ("name", "background", "goals", "scope", "success_criteria")


@page
async def my_projects(request: Request) -> Response:
    actor = actor_of(request)
    rows, total = await projects.list_projects(actor, limit=100)
    return await _render_home(request, rows, total, errors={}, values={})


async def _render_home(
    request: Request,
    rows: list[Project],
    total: int,
    *,
    errors: dict[str, str],
    values: dict[str, str],
    status_code: int = 200,
) -> Response:
    actor = actor_of(request)
    ids = [p.id for p in rows]
    departments = await projects.list_participating_departments(ids)
    members = await projects.list_members(ids)
    my_roles = {
        pid: [m.role for m in people if m.user_id == actor.user_id]
        for pid, people in members.items()
    }
    return render(
        request,
        "projects/home.html",
        status_code=status_code,
        projects=rows,
        total=total,
        departments=departments,
        my_roles=my_roles,
        all_departments=await org.list_departments(actor),
        # Starting a project is when the organisation's lessons are worth most.
        recent_lessons=(await retrospectives.list_lessons(actor, LessonFilter(), limit=3))[0],
        errors=errors,
        values=values,
        today=clock.today_in(actor.user.time_zone if actor.user else "Asia/Shanghai").isoformat(),
    )


@page
async def create_project(request: Request) -> Response:
    actor = actor_of(request)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    department_ids = [int(str(v)) for v in form.getlist("department_ids") if str(v).isdigit()]
    data = projects.ProjectInput(
        code=values.get("code"),
        name=values.get("name"),
        initiating_department_id=optional_int(values.get("initiating_department_id")),
        department_ids=department_ids,
        start_date=values.get("start_date"),
        goals=values.get("goals"),
    )
    async with refusal(request, shown_by_page=()) as refused:
        project = await projects.create_project(actor, data)
    if refused:
        rows, total = await projects.list_projects(actor, limit=100)
        return await _render_home(
            request,
            rows,
            total,
            errors=refused.errors,
            values=values,
            status_code=400,
        )
    return RedirectResponse(f"/projects/{project.code}", status_code=303)


async def _overview_context(request: Request, project: Project) -> dict[str, Any]:
    actor = actor_of(request)
    members = (await projects.list_members([project.id]))[project.id]
    can_edit = await may(actor, Action.EDIT_PROJECT, project)
    return {
        "project": project,
        "departments": (await projects.list_participating_departments([project.id]))[project.id],
        "milestones": await planning_queries.milestone_dates(project.id),
        "members": members,
        "managers": [m for m in members if m.role == Role.MANAGER],
        "liaisons": {m.department_id: m for m in members if m.role == Role.LIAISON},
        "activity": await list_project_activity(project.id, limit=15),
        "can_edit": can_edit,
        "can_archive": await may(actor, Action.ARCHIVE_PROJECT, project),
        "charter": await signoff_queries.charter_summary(project.id),
        "status_moves": await _status_moves(actor, project),
        "lifecycle_errors": {},
        "lifecycle_values": {},
        # The edit form lets the PM add participating departments later.
        "all_departments": await org.list_departments(actor) if can_edit else [],
    }


async def _status_moves(actor: Actor, project: Project) -> list[ProjectStatus]:
    """The moves this person may offer: the PM's (an administrator's for an archived one)."""
    if project.status == ProjectStatus.ARCHIVED:
        return lifecycle.allowed_moves(project) if actor.is_admin else []
    if not await may(actor, Action.EDIT_PROJECT, project):
        return []
    return lifecycle.allowed_moves(project)


@page
async def set_status(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    async with refusal(request) as refused:
        await lifecycle.set_status(
            actor,
            project_id=project.id,
            version=optional_int(form.get("version")) or 0,
            status=form.get("status", ""),
            reason=form.get("reason"),
        )
    if not refused:
        return RedirectResponse(f"/projects/{project.code}#lifecycle", status_code=303)
    context = await _overview_context(
        request, await projects.get_project(actor, project_id=project.id)
    )
    context.update(lifecycle_errors=refused.errors, lifecycle_values=form)
    return render(
        request,
        "projects/overview.html",
        status_code=409 if refused.is_conflict else 400,
        errors={},
        conflict=None,
        **context,
    )


@page
async def overview(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    context = await _overview_context(request, project)
    return render(request, "projects/overview.html", errors={}, conflict=None, **context)


@page
async def edit_project(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    department_ids = [int(str(v)) for v in raw.getlist("department_ids") if str(v).isdigit()]
    data = projects.ProjectInput(
        name=form.get("name", ""),
        background=form.get("background", ""),
        goals=form.get("goals", ""),
        scope=form.get("scope", ""),
        success_criteria=form.get("success_criteria", ""),
        late_threshold_days=optional_int(form.get("late_threshold_days")),
        start_date=form.get("start_date") or None,
        # The form always sends the departments (the initiating one at least); an old
        # form without them leaves the departments as they are.
        department_ids=department_ids if "departments_sent" in form else None,
    )
    conflict: dict[str, str] | None = None
    async with refusal(request) as refused:
        project = await projects.update_project(
            actor,
            project_id=project.id,
            version=optional_int(form.get("version")) or 0,
            data=data,
        )
    errors = refused.errors
    if refused.is_conflict:
        # Show the newer values in the form, and what this person typed beside them.
        conflict = {name: form.get(name, "") for name in PROJECT_TEXT_FIELDS}
        project = await projects.get_project(actor, project_id=project.id)
    elif refused:
        for name in PROJECT_TEXT_FIELDS:
            setattr(project, name, form.get(name, ""))
    context = await _overview_context(request, project)
    template = "projects/_summary.html" if is_htmx(request) else "projects/overview.html"
    status = 200 if is_htmx(request) or not errors else 400
    return render(
        request, template, status_code=status, errors=errors, conflict=conflict, **context
    )


async def _team_context(request: Request, project: Project) -> dict[str, Any]:
    actor = actor_of(request)
    members = (await projects.list_members([project.id]))[project.id]
    departments = (await projects.list_participating_departments([project.id]))[project.id]
    manageable = [
        d
        for d in departments
        if await may(actor, Action.ADD_DEPARTMENT_MEMBERS, project, department_id=d.id)
    ]
    may_manage_team = await may(actor, Action.MANAGE_TEAM, project)
    removable = {
        m.id
        for m in members
        if await may(actor, projects.team_action(m.role), project, department_id=m.department_id)
    }
    return {
        "project": project,
        "members": members,
        "former": await projects.list_former_members(project),
        "departments": departments,
        "manageable_departments": manageable,
        "removable": removable,
        "users": await org.list_users(actor) if manageable else [],
        # Only the roles this person may give: a liaison adds members and viewers.
        "roles": [
            (role.value, ROLE_LABELS[role])
            for role in Role
            if role in projects.LIAISON_ASSIGNABLE or may_manage_team
        ],
        "may_edit_project": await may(actor, Action.EDIT_PROJECT, project),
        "may_replace_liaisons": may_manage_team,
    }


@page
async def team(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    context = await _team_context(request, project)
    return render(request, "projects/team.html", errors={}, values={}, **context)


async def _team_response(
    request: Request, project: Project, errors: dict[str, str], values: dict[str, str]
) -> Response:
    context = await _team_context(request, project)
    if is_htmx(request):
        return render(request, "projects/_team.html", errors=errors, values=values, **context)
    if errors:
        return render(
            request, "projects/team.html", status_code=400, errors=errors, values=values, **context
        )
    return RedirectResponse(f"/projects/{project.code}/team", status_code=303)


@page
async def add_member(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    errors: dict[str, str] = {}
    async with refusal(request) as refused:
        await projects.add_project_member(
            actor,
            projects.MemberInput(
                project_id=project.id,
                user_id=optional_int(form.get("user_id")) or 0,
                role=form.get("role", ""),
                department_id=optional_int(form.get("department_id")) or 0,
                position=form.get("position"),
                responsibilities=form.get("responsibilities"),
                time_commitment=form.get("time_commitment"),
            ),
        )
    if refused:
        errors = refused.errors
    return await _team_response(request, project, errors, form if errors else {})


@page
async def replace_liaison(request: Request) -> Response:
    """The team page's "hand over": the department's liaison role to someone else at once."""
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    errors: dict[str, str] = {}
    async with refusal(request) as refused:
        await projects.replace_liaison(
            actor,
            project_id=project.id,
            department_id=int(request.path_params["department_id"]),
            user_id=optional_int(form.get("user_id")) or 0,
        )
    if refused:
        errors = refused.errors
        errors.setdefault("", next(iter(errors.values()), ""))
    return await _team_response(request, project, errors, {})


@page
async def remove_member(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    errors: dict[str, str] = {}
    async with refusal(request) as refused:
        await projects.remove_project_member(actor, member_id=request.path_params["member_id"])
    if refused:
        errors = refused.errors
        errors.setdefault("", next(iter(errors.values()), ""))
    return await _team_response(request, project, errors, {})


@page
async def archive_project(request: Request) -> Response:
    actor = actor_of(request)
    project = await projects.get_project(actor, code=request.path_params["code"])
    form = await form_data(request)
    async with refusal(request) as refused:
        await projects.archive_project(
            actor, project_id=project.id, version=optional_int(form.get("version")) or 0
        )
    if refused:
        context = await _overview_context(
            request, await projects.get_project(actor, project_id=project.id)
        )
        return render(
            request,
            "projects/overview.html",
            status_code=400,
            errors=refused.errors,
            conflict=None,
            **context,
        )
    return RedirectResponse(f"/projects/{project.code}", status_code=303)
