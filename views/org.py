"""Administration of departments and users, and each user's API tokens."""

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.auth import Action, authorize
from server.notices import preferences
from server.notices.models import NoticeKind
from server.org import credentials
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
from views.middleware import SESSION_COOKIE


@page
async def departments(request: Request) -> Response:
    actor = actor_of(request)
    await authorize(actor, Action.ADMINISTER)
    return await _departments_page(request, errors={}, values={})


async def _departments_page(
    request: Request, *, errors: dict[str, str], values: dict[str, str], status_code: int = 200
) -> Response:
    actor = actor_of(request)
    rows = await org.list_departments(actor)
    users = await org.list_users(actor)
    heads = {u.department_id: u for u in users if u.heads_department}
    counts: dict[int, int] = {}
    for u in users:
        counts[u.department_id] = counts.get(u.department_id, 0) + 1
    return render(
        request,
        "org/departments.html",
        status_code=status_code,
        departments=rows,
        heads=heads,
        counts=counts,
        errors=errors,
        values=values,
    )


@page
async def create_department(request: Request) -> Response:
    actor = actor_of(request)
    form = await form_data(request)
    async with refusal(request, shown_by_page=()) as refused:
        await org.create_department(
            actor, name=form.get("name", ""), parent_id=optional_int(form.get("parent_id"))
        )
    if refused:
        return await _departments_page(request, errors=refused.errors, values=form, status_code=400)
    return RedirectResponse("/admin/departments", status_code=303)


@page
async def users(request: Request) -> Response:
    actor = actor_of(request)
    await authorize(actor, Action.ADMINISTER)
    return await _users_page(request, errors={}, values={})


async def _users_page(
    request: Request, *, errors: dict[str, str], values: dict[str, str], status_code: int = 200
) -> Response:
    actor = actor_of(request)
    return render(
        request,
        "org/users.html",
        status_code=status_code,
        users=await org.list_users(actor, include_inactive=True),
        unreachable=await chat_robots.unreachable_people(actor),
        departments=await org.list_departments(actor),
        errors=errors,
        values=values,
    )


@page
async def create_user(request: Request) -> Response:
    actor = actor_of(request)
    form = await form_data(request)
    async with refusal(request, shown_by_page=()) as refused:
        await org.create_user(
            actor,
            name=form.get("name", ""),
            email=form.get("email"),
            mobile=form.get("mobile"),
            department_id=optional_int(form.get("department_id")),
            position=form.get("position", ""),
            password=form.get("password") or None,
            heads_department=form.get("heads_department") == "on",
            is_admin=form.get("is_admin") == "on",
        )
    if refused:
        return await _users_page(request, errors=refused.errors, values=form, status_code=400)
    return RedirectResponse("/admin/users", status_code=303)


@page
async def set_user_active(request: Request) -> Response:
    actor = actor_of(request)
    form = await form_data(request)
    async with refusal(request, shown_by_page=()) as refused:
        await org.set_user_active(
            actor,
            user_id=request.path_params["user_id"],
            active=form.get("active") == "1",
            version=optional_int(form.get("version")) or 0,
        )
    if refused:
        return await _users_page(request, errors=refused.errors, values={}, status_code=400)
    return RedirectResponse("/admin/users", status_code=303)


@page
async def tokens(request: Request) -> Response:
    return await _tokens_page(request, issued=None, errors={}, values={})


async def _tokens_page(
    request: Request,
    *,
    issued: str | None,
    errors: dict[str, str],
    values: dict[str, str],
    status_code: int = 200,
) -> Response:
    actor = actor_of(request)
    tokens = await org.list_api_tokens(actor)
    mine, _ = await projects.list_projects(actor, limit=500)
    return render(
        request,
        "org/tokens.html",
        status_code=status_code,
        tokens=tokens,
        scopes=await org.token_scopes(tokens),
        projects=mine,
        chosen=set(values.get("project_codes", [])),
        issued=issued,
        errors=errors,
        values=values,
    )


