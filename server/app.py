"""create_app(): routes, middleware and lifespan of the one Starlette process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

import server.domains  # noqa: F401  (every domain's event handlers)
from server.db import close_db, init_db
from server.planning.cpm import warm_up
from server.runtime import settle_long_lived_objects
from server.settings import Settings, get_settings

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"  # a link to ../static


def create_app(settings: Settings | None = None, *, init_database: bool = True) -> Starlette:
    """The web application. Tests that manage the database themselves pass init_database=False."""
    from schema import graphql_routes
    from views import page_middleware, page_routes

    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if init_database:
            await init_db(settings)
        await asyncio.to_thread(warm_up)
        settle_long_lived_objects()
        try:
            yield
        finally:
            if init_database:
                await close_db()

    middleware: list[Middleware] = page_middleware(settings)
    routes = [
        *graphql_routes(settings),
        *page_routes(),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.settings = settings
    return app
