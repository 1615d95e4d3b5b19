"""The one clock every service reads. Tests move it (`travel_to`) instead of rewriting the
timestamps of rows they made, so time passes for the product the way it does for its users."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

_fixed: datetime | None = None


class HasTimeZone(Protocol):
    time_zone: str


def now() -> datetime:
    """This instant in UTC (or the instant a test has moved the clock to)."""
    return _fixed if _fixed is not None else datetime.now(UTC)


def today_in(time_zone: str) -> date:
    """Today's date where `time_zone` is: a project in Shanghai has its own today."""
    return now().astimezone(ZoneInfo(time_zone)).date()


def local_today(place: HasTimeZone) -> date:
    return today_in(place.time_zone)


def set_now(instant: datetime | None) -> None:
    """Fix the clock at `instant` (aware), or let it run again with None."""
    global _fixed
    if instant is not None and instant.tzinfo is None:
        raise ValueError("The clock is set with an aware datetime.")
    _fixed = instant.astimezone(UTC) if instant is not None else None


@contextmanager
def travel_to(instant: datetime) -> Iterator[None]:
    previous = _fixed
    set_now(instant)
    try:
        yield
    finally:
        set_now(previous)
