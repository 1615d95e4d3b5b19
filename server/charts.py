"""The SVG charts (Gantt, tracking) as PNG, which a phone can share in a chat, and as PDF,
for a printed report; drawn by CairoSVG on the system's cairo library.

CairoSVG draws text with the first family a `font-family` names and no fallback per
character, so "sans-serif" (DejaVu on Debian) draws Chinese as empty boxes. The charts are
drawn with the family fontconfig picks for Chinese text instead.
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from typing import Any

from server.errors import Unavailable

# Cairo's surfaces end at 32,767 pixels a side; a long plan is drawn at a smaller scale.
MAX_PIXELS = 32_000
PNG_SCALE = 2.0
_FONT_FAMILY = re.compile(rb'font-family="[^"]*"')
_VIEW_BOX = re.compile(rb'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"')


@lru_cache(maxsize=1)
def chinese_font_family() -> str:
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{family[0]}", "sans-serif:lang=zh-cn"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except OSError:
        found = ""
    return found or "Noto Sans CJK SC"


def _drawable(svg: bytes) -> bytes:
    family = chinese_font_family().replace('"', "").encode()
    return _FONT_FAMILY.sub(b'font-family="' + family + b'"', svg)


def _cairosvg() -> Any:
    try:
        import cairosvg
    except OSError as error:  # the Python package is there, the system library is not
        raise Unavailable(
            "PNG and PDF charts need the cairo library on the server (Debian: libcairo2)."
        ) from error
    return cairosvg


def _scale(svg: bytes) -> float:
    size = _VIEW_BOX.search(svg)
    if size is None:
        return PNG_SCALE
    longest = max(float(size.group(1)), float(size.group(2)))
    return min(PNG_SCALE, MAX_PIXELS / longest) if longest else PNG_SCALE


def svg_to_png(svg: bytes) -> bytes:
    """Twice the SVG's size (sharp on a phone), less for a chart too long for cairo."""
    png: bytes = _cairosvg().svg2png(bytestring=_drawable(svg), scale=_scale(svg))
    return png


def svg_to_pdf(svg: bytes) -> bytes:
    pdf: bytes = _cairosvg().svg2pdf(bytestring=_drawable(svg))
    return pdf


def missing_part() -> str | None:
    """What this machine lacks to draw the charts, or None when it can."""
    from server.pdf import missing_part as missing_for_print

    try:
        import cairosvg  # noqa: F401
    except OSError:
        return "the cairo library (Debian: libcairo2)"
    return missing_for_print()
