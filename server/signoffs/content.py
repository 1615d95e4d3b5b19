"""Document bodies as plain data: canonical form, content hash, sections, diffs. No I/O."""

from __future__ import annotations

import difflib
import hashlib
import hmac
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.i18n import N_
from server.signoffs.models import DocumentKind


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    # Field names of a list section's items; None for a text section.
    columns: tuple[str, ...] | None = None


CHARTER_SECTIONS: tuple[Section, ...] = (
    Section("background", N_("Background")),
    Section("goals", N_("Goals and measurable targets"), ("goal", "target")),
    Section("scopeIn", N_("In scope")),
    Section("scopeOut", N_("Out of scope")),
    Section("milestones", N_("Milestones"), ("name", "date")),
    Section("coreTeam", N_("Core team and roles"), ("name", "department", "role")),
    Section("successCriteria", N_("Success criteria")),
)
MAX_TEXT = 20_000
MAX_ITEMS = 200


def _normalized_text(value: str) -> str:
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in value.split("\n")).strip("\n")


def normalized(value: Any) -> Any:
    """The body as it is stored and hashed: NFC, LF line ends, no trailing spaces."""
    if isinstance(value, str):
        return _normalized_text(value)
    if isinstance(value, dict):
        return {_normalized_text(str(k)): normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(item) for item in value]
    return value


