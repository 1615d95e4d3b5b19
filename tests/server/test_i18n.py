"""The catalogs: every message the code and templates can show has a zh-CN translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from server.errors import Invalid
from server.i18n import LOCALE_DIR, format_day, negotiate, translate

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "Invalid": None,
    "NotFound": None,
    "Forbidden": None,
    "Conflict": None,
    "Throttled": None,
    "DomainError": None,
    "fail": (2,),
    "translate": (2,),
}
METHODS = [
    ("server/**.py", "python"),
    ("schema/**.py", "python"),
    ("views/**.py", "python"),
    ("workers/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
    ("templates/**.svg", "jinja2"),
    ("templates/**.md", "jinja2"),
]


def extracted_messages() -> set[str]:
    found: set[str] = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalog(language: str) -> dict[str, str]:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return {
            m.id if isinstance(m.id, str) else m.id[0]: m.string
            if isinstance(m.string, str)
            else m.string[0]
            for m in read_po(po_file)
            if m.id
        }


def test_every_message_has_a_chinese_translation():
    chinese = catalog("zh_CN")
    missing = sorted(m for m in extracted_messages() if not chinese.get(m))
    assert missing == [], f"{len(missing)} messages lack a zh-CN translation: {missing[:10]}"


def test_english_catalog_lists_every_message_too():
    english = catalog("en")
    missing = sorted(m for m in extracted_messages() if m not in english)
    assert missing == []


def test_chinese_is_the_default_and_english_on_request():
    assert negotiate(None) == "zh-CN"
    assert negotiate("en-US,en;q=0.9") == "en"
    assert negotiate("en-US", preferred="zh-CN") == "zh-CN"
    error = Invalid("This field is required.", field="name")
    assert error.translated("en") == "This field is required."
    assert error.translated("zh-CN") != error.translated("en")
    assert translate("zh-CN", "At most %(max)s characters.", max=100).count("100") == 1


def test_dates_follow_the_locale():
    from datetime import date

    day = date(2026, 10, 1)
    assert format_day(day, "zh-CN") == "2026年10月1日"
    assert format_day(day, "en") == "Oct 1, 2026"


def test_moments_show_hours_and_minutes_in_the_readers_locale_without_seconds() -> None:
    from datetime import UTC, datetime

    from server.i18n import format_instant

    moment = datetime(2026, 12, 7, 2, 0, 30, tzinfo=UTC)
    assert format_instant(moment, "Asia/Shanghai", "zh-CN") == "2026年12月7日 10:00"
    assert format_instant(moment, "Asia/Shanghai", "en") == "Dec 7, 2026, 10:00\u202fAM" or (
        format_instant(moment, "Asia/Shanghai", "en") == "Dec 7, 2026, 10:00 AM"
    )
