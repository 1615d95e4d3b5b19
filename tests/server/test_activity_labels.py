"""Every action written to the audit log has words in the activity feed, not a raw key
such as `meeting.start` (issue 23, item 9)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from server.audit.service import ACTION_LABELS
from server.i18n import translate

SERVER = Path(__file__).resolve().parents[2] / "server"
KEY = re.compile(r"^[a-z_]+\.[a-z_]+$")
WRITERS = {"record", "entry", "record_action", "_audit"}


def audited_actions() -> set[str]:
    """The action keys passed to the audit writers anywhere in server/."""
    found: set[str] = set()
    for path in SERVER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in WRITERS:
                continue
            values = [k.value for k in node.keywords if k.arg == "action"] + list(node.args)
            for value in values:
                for const in ast.walk(value):
                    text = const.value if isinstance(const, ast.Constant) else None
                    if isinstance(text, str) and KEY.match(text):
                        found.add(text)
    return found


def test_every_audited_action_has_a_label_in_both_languages() -> None:
    actions = audited_actions()
    assert "meeting.start" in actions and "risk.raise" in actions  # the scan finds them
    missing = sorted(a for a in actions if a not in ACTION_LABELS)
    assert missing == []
    for action in actions:
        assert translate("zh-CN", ACTION_LABELS[action]) != ACTION_LABELS[action], action
