"""Translations from Babel catalogs; zh-CN first, English complete too.

The .po files are read directly (compiled in memory), so a fresh clone needs no compile step.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LOCALE_DIR = Path(__file__).parent / "locale"

current_language: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_language", default=DEFAULT_LANGUAGE
)


def N_(message: str) -> str:
    """Marks a message for the catalogs; it is translated where it is shown."""
    return message


def normalize_language(value: str | None) -> str | None:
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    if tag.startswith("zh"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en"
    return None


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """The user's saved choice wins, then the browser's header, then zh-CN."""
    chosen = normalize_language(preferred)
    if chosen:
        return chosen
    for part in (accept_language or "").split(","):
        chosen = normalize_language(part.split(";")[0])
        if chosen:
            return chosen
    return DEFAULT_LANGUAGE


def _babel_name(language: str) -> str:
    return language.replace("-", "_")


@lru_cache(maxsize=4)
def translations(language: str) -> Translations:
    po_path = LOCALE_DIR / _babel_name(language) / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return Translations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=_babel_name(language))
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def translate(language: str, message: str, **params: Any) -> str:
    text = translations(language).gettext(message)
    return text % params if params else text


def working_days(days: int) -> str:
    """ "5 working days" in the current language. A plan shows one on every row, from a few
    dozen distinct values."""
    return _working_days(current_language.get(), days)


@lru_cache(maxsize=4096)
def _working_days(language: str, days: int) -> str:
    return translate(language, "%(days)s working days", days=days)


def gettext(message: str, **params: Any) -> str:
    """Translate into the language of the current request or job."""
    return translate(current_language.get(), message, **params)


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(current_language.get()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


@lru_cache(maxsize=8)
def _locale(language: str) -> Locale:
    # Parsed once per process: Locale.parse on every call was most of a date's formatting,
    # and a 500-task plan page formats some 2,000 dates (issue 24).
    return Locale.parse(_babel_name(language))


def format_day(value: date | None, language: str | None = None) -> str:
    if value is None:
        return ""
    return _formatted_day(value, language or current_language.get())


@lru_cache(maxsize=8192)
def _formatted_day(value: date, language: str) -> str:
    """A plan repeats the same few hundred days; each is formatted once per language."""
    return format_date(value, format="medium", locale=_locale(language))


def format_instant(value: datetime | None, time_zone: str, language: str | None = None) -> str:
    """A moment as people read it: the locale's medium date and its short time (no seconds)."""
    if value is None:
        return ""
    locale = _locale(language or current_language.get())
    local = value.astimezone(ZoneInfo(time_zone))
    pattern = str(get_datetime_format("medium", locale=locale))
    return pattern.replace("{1}", format_date(local, format="medium", locale=locale)).replace(
        "{0}", format_time(local, format="short", locale=locale)
    )


def format_number(value: float | int, language: str | None = None) -> str:
    return format_decimal(value, locale=_locale(language or current_language.get()))


def format_file_size(size: int, language: str | None = None) -> str:
    """Bytes as people read them: 812 B, 35 KB, 4.2 MB (binary units, one decimal in MB)."""
    locale = _locale(language or current_language.get())
    if size < 1024:
        return f"{format_decimal(size, locale=locale)} B"
    if size < 1024 * 1024:
        return f"{format_decimal(round(size / 1024), locale=locale)} KB"
    return f"{format_decimal(round(size / 1024 / 1024, 1), locale=locale)} MB"


def format_money(value: Decimal, currency: str = "CNY", language: str | None = None) -> str:
    """Money as the locale writes it (¥1,200.50 / CN¥1,200.50), exact from the Decimal."""
    return format_currency(value, currency, locale=_locale(language or current_language.get()))


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Messages, dates and numbers in `language` within the block, whatever the request's."""
    token = current_language.set(language)
    try:
        yield
    finally:
        current_language.reset(token)
