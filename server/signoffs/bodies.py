"""A document body as a person (or the API) gives it, checked and cleaned into what is stored:
the charter's sections, the confirmation's notes, the closing report's results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.org.models import Department
from server.signoffs import content
from server.signoffs.models import DocumentKind
from server.validation import Checks


def checked_body(
    kind: DocumentKind,
    body: Any,
    required: Sequence[Department],
    current: dict[str, Any] | None = None,
) -> dict[str, Any]:
    checks = Checks()
    if not isinstance(body, dict):
        checks.fail("body", "The document body must be an object of sections.")
        checks.done()
    if kind is DocumentKind.COLLABORATION_CONFIRMATION:
        return _checked_confirmation(checks, body, required, _generated_of(current))
    if kind is DocumentKind.CLOSING_REPORT:
        return _checked_closing_report(checks, body, current or content.empty_closing_report())
    allowed = {s.key: s for s in content.CHARTER_SECTIONS}
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        checks.fail("body", "Unknown section: %(name)s.", name=", ".join(unknown))
    cleaned = content.empty_charter()
    for key, section in allowed.items():
        value = body.get(key, cleaned[key])
        if section.columns is None:
            if not isinstance(value, str):
                checks.fail(key, "This section must be text.")
                continue
            cleaned[key] = checks.long_text(key, value)
        else:
            cleaned[key] = _checked_rows(checks, key, value, section.columns)
    checks.done()
    return content.normalized(cleaned)  # type: ignore[no-any-return]


def _checked_rows(checks: Checks, key: str, value: Any, columns: tuple[str, ...]) -> list[Any]:
    if not isinstance(value, list) or len(value) > content.MAX_ITEMS:
        checks.fail(
            key, "This section must be a list of at most %(max)s items.", max=content.MAX_ITEMS
        )
        return []
    rows = []
    for item in value:
        if not isinstance(item, dict) or any(not isinstance(item.get(c, ""), str) for c in columns):
            checks.fail(
                key, "Each item needs the fields %(fields)s as text.", fields=", ".join(columns)
            )
            return []
        row = {
            c: checks.text(key, item.get(c, ""), required=False, max_length=500) for c in columns
        }
        if any(row.values()):
            rows.append(row)
    return rows


def _generated_of(body: dict[str, Any] | None) -> dict[int, dict[str, str]]:
    """The generated parts of each department in a confirmation body."""
    result: dict[int, dict[str, str]] = {}
    for entry in (body or {}).get("departments", []):
        parts = {p: str(entry.get(p) or "") for p in content.GENERATED_PARTS if entry.get(p)}
        if parts:
            result[int(entry.get("departmentId", 0))] = parts
    return result


def _checked_confirmation(
    checks: Checks,
    body: dict[str, Any],
    required: Sequence[Department],
    generated: dict[int, dict[str, str]],
) -> dict[str, Any]:
    given = body.get("departments")
    if not isinstance(given, list):
        checks.fail("body", "The confirmation needs a list of departments.")
        checks.done()
        return {}
    names = {d.id: d.name for d in required}
    by_id: dict[int, dict[str, str]] = {}
    for entry in given:
        department_id = entry.get("departmentId") if isinstance(entry, dict) else None
        if department_id not in names:
            checks.fail("departmentId", "This department does not take part in the project.")
            continue
        key = f"department-{department_id}"
        by_id[int(department_id)] = {
            part: checks.long_text(key, str(entry.get(part) or ""))
            for part in ("requirements", "resources")
        }
    checks.done()
    sections = [
        {"departmentId": d.id, "department": d.name}
        | by_id.get(d.id, {"requirements": "", "resources": ""})
        | generated.get(d.id, {})
        for d in required
    ]
    return content.normalized({"departments": sections})  # type: ignore[no-any-return]


def _checked_closing_report(
    checks: Checks, body: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """The PM writes results, evidence, verdicts and the summary; the goals, criteria and
    figures stay as generated (a section left out keeps what it had)."""
    cleaned = dict(current)
    for key, prefix in (("goalResults", "goal"), ("criterionResults", "criterion")):
        if key in body:
            cleaned[key] = _checked_results(checks, prefix, body[key], current.get(key, []))
    if "summary" in body:
        cleaned["summary"] = checks.long_text("summary", str(body["summary"] or ""))
    checks.done()
    return content.normalized(cleaned)  # type: ignore[no-any-return]


def _checked_results(
    checks: Checks, prefix: str, given: Any, rows: list[dict[str, str]]
) -> list[dict[str, str]]:
    if not isinstance(given, list) or len(given) != len(rows):
        checks.fail(
            prefix,
            "Give one result for each of the %(count)s items the signed charter lists.",
            count=len(rows),
        )
        return rows
    result = []
    for index, (row, entry) in enumerate(zip(rows, given, strict=True)):
        entry = entry if isinstance(entry, dict) else {}
        verdict = str(entry.get("verdict") or "").upper()
        if verdict and verdict not in content.VERDICTS:
            checks.fail(f"{prefix}-{index}-verdict", "Choose met, partly met or not met.")
        result.append(
            row
            | {
                "result": checks.text(
                    f"{prefix}-{index}-result",
                    str(entry.get("result") or ""),
                    required=False,
                    max_length=2000,
                    multiline=True,
                ),
                "evidence": checks.link(
                    f"{prefix}-{index}-evidence", str(entry.get("evidence") or "")
                ),
                "verdict": verdict if verdict in content.VERDICTS else "",
            }
        )
    return result
