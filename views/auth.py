"""Logging in and out, and the language choice."""

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.i18n import normalize_language
from server.org import service as org
from views.common import (
    actor_of,
    current_user,
    form_data,
    page,
    refusal,
    render,
)
from views.middleware import expired_session_cookie, language_cookie, session_cookie


def _safe_next(target: str | None) -> str:
    """Only local paths: a login link must not send people to another site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@page
async def login_form(request: Request) -> Response:
    if current_user(request) is not None:
        return RedirectResponse("/", status_code=303)
    return render(
        request, "auth/login.html", errors={}, values={}, next=request.query_params.get("next", "/")
    )


@page
async def login(request: Request) -> Response:
    settings = request.app.state.settings
    form = await form_data(request)
    identifier = form.get("email", "")
    async with refusal(request, shown_by_page=()) as refused:
        user = await org.authenticate(
            settings,
            identifier=identifier,
            password=form.get("password", ""),
            client_address=request.client.host if request.client else "",
        )
    if refused:
        return render(
            request,
            "auth/login.html",
            status_code=400,
            errors=refused.errors,
            values={"email": identifier},
            next=form.get("next", "/"),
        )
    token = await org.start_session(settings, user=user)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    response.headers.append(
        "set-cookie", session_cookie(token, settings, max_age=settings.session_days * 86400)
    )
    return response


@page
async def logout(request: Request) -> Response:
    settings = request.app.state.settings
    await org.end_session(request.cookies.get("xt_session"))
    response = RedirectResponse("/login", status_code=303)
    response.headers.append("set-cookie", expired_session_cookie(settings))
    return response


@page
async def choose_language(request: Request) -> Response:
    settings = request.app.state.settings
    form = await form_data(request)
    language = normalize_language(form.get("language")) or "zh-CN"
    if current_user(request) is not None:
        await org.set_language(actor_of(request), language=language)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    response.headers.append("set-cookie", language_cookie(language, settings))
    return response
