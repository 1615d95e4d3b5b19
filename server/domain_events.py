"""Domain events: a lower domain announces a change; a higher one reacts in the same transaction.

Layers import downwards only, so a domain cannot call the one above it. It announces an event
instead, and the domain above registers a handler for it (`server/domains.py` imports every
domain so that each process has all of them registered).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

E = TypeVar("E")
Handler = Callable[[Any], Awaitable[None]]
HandlerOf = Callable[[E], Awaitable[None]]
_handlers: dict[type, list[Handler]] = defaultdict(list)


@dataclass(frozen=True)
class ProjectDepartmentsChanged:
    """A department joined or left a project (documents in signing may now be fully signed)."""

    project_id: int


@dataclass(frozen=True)
class TasksBecameCritical:
    """A reschedule put these tasks on the critical path (zero float or less) that were not."""

    project_id: int
    task_ids: tuple[int, ...]


@dataclass(frozen=True)
class ConfirmationToBeSent:
    """The collaboration confirmation is about to go out for signing; a handler that finds
    something still open refuses by raising (the whole send rolls back)."""

    project_id: int


def handles(
    event_type: type[E],
) -> Callable[[Callable[[E], Awaitable[None]]], Callable[[E], Awaitable[None]]]:
    def register(handler: Callable[[E], Awaitable[None]]) -> Callable[[E], Awaitable[None]]:
        _handlers[event_type].append(handler)
        return handler

    return register


async def announce(event: object) -> None:
    """Run every handler now, inside the caller's transaction, in the order registered."""
    for handler in _handlers[type(event)]:
        await handler(event)
