"""The charter, the collaboration confirmation and the closing report out of Xietong, as
Markdown and as Word, in the reader's language. Pure: a document's state in, text or bytes out."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from docx import Document

from server import i18n
from server.signoffs import content
from server.signoffs.models import (
    DECISION_LABELS,
    DOCUMENT_STATUS_LABELS,
    KIND_LABELS,
    SLUG_OF_KIND,
)
from server.signoffs.queries import DocumentState


def _signature_rows(state: DocumentState, zone: str) -> list[list[str]]:
    _ = i18n.gettext
    rows = []
    for s in state.signatures:
        rows.append(
            [
                s.department.name,
                s.signer.name,
                _(DECISION_LABELS[s.signature.decision]),
                i18n.format_instant(s.signature.signed_at, zone),
                f"v{s.number} {content.short_hash(s.signature.content_hash)}"
                + ("" if s.integrity_ok else f" · {_('Integrity check failed')}"),
            ]
        )
    return rows


def _headline(state: DocumentState) -> tuple[str, str]:
    _ = i18n.gettext
    title = f"{state.project.name} · {_(KIND_LABELS[state.document.kind])}"
    meta = _(
        "Version %(number)s · %(status)s · content hash %(hash)s",
        number=state.current.number,
        status=_(DOCUMENT_STATUS_LABELS[state.document.status]),
        hash=state.current.content_hash,
    )
    if not state.integrity_ok:
        meta += " · " + _(
            "Integrity check failed: the stored text or signatures were changed outside Xietong."
        )
    return title, meta


def _sections(state: DocumentState) -> list[content.SectionText]:
    return content.document_lines(state.document.kind, state.current.body, i18n.gettext)


def _section_title(section: content.SectionText) -> str:
    _ = i18n.gettext
    title = _(section.title) if section.title_is_message else section.title
    return f"{title} · {_(section.part)}" if section.part else title


def _signature_header() -> list[str]:
    _ = i18n.gettext
    return [_("Department"), _("Department head"), _("Decision"), _("Time"), _("Version")]


def file_name(state: DocumentState, extension: str) -> str:
    kind = SLUG_OF_KIND[state.document.kind]
    return f"{state.project.code}-{kind}-v{state.current.number}.{extension}"


def document_markdown(state: DocumentState, language: str) -> str:
    with i18n.speaking(language):
        title, meta = _headline(state)
        lines = [f"# {title}", "", meta, ""]
        for section in _sections(state):
            lines += [f"## {_section_title(section)}", ""]
            lines += [f"- {line}" for line in section.lines] or ["—"]
            lines.append("")
        header = _signature_header()
        lines += [f"## {i18n.gettext('Signatures')}", ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for row in _signature_rows(state, state.project.time_zone):
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def _docx_table(doc: Any, header: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    for i, cell in enumerate(header):
        table.rows[0].cells[i].text = cell
    for r, row in enumerate(rows, start=1):
        for i, cell in enumerate(row):
            table.rows[r].cells[i].text = cell


def document_docx(state: DocumentState, language: str) -> bytes:
    with i18n.speaking(language):
        title, meta = _headline(state)
        doc = Document()
        doc.add_heading(title, level=0)
        doc.add_paragraph(meta)
        for section in _sections(state):
            doc.add_heading(_section_title(section), level=1)
            columns = content.generated_columns(section)
            if columns and section.lines:
                _docx_table(
                    doc,
                    [i18n.gettext(c) for c in columns],
                    [content.table_cells(line, len(columns)) for line in section.lines],
                )
                continue
            for line in section.lines or ["—"]:
                doc.add_paragraph(line, style="List Bullet" if section.lines else None)
        doc.add_heading(i18n.gettext("Signatures"), level=1)
        _docx_table(doc, _signature_header(), _signature_rows(state, state.project.time_zone))
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
