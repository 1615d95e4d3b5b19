"""What every page view shares: who is asking, rendering, form errors."""

import asyncio
from types import TracebackType
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server import i18n
from server.auth import Actor
from server.errors import Conflict, DomainError, Forbidden, each_error
from server.org.models import User
from server.templating import environment


class LoginRequired(Exception):
    pass


def current_user(request: Request) -> User | None:
    user: User | None = request.scope.get("xietong.user")
    return user


def language_of(request: Request) -> str:
    language: str = request.scope.get("xietong.language", i18n.DEFAULT_LANGUAGE)
    return language


def actor_of(request: Request) -> Actor:
    """The signed-in person, one Actor per request: the roles a project lookup read along
    with the project then serve every permission check of the same page."""
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None:
        user = current_user(request)
        if user is None:
            raise LoginRequired
        actor = request.state.actor = Actor.for_user(user, language_of(request))
    return actor


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render_html(request: Request, template: str, **context: Any) -> str:
    language = language_of(request)
    with i18n.speaking(language):
        return (
            environment()
            .get_template(template)
            .render(
                request=request,
                user=current_user(request),
                csrf_token=request.scope.get("xietong.csrf", ""),
                language=language,
                path=request.url.path,
                **context,
            )
        )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    return HTMLResponse(render_html(request, template, **context), status_code=status_code)


async def render_pdf(request: Request, template: str, file_name: str, **context: Any) -> Response:
    """A print template as a PDF download; laid out in a worker thread (it takes a while)."""
    from starlette.concurrency import run_in_threadpool

    from server.pdf import html_to_pdf

    pdf = await run_in_threadpool(html_to_pdf, render_html(request, template, **context))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(file_name)}"},
    )


def login_redirect(request: Request) -> Response:
    """Back to the same page, query included (a tracking week, a filter), after signing in."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def not_found(request: Request, error: DomainError | None = None) -> Response:
    return _refused_page(request, 404, error)


def forbidden(request: Request, error: DomainError | None = None) -> Response:
    return _refused_page(request, 403, error)


def _refused_page(request: Request, status: int, error: DomainError | None) -> Response:
    """The error page, saying why when the refusal says it (the page script shows that line
    in place when an htmx request was refused)."""
    message = error.translated(language_of(request)) if error is not None else ""
    return render(
        request,
        "errors/error.html",
        status_code=status,
        status=status,
        request_id="",
        message=message,
    )


def field_errors(error: DomainError, language: str) -> dict[str, str]:
    """Messages by field name; messages without a field go under "" (shown above the form)."""
    errors: dict[str, str] = {}
    for item in each_error(error):
        errors.setdefault(item.field or "", item.translated(language))
    return errors


class Refusal:
    """What a form's write refused, kept for the form to show again.

        async with refusal(request) as refused:
            await service.write(...)
        if refused:
            ...render the form with refused.errors...

    A DomainError raised inside the block is kept (the block's transaction has already rolled
    back); those in `shown_by_page` (Forbidden unless told otherwise) go on to `page`, which
    answers 403 or 404.
    """

    def __init__(self, request: Request, *, shown_by_page: tuple[type[DomainError], ...]) -> None:
        self.language = language_of(request)
        self.shown_by_page = shown_by_page
        self.error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def errors(self) -> dict[str, str]:
        return field_errors(self.error, self.language) if self.error else {}

    @property
    def message(self) -> str:
        return self.error.translated(self.language) if self.error else ""

    @property
    def is_conflict(self) -> bool:
        """Someone else changed the row: the form shows the newer values, not what was typed."""
        return isinstance(self.error, Conflict)

    async def __aenter__(self) -> "Refusal":
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if not isinstance(error, DomainError):
            return False
        if isinstance(error, self.shown_by_page):
            return False
        self.error = error
        return True


def refusal(
    request: Request, *, shown_by_page: tuple[type[DomainError], ...] = (Forbidden,)
) -> Refusal:
    return Refusal(request, shown_by_page=shown_by_page)


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def optional_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def page(view: Any) -> Any:
    """Turn the expected failures of a page view into the right response."""
    import functools

    from server.errors import Forbidden, NotFound, Unavailable

    @functools.wraps(view)
    async def wrapper(request: Request) -> Response:
        try:
            response: Response = await view(request)
        except LoginRequired:
            return login_redirect(request)
        except NotFound as error:
            return not_found(request, error)
        except Forbidden as error:
            return forbidden(request, error)
        except Unavailable as error:
            return _refused_page(request, 503, error)
        return response

    return wrapper


def csv_twin(xlsx_view: Any) -> Any:
    """The .csv beside an .xlsx export: the same view, its workbook turned into CSV, so the
    two files hold the same rows and answer the same refusals."""
    import functools

    from server.sheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_from_xlsx

    @functools.wraps(xlsx_view)
    async def twin(request: Request) -> Response:
        workbook: Response = await xlsx_view(request)
        if workbook.status_code != 200 or workbook.media_type != XLSX_MEDIA_TYPE:
            return workbook
        disposition = workbook.headers.get("content-disposition", "")
        return Response(
            csv_from_xlsx(bytes(workbook.body)),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": disposition.replace(".xlsx", ".csv")},
        )

    return twin


def chart_twin(svg_view: Any, kind: str) -> Any:
    """A chart's PNG or PDF beside its SVG: the same view and refusals, the picture drawn
    from the SVG it answers."""
    import functools

    from server.charts import svg_to_pdf, svg_to_png

    convert, media_type = {
        "png": (svg_to_png, "image/png"),
        "pdf": (svg_to_pdf, "application/pdf"),
    }[kind]

    @functools.wraps(svg_view)
    @page
    async def twin(request: Request) -> Response:
        drawing: Response = await svg_view(request)
        if drawing.status_code != 200 or drawing.media_type != "image/svg+xml":
            return drawing
        name = f"{request.path_params['code']}-{request.url.path.rsplit('/', 1)[-1]}"
        return Response(
            await asyncio.to_thread(convert, bytes(drawing.body)),
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return twin
