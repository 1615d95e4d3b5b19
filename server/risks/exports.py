"""The register out of Xietong: the heat map as SVG and the register as Excel, in the
reader's language. Pure: rows in, bytes out (the risks page draws the same heat map)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from server import i18n
from server.i18n import gettext as _
from server.projects.models import Project
from server.risks.models import (
    RISK_CATEGORY_LABELS,
    RISK_LEVEL_LABELS,
    RISK_STATUS_LABELS,
    RISK_STRATEGY_LABELS,
    Risk,
    RiskLevel,
)
from server.risks.queries import ThreatenedTask
from server.risks.register import level_of
from server.sheets import XLSX_MEDIA_TYPE as XLSX_MEDIA_TYPE
from server.sheets import append_text_safe
from server.templating import render

CELL, PAD_LEFT, PAD_TOP = 56, 44, 12
LEVEL_COLOURS = {RiskLevel.HIGH: "#fca5a5", RiskLevel.MEDIUM: "#fcd34d", RiskLevel.LOW: "#bbf7d0"}


@dataclass(frozen=True)
class HeatCell:
    probability: int
    impact: int
    count: int
    level: RiskLevel
    x: int
    y: int

    @property
    def colour(self) -> str:
        return LEVEL_COLOURS[self.level]


def heat_cells(project: Project, counts: dict[tuple[int, int], int]) -> list[HeatCell]:
    """Impact left to right, probability bottom to top, each cell coloured by the project's
    matrix and holding the number of open and monitored risks in it."""
    return [
        HeatCell(
            probability=p,
            impact=i,
            count=counts.get((p, i), 0),
            level=level_of(project, p, i),
            x=PAD_LEFT + (i - 1) * CELL,
            y=PAD_TOP + (5 - p) * CELL,
        )
        for p in range(5, 0, -1)
        for i in range(1, 6)
    ]


def heat_map_svg(
    project: Project,
    counts: dict[tuple[int, int], int],
    language: str,
    *,
    standalone: bool = True,
    link: str | None = None,
) -> str:
    return render(
        "risks/_heat_map.svg",
        language,
        cells=heat_cells(project, counts),
        cell=CELL,
        pad_left=PAD_LEFT,
        pad_top=PAD_TOP,
        width=PAD_LEFT + 5 * CELL + 8,
        height=PAD_TOP + 5 * CELL + 40,
        standalone=standalone,
        link=link,
    )


def register_file_name(project: Project) -> str:
    return f"{project.code}-risks.xlsx"


def register_xlsx(
    project: Project,
    risks: Sequence[Risk],
    tasks: dict[int, list[ThreatenedTask]],
    language: str,
    attachments: dict[int, list[str]] | None = None,
) -> bytes:
    """The register as people hand it around: one row per risk, the newest level first, with
    each risk's file links (name: address)."""
    attachments = attachments or {}
    with i18n.speaking(language):
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = _("Risk register")[:31]
        append_text_safe(sheet, [project.name, project.code])
        header = [
            _("No."),
            _("Risk"),
            _("Category"),
            _("Department"),
            _("Owner"),
            _("Probability"),
            _("Impact"),
            _("Score"),
            _("Level"),
            _("Level set by hand because"),
            _("Strategy"),
            _("Response measures"),
            _("Trigger"),
            _("Review date"),
            _("Status"),
            _("Threatened tasks"),
            _("Description"),
            _("Attachments"),
        ]
        append_text_safe(sheet, header)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for risk in risks:
            row = _register_row(risk, tasks.get(risk.id, []))
            append_text_safe(sheet, [*row, "\n".join(attachments.get(risk.id, []))])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _register_row(risk: Risk, tasks: list[ThreatenedTask]) -> list[object]:
    threatened = "; ".join(
        f"{t.task.wbs_code} {t.task.name}".strip()
        + (f" ({_('critical')})" if t.is_critical else "")
        for t in tasks
    )
    return [
        risk.id,
        risk.title,
        _(RISK_CATEGORY_LABELS[risk.category]),
        risk.department.name if risk.department else "",
        risk.owner.name if risk.owner else "",
        risk.probability,
        risk.impact,
        risk.probability * risk.impact,
        _(RISK_LEVEL_LABELS[risk.level]),
        risk.level_reason if risk.level_by_hand else "",
        _(RISK_STRATEGY_LABELS[risk.strategy]) if risk.strategy else "",
        risk.measures,
        risk.trigger,
        risk.review_date,
        _(RISK_STATUS_LABELS[risk.status]),
        threatened,
        risk.description,
    ]
