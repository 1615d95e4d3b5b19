"""Pages as PDF: the HTML a page renders, laid out by WeasyPrint with the print stylesheet.

WeasyPrint draws text with the system's Pango and fonts; without Pango it cannot load, and
without a CJK font (Debian's fonts-noto-cjk) Chinese would print as empty boxes. Both are
checked once, and a missing one is said in words rather than shipped as a broken file.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from server.errors import Unavailable

PRINT_STYLESHEET = Path(__file__).resolve().parent / "static" / "css" / "print.css"


@functools.cache
def missing_part() -> str | None:
    """What this machine lacks to print a page, or None when it can."""
    try:
        import weasyprint  # noqa: F401
    except OSError:
        return "the Pango text library (Debian: libpango-1.0-0)"
    fc_list = shutil.which("fc-list")  # fontconfig's, which Pango finds its fonts with
    try:
        listed = (
            subprocess.run(  # noqa: S603 (a fixed command and arguments)
                [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=10
            ).stdout
            if fc_list
            else ""
        )
    except (OSError, subprocess.SubprocessError):
        listed = ""
    if not listed.strip():
        return "a Chinese font (Debian: fonts-noto-cjk)"
    return None


def html_to_pdf(html: str) -> bytes:
    """One HTML document to PDF bytes. Nothing is fetched: the page's images are inline."""
    missing = missing_part()
    if missing:
        raise Unavailable("PDF is not available on this server: it lacks %(part)s.", part=missing)
    import weasyprint

    # A printed page reaches nothing outside itself: no server-side request to an address a
    # user typed into a document (only inline data: images would load).
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    document = weasyprint.HTML(string=html, url_fetcher=fetcher)
    stylesheet = weasyprint.CSS(string=PRINT_STYLESHEET.read_text(encoding="utf-8"))
    pdf: bytes = document.write_pdf(stylesheets=[stylesheet])
    return pdf
