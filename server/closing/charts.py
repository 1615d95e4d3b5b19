"""The closing report's SPI chart as SVG: pure, the report's rows in, markup out. Text is
escaped where it enters; the same markup serves the page, the PDF and the Word file's reader."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from server.signoffs.content import table_cells

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 16, 36


def spi_points(rows: list[str]) -> list[tuple[str, float]]:
    """(week, SPI) from the report's "week | SPI" rows; rows that do not parse are left out."""
    points = []
    for line in rows:
        week, value = table_cells(line, 2)
        try:
            points.append((week, float(value)))
        except ValueError:
            continue
    return points


def spi_svg(rows: list[str], title: str) -> str:
    """A line of weekly SPI against the 1.0 line (on plan); empty when nothing was measured."""
    points = spi_points(rows)
    if not points:
        return ""
    top = max(1.2, *(spi for _, spi in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    xy = [(LEFT + i * step, y(spi)) for i, (_, spi) in enumerate(points)]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="spi-chart" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}"'
        f' y2="{TOP + plot_h}" stroke="#888"/>',
        f'<line class="on-plan" x1="{LEFT}" y1="{y(1.0):.1f}" x2="{WIDTH - RIGHT}"'
        f' y2="{y(1.0):.1f}" stroke="#2a7" stroke-dasharray="4 3"/>',
        f'<text x="{LEFT - 6}" y="{y(1.0) + 4:.1f}" text-anchor="end" font-size="11">1.0</text>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11">{top:.1f}</text>',
        '<polyline fill="none" stroke="#36c" stroke-width="2" points="'
        + " ".join(f"{px:.1f},{py:.1f}" for px, py in xy)
        + '"/>',
    ]
    for (week, spi), (px, py) in zip(points, xy, strict=True):
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="#36c">'
            f"<title>{escape(week)}: {spi:.2f}</title></circle>"
        )
    label_every = max(1, len(points) // 6)
    for i, (week, _) in enumerate(points):
        if i % label_every == 0 or i == len(points) - 1:
            parts.append(
                f'<text x="{xy[i][0]:.1f}" y="{HEIGHT - 12}" text-anchor="middle"'
                f' font-size="11">{escape(week)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
