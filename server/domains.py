"""Every module of every domain loaded once, so each process (web, worker, CLI, tests) has
all domain-event handlers registered whichever module it happened to import first."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

DOMAIN_PACKAGES = (
    "audit",
    "org",
    "notices",
    "projects",
    "signoffs",
    "planning",
    "progress",
    "meetings",
    "risks",
    "requirements",
    "closing",
    "discussion",
)


def _load() -> tuple[ModuleType, ...]:
    loaded = []
    for package_name in DOMAIN_PACKAGES:
        package = importlib.import_module(f"server.{package_name}")
        for module in pkgutil.iter_modules(package.__path__):
            loaded.append(importlib.import_module(f"server.{package_name}.{module.name}"))
    return tuple(loaded)


LOADED = _load()