def canonical_json(document_id: int, number: int, body: dict[str, Any]) -> str:
    payload = {"body": normalized(body), "documentId": document_id, "versionNumber": number}
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(document_id: int, number: int, body: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON; the id and number make every version's hash its own."""
    return hashlib.sha256(canonical_json(document_id, number, body).encode()).hexdigest()


@dataclass(frozen=True)
class SealedFacts:
    """What a signature attests; its seal is a MAC over exactly these."""

    document_id: int
    version_number: int
    content_hash: str
    department_id: int
    signer_id: int
    decision: str
    signed_at_epoch: int


def signature_seal(secret_key: str, facts: SealedFacts) -> str:
    """HMAC-SHA-256 with the server's secret: editing a signature's row, or a body together
    with its hash, cannot produce a seal that verifies without the key."""
    message = "|".join(
        str(part)
        for part in (
            "signature-v1",
            facts.document_id,
            facts.version_number,
            facts.content_hash,
            facts.department_id,
            facts.signer_id,
            facts.decision,
            facts.signed_at_epoch,
        )
    )
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def seal_holds(secret_key: str, facts: SealedFacts, seal: str) -> bool:
    return bool(seal) and hmac.compare_digest(signature_seal(secret_key, facts), seal)


def short_hash(full: str) -> str:
    return full[:10]


# --- the charter's sections --------------------------------------------------------------


def empty_charter() -> dict[str, Any]:
    return {s.key: ([] if s.columns else "") for s in CHARTER_SECTIONS}


def parse_rows(text: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """One item per line, fields separated by "|" (as people type a table into a box)."""
    rows = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        parts += [""] * (len(columns) - len(parts))
        head = parts[: len(columns) - 1]
        tail = " | ".join(p for p in parts[len(columns) - 1 :] if p)
        rows.append(dict(zip(columns, [*head, tail], strict=True)))
    return rows


def rows_text(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    return "\n".join(" | ".join(str(row.get(c, "")) for c in columns).rstrip(" |") for row in rows)


def section_lines(section: Section, value: Any) -> list[str]:
    """A section as lines of text, for display, diffs and exports."""
    if section.columns is None:
        text = value if isinstance(value, str) else ""
        return [line for line in text.split("\n")] if text else []
    rows = value if isinstance(value, list) else []
    return [" — ".join(str(row.get(c, "")) for c in section.columns if row.get(c)) for row in rows]


def confirmation_sections(body: dict[str, Any]) -> list[tuple[Section, dict[str, Any]]]:
    """Per department: its requirements and resources, as the confirmation lists them."""
    result = []
    for entry in body.get("departments", []):
        key = f"department-{entry.get('departmentId')}"
        result.append((Section(key, str(entry.get("department", ""))), entry))
    return result


@dataclass(frozen=True)
class SectionText:
    key: str
    title: str
    # Charter titles are message ids; confirmation titles are department names.
    title_is_message: bool
    part: str
    lines: list[str]


CONFIRMATION_PARTS = (
    ("requirements", N_("Requirements")),
    ("resources", N_("Resources committed")),
    ("acceptedRequirements", N_("Requirements accepted in review")),
    ("committedResources", N_("Resources committed by suppliers")),
    ("resolvedGaps", N_("Resource gaps and their resolution")),
)
# Written from the requirements and resource requests, never typed: an edit of the notes
# keeps them as they are.
GENERATED_PARTS = ("acceptedRequirements", "committedResources", "resolvedGaps")
# Their lines are table rows, cells separated by GENERATED_SEPARATOR (the separator people
# already type tables with in the charter), under these column headings.
GENERATED_SEPARATOR = " | "
GENERATED_COLUMNS: dict[str, tuple[str, ...]] = {
    "acceptedRequirements": (
        N_("Priority"),
        N_("Requirement"),
        N_("Asked of"),
        N_("Acceptance criterion"),
        N_("Needed by"),
    ),
    "committedResources": (
        N_("Kind"),
        N_("Description"),
        N_("Quantity"),
        N_("Amount"),
        N_("Supplier"),
    ),
    "resolvedGaps": (
        N_("Request"),
        N_("Gap resolution"),
        N_("Lent by"),
        N_("Resolution note"),
        N_("Management's comment"),
    ),
}


def generated_columns(section: SectionText) -> tuple[str, ...] | None:
    """The column headings when a confirmation section is a generated table."""
    return GENERATED_COLUMNS.get(section.key.rsplit("-", 1)[-1])


def table_cells(line: str, width: int) -> list[str]:
    """A row's cells; the stored text has lost the trailing spaces of empty last cells."""
    cells = [cell.strip() for cell in line.split("|")]
    return (cells + [""] * width)[:width]


def document_lines(
    kind: DocumentKind, body: dict[str, Any], label: Callable[[str], str] = str
) -> list[SectionText]:
    """Each section of a body as lines of text, in document order; `label` puts the codes a
    body stores (a goal's verdict) into the reader's words."""
    if kind is DocumentKind.CLOSING_REPORT:
        return closing_report_lines(body, label)
    if kind is DocumentKind.COLLABORATION_CONFIRMATION:
        out = []
        for section, entry in confirmation_sections(body):
            for part, part_title in CONFIRMATION_PARTS:
                text = str(entry.get(part, ""))
                lines = text.split("\n") if text else []
                if not lines and part in GENERATED_PARTS:
                    continue  # nothing accepted, committed or resolved yet: no empty table
                out.append(
                    SectionText(f"{section.key}-{part}", section.label, False, part_title, lines)
                )
        return out
    return [
        SectionText(s.key, s.label, True, "", section_lines(s, body.get(s.key)))
        for s in CHARTER_SECTIONS
    ]


# --- the closing report (项目总结报告) -------------------------------------------------------
# Goals and success criteria come from the charter's last signed version and keep their words;
# the PM adds each one's result, evidence and verdict. The figures are generated from the
# project's record and are signed as they stood when they were generated.

VERDICTS = ("MET", "PARTLY", "NOT_MET")
VERDICT_LABELS = {"MET": N_("Met"), "PARTLY": N_("Partly met"), "NOT_MET": N_("Not met")}
GOAL_RESULT_FIELDS = ("goal", "target", "result", "evidence", "verdict")
CRITERION_RESULT_FIELDS = ("criterion", "result", "evidence", "verdict")
REPORT_TEXT_SECTIONS = (("summary", N_("Summary")),)
REPORT_FIGURE_SECTIONS = (
    ("scheduleFigures", N_("Schedule: baseline against actual")),
    ("milestoneFigures", N_("Milestones planned and actual")),
    ("spiSeries", N_("Schedule performance index (SPI) over time")),
    ("changeFigures", N_("Changes approved")),
    ("problemFigures", N_("Problems by severity")),
    ("escalationFigures", N_("Escalations by level")),
    ("meetingFigures", N_("Meetings and minutes")),
)
GENERATED_COLUMNS.update(
    {
        "goalResults": (
            N_("Goal"),
            N_("Measurable target"),
            N_("Result"),
            N_("Evidence"),
            N_("Verdict"),
        ),
        "criterionResults": (N_("Success criterion"), N_("Result"), N_("Evidence"), N_("Verdict")),
        "scheduleFigures": (
            N_("Baseline finish"),
            N_("Actual finish"),
            N_("Working days late (+) or early (−)"),
        ),
        "milestoneFigures": (
            N_("Milestone"),
            N_("Planned"),
            N_("Actual"),
            N_("Working days late (+) or early (−)"),
        ),
        "spiSeries": (N_("Week"), N_("SPI")),
        "changeFigures": (
            N_("Approved"),
            N_("Finish moved (working days)"),
            N_("Cost delta (CNY)"),
        ),
        "problemFigures": (
            N_("Severity"),
            N_("Problems"),
            N_("Resolved"),
            N_("Median days to resolve"),
        ),
        "escalationFigures": (N_("Level"), N_("Escalations")),
        "meetingFigures": (
            N_("Meetings held"),
            N_("Minutes published"),
            N_("On time (within 24 hours)"),
            N_("Share on time"),
        ),
    }
)


def empty_closing_report() -> dict[str, Any]:
    return {"goalResults": [], "criterionResults": [], "summary": ""} | {
        key: [] for key, _ in REPORT_FIGURE_SECTIONS
    }


def _result_line(row: dict[str, Any], fields: tuple[str, ...], label: Callable[[str], str]) -> str:
    cells = [str(row.get(f, "")) for f in fields]
    verdict = str(row.get("verdict", ""))
    cells[-1] = label(VERDICT_LABELS[verdict]) if verdict in VERDICT_LABELS else ""
    return GENERATED_SEPARATOR.join(cells)


def closing_report_lines(body: dict[str, Any], label: Callable[[str], str]) -> list[SectionText]:
    results = [
        SectionText(
            "goalResults",
            N_("Goals and measurable targets"),
            True,
            "",
            [_result_line(r, GOAL_RESULT_FIELDS, label) for r in body.get("goalResults", [])],
        ),
        SectionText(
            "criterionResults",
            N_("Success criteria"),
            True,
            "",
            [
                _result_line(r, CRITERION_RESULT_FIELDS, label)
                for r in body.get("criterionResults", [])
            ],
        ),
    ]
    texts = [
        SectionText(key, title, True, "", section_lines(Section(key, title), body.get(key)))
        for key, title in REPORT_TEXT_SECTIONS
    ]
    figures = [
        SectionText(key, title, True, "", [str(line) for line in body.get(key, [])])
        for key, title in REPORT_FIGURE_SECTIONS
    ]
    return results + texts + figures


@dataclass(frozen=True)
class SectionDiff:
    section: SectionText
    removed: list[str]
    added: list[str]


def diff(
    kind: DocumentKind, before: dict[str, Any] | None, after: dict[str, Any]
) -> list[SectionDiff]:
    """What changed, per section; sections that did not change are left out."""
    old = {section.key: section for section in document_lines(kind, before or {})}
    result = []
    for section in document_lines(kind, after):
        previous = old.pop(section.key, None)
        previous_lines = previous.lines if previous else []
        if previous_lines == section.lines:
            continue
        removed, added = [], []
        for line in difflib.ndiff(previous_lines, section.lines):
            if line.startswith("- "):
                removed.append(line[2:])
            elif line.startswith("+ "):
                added.append(line[2:])
        result.append(SectionDiff(section, removed, added))
    for gone in old.values():
        if gone.lines:
            result.append(SectionDiff(gone, gone.lines, []))
    return result
