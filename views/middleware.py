"""Every page request passes here: request id, session, language, CSRF, security headers."""

import logging
import re
import secrets
import uuid
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import i18n
from server.org import service as org
from server.settings import Settings
from server.templating import render
from server.validation import CONTROL_CHARACTERS

log = logging.getLogger("xietong.pages")

SESSION_COOKIE = "xt_session"
CSRF_COOKIE = "xt_csrf"
LANGUAGE_COOKIE = "xt_lang"
HSTS = "max-age=31536000; includeSubDomains"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# GraphQL authenticates with Bearer tokens, static files and health checks need nothing.
EXEMPT_PREFIXES = ("/graphql", "/static/", "/healthz", "/readyz", "/metrics", "/favicon.ico")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def cookie_is_secure(settings: Settings) -> bool:
    """Secure cookies everywhere except the dev setting and plain-http loopback demos."""
    if settings.dev:
        return False
    loopback = ("http://127.0.0.1", "http://localhost")
    return not settings.base_url.startswith(loopback)


class BodyTooLarge(Exception):
    """The client sent more than the body limit; answered 413 by BodyLimit."""


class BodyLimit:
    """Answer 413 to a request body over the limit, before reading the rest of it."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limit = settings.max_body_bytes
        # An upload carries the file and a few form fields besides.
        self.upload_limit = settings.attachment_max_bytes + 64 * 1024

    def _limit_for(self, scope: Scope) -> int:
        content_type = Headers(scope=scope).get("content-type", "")
        path: str = scope["path"]
        uploads = path.endswith(("/attachments", "/plan/import")) or path.startswith("/graphql")
        if uploads and content_type.startswith("multipart/form-data"):
            return max(self.limit, self.upload_limit)
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        language = i18n.negotiate(Headers(scope=scope).get("accept-language"))
        message = i18n.translate(
            language,
            "The request is larger than the limit of %(size)s bytes.",
            size=i18n.format_number(self._limit_for(scope), language),
        )
        response: JSONResponse | PlainTextResponse
        if scope["path"].startswith("/graphql"):
            response = JSONResponse(
                {"data": None, "errors": [{"message": message}]}, status_code=413
            )
        else:
            response = PlainTextResponse(message, status_code=413)
        await response(scope, receive, send)


class PageMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        # Served over https (the base URL says so): browsers must never try plain http again.
        self.https = settings.base_url.startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope.setdefault("xietong.request_id", uuid.uuid4().hex[:12])
        if scope["path"].startswith(EXEMPT_PREFIXES):
            await self._call_app(scope, receive, send, request_id)
            return
        if CONTROL_CHARACTERS.search(scope["path"]):
            # No page has such an address; the database must never see it (PostgreSQL
            # answers NUL with an error of its own).
            response = HTMLResponse(
                render("errors/error.html", i18n.DEFAULT_LANGUAGE, **_error_context(scope, 404)),
                status_code=404,
            )
            await self._call_app(scope, receive, send, request_id, response)
            return
        headers = Headers(scope=scope)
        cookies = _cookies(headers)
        user = await org.user_for_session(cookies.get(SESSION_COOKIE))
        scope["xietong.user"] = user
        language = i18n.negotiate(
            headers.get("accept-language"),
            user.language if user else cookies.get(LANGUAGE_COOKIE),
        )
        scope["xietong.language"] = language
        i18n.current_language.set(language)
        csrf_token = cookies.get(CSRF_COOKIE) or ""
        new_csrf = not csrf_token
        if new_csrf:
            csrf_token = secrets.token_urlsafe(32)
        scope["xietong.csrf"] = csrf_token

        if scope["method"] in UNSAFE_METHODS:
            body = await _read_body(receive)
            if body is None or not _csrf_ok(headers, body, cookies.get(CSRF_COOKIE)):
                response = HTMLResponse(
                    render("errors/error.html", language, **_error_context(scope, 403)),
                    status_code=403,
                )
                await response(scope, receive, send)
                return
            receive = _replay(body, receive)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                if new_csrf:
                    response_headers.append(
                        "set-cookie",
                        _cookie(CSRF_COOKIE, csrf_token, secure=cookie_is_secure(self.settings)),
                    )
            await send(message)

        await self._call_app(scope, receive, send_with_headers, request_id)

    async def _call_app(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request_id: str,
        app: ASGIApp | None = None,
    ) -> None:
        started = False

        async def send_secure(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "same-origin")
                headers.setdefault("x-frame-options", "DENY")
                if self.https:
                    headers.setdefault("strict-transport-security", HSTS)
                headers.setdefault("x-request-id", request_id)
            await send(message)

        try:
            await (app or self.app)(scope, receive, send_secure)
        except BodyTooLarge:
            raise
        except Exception:
            log.exception("unexpected error in request %s %s", request_id, scope.get("path"))
            if started:
                raise
            language = scope.get("xietong.language", i18n.DEFAULT_LANGUAGE)
            try:
                body = render("errors/error.html", language, **_error_context(scope, 500))
                response: HTMLResponse | PlainTextResponse = HTMLResponse(body, status_code=500)
            except Exception:  # noqa: BLE001 - the error page itself must not fail
                response = PlainTextResponse(f"error {request_id}", status_code=500)
            await response(scope, receive, send_secure)


def _error_context(scope: Scope, status: int) -> dict[str, object]:
    return {
        "status": status,
        "request_id": scope.get("xietong.request_id", ""),
        "user": scope.get("xietong.user"),
        "csrf_token": scope.get("xietong.csrf", ""),
        "path": scope.get("path", "/"),
    }


def _cookies(headers: Headers) -> dict[str, str]:
    from http.cookies import SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header means no cookies
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


def _cookie(name: str, value: str, *, secure: bool, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, original: Receive) -> Receive:
    """Hand the app the body already read; after that, the client's own messages."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


