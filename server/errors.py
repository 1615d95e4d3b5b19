"""Expected failures of the domain. Messages are message ids, translated at the edge."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "INVALID"

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params

    def translated(self, language: str) -> str:
        from server.i18n import translate

        return translate(language, self.message, **self.params)


class Invalid(DomainError):
    code = "INVALID"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class Conflict(DomainError):
    code = "CONFLICT"


class Throttled(DomainError):
    code = "THROTTLED"


class Unavailable(DomainError):
    """This server lacks a part the request needs (a system library, a font)."""

    code = "UNAVAILABLE"


class InvalidFields(Invalid):
    """Several fields wrong at once: a form shows every message, not just the first."""

    def __init__(self, errors: list[DomainError]) -> None:
        first = errors[0]
        super().__init__(first.message, field=first.field, **first.params)
        self.errors = errors


def each_error(error: DomainError) -> list[DomainError]:
    return list(error.errors) if isinstance(error, InvalidFields) else [error]


def stale(version: int) -> Conflict:
    """The one refusal of a write made on an old reading: the row has moved on since the form
    (or the API client) read it. `version` is the row's version now."""
    return Conflict(
        "Someone else changed this in the meantime (now version %(version)s). "
        "Reload and try again.",
        field="version",
        version=version,
    )