@page
async def create_token(request: Request) -> Response:
    actor = actor_of(request)
    form = await request.form()
    codes = [str(code) for code in form.getlist("project_codes")]
    values: dict[str, Any] = await form_data(request) | {"project_codes": codes}
    async with refusal(request, shown_by_page=()) as refused:
        issued = await org.create_api_token(
            actor,
            name=values.get("name", ""),
            expires_days=optional_int(values.get("expires_days")),
            project_codes=codes,
            read_only=values.get("read_only") == "on",
        )
    if refused:
        return await _tokens_page(
            request,
            issued=None,
            errors=refused.errors,
            values=values,
            status_code=400,
        )
    # Shown once, on this response only; the database keeps just its hash.
    return await _tokens_page(request, issued=issued.secret, errors={}, values={})


@page
async def revoke_token(request: Request) -> Response:
    actor = actor_of(request)
    await org.revoke_api_token(actor, token_id=request.path_params["token_id"])
    return RedirectResponse("/tokens", status_code=303)


@page
async def account(request: Request) -> Response:
    return _account_page(request, errors={}, changed=False)


def _account_page(
    request: Request,
    *,
    errors: dict[str, str],
    changed: bool,
    status_code: int = 200,
    form_name: str = "",
) -> Response:
    user = actor_of(request).user
    assert user is not None
    return render(
        request,
        "org/account.html",
        status_code=status_code,
        errors=errors,
        changed=changed,
        form_name=form_name,
        saved=request.query_params.get("saved") == "notices",
        feed_token=credentials.feed_token(user),
        notice_kinds=list(NoticeKind),
        chat_kinds=preferences.CHAT_KINDS,
        always_sent=preferences.ALWAYS_SENT,
        hours=range(24),
    )


@page
async def save_notice_preferences(request: Request) -> Response:
    form = await request.form()
    # The page ticks what the person wants; the service keeps what they turned off.
    by_email, by_chat = set(form.getlist("email")), set(form.getlist("chat"))
    optional = [k for k in NoticeKind if k not in preferences.ALWAYS_SENT]
    async with refusal(request, shown_by_page=()) as refused:
        await preferences.set_preferences(
            actor_of(request),
            version=optional_int(str(form.get("version", ""))) or 0,
            data=preferences.PreferencesInput(
                email_off=[k.value for k in optional if k.value not in by_email],
                chat_off=[
                    k.value
                    for k in preferences.CHAT_KINDS
                    if k in optional and k.value not in by_chat
                ],
                digest_mode=form.get("digest_mode") == "on",
                quiet_from=str(form.get("quiet_from", "")),
                quiet_until=str(form.get("quiet_until", "")),
            ),
        )
    if refused:
        return _account_page(
            request, errors=refused.errors, changed=False, status_code=400, form_name="notices"
        )
    return RedirectResponse("/account?saved=notices#notices", status_code=303)


@page
async def change_password(request: Request) -> Response:
    form = await form_data(request)
    async with refusal(request, shown_by_page=()) as refused:
        await credentials.change_password(
            actor_of(request),
            current=form.get("current_password", ""),
            new=form.get("new_password", ""),
            keep_session=request.cookies.get(SESSION_COOKIE),
        )
    if refused:
        errors = refused.errors
        return _account_page(request, errors=errors, changed=False, status_code=400)
    return _account_page(request, errors={}, changed=True)


@page
async def rotate_feed(request: Request) -> Response:
    await credentials.rotate_feed_token(actor_of(request))
    return RedirectResponse("/account", status_code=303)


@page
async def reset_password(request: Request) -> Response:
    actor = actor_of(request)
    form = await form_data(request)
    async with refusal(request, shown_by_page=()) as refused:
        await credentials.reset_password(
            actor,
            user_id=request.path_params["user_id"],
            new=form.get("new_password", ""),
            version=optional_int(form.get("version")) or 0,
        )
    if refused:
        return await _users_page(request, errors=refused.errors, values={}, status_code=400)
    return RedirectResponse("/admin/users", status_code=303)