def _csrf_ok(headers: Headers, body: bytes, cookie_token: str | None) -> bool:
    if not cookie_token:
        return False
    sent = headers.get("x-csrf-token")
    content_type = headers.get("content-type", "")
    if not sent and content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8", "replace")).get("csrf_token", [])
        sent = values[0] if values else None
    elif not sent and content_type.startswith("multipart/form-data"):
        sent = _multipart_token(body, content_type)
    return bool(sent) and secrets.compare_digest(sent or "", cookie_token)


MULTIPART_BOUNDARY = re.compile(r'boundary="?([^";]{1,200})"?')
TOKEN_PART_HEAD = re.compile(rb'^content-disposition:\s*form-data;\s*name="csrf_token"\s*$', re.I)


def _multipart_token(body: bytes, content_type: str) -> str | None:
    """The csrf_token field of an upload form (sent without JavaScript, so without the
    header); the forms put it first, so only the start of the body is looked at."""
    found = MULTIPART_BOUNDARY.search(content_type)
    if found is None:
        return None
    delimiter = b"--" + found.group(1).encode("latin-1")
    for part in body[: 64 * 1024].split(delimiter)[1:4]:
        head, separator, value = part.partition(b"\r\n\r\n")
        if separator and any(TOKEN_PART_HEAD.match(line.strip()) for line in head.split(b"\r\n")):
            return value.removesuffix(b"\r\n").decode("ascii", "replace")
    return None


def session_cookie(value: str, settings: Settings, *, max_age: int) -> str:
    return _cookie(SESSION_COOKIE, value, secure=cookie_is_secure(settings), max_age=max_age)


def expired_session_cookie(settings: Settings) -> str:
    return _cookie(SESSION_COOKIE, "", secure=cookie_is_secure(settings), max_age=0)


def language_cookie(value: str, settings: Settings) -> str:
    return _cookie(LANGUAGE_COOKIE, value, secure=cookie_is_secure(settings), max_age=365 * 86400)
