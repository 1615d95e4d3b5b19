"""Pages (Jinja2 + htmx)."""

from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from server.settings import Settings


def page_routes() -> list[BaseRoute]:
    return []


def page_middleware(settings: Settings) -> list[Middleware]:
    return []
