"""Every mail and chat template has its subject alone on the first line.

The template environment trims the newline after a block tag, so a first line that ends
with `{% endif %}` must be followed by an empty line, or the greeting joins the subject.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MESSAGES = sorted(
    p
    for folder in ("emails", "chat")
    for p in (TEMPLATES / folder).glob("*.txt")
    if not p.name.startswith("_")
)


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_subject_line_stands_alone(path: Path) -> None:
    first, second = path.read_text(encoding="utf-8").split("\n")[:2]
    if first.rstrip().endswith("%}"):
        assert second.strip() == "", f"{path.name}: the block tag eats the subject's line end"
