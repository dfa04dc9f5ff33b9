"""A small server-side SVG stacked bar chart (no JavaScript, no external assets).

Private: used by the admin activity overview. Every piece of text that ends up
in the SVG is escaped here, so callers may pass labels straight from the
database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

#: Colour-blind friendly palette (Okabe–Ito), cycled per series.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)


def _nice_max(value: int) -> int:
    """Round the axis maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - loop always returns


def stacked_bar_chart(
    days: Sequence[dt.date],
    series: Mapping[str, Sequence[int]],
    *,
    title: str = "",
    width: int = 760,
    height: int = 260,
) -> SafeString:
    """Render ``series`` (label -> one count per day) as stacked bars per day.

    Returns SVG markup marked safe; labels and the title are escaped.
    """
    for label, counts in series.items():
        if len(counts) != len(days):
            raise ValueError(
                f"Series {label!r} has {len(counts)} values for {len(days)} days."
            )
    left, right, top, bottom = 48, 12, 28, 56
    legend_h = 18 * ((len(series) + 3) // 4) if series else 0
    plot_w = width - left - right
    plot_h = height - top - bottom
    total_h = height + legend_h
    totals = [sum(counts[i] for counts in series.values()) for i in range(len(days))]
    peak = _nice_max(max(totals, default=0))
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 1.0)

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_h}" '
        f'width="{width}" height="{total_h}" role="img" '
        f'aria-label="{escape(title)}" class="icv-core-audit-chart" '
        'font-family="sans-serif" font-size="11">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
        parts.append(
            f'<text x="{left}" y="16" font-size="13" font-weight="bold">'
            f"{escape(title)}</text>"
        )
    # Axis and gridlines at 0, 1/2 and the maximum.
    for fraction in (0.0, 0.5, 1.0):
        y = top + plot_h - plot_h * fraction
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            'stroke="#ccc" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{int(peak * fraction)}</text>"
        )
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar_w) / 2
        y_cursor: float = top + plot_h
        for index, (label, counts) in enumerate(series.items()):
            count = counts[i]
            if not count:
                continue
            h = plot_h * count / peak
            y_cursor -= h
            colour = PALETTE[index % len(PALETTE)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y_cursor:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(day.isoformat())} {escape(label)}: {count}</title>"
                "</rect>"
            )
        # Label every 5th day (and the last) to keep the axis readable.
        if i % 5 == 0 or i == len(days) - 1:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" '
                f'text-anchor="middle">{escape(day.strftime("%m-%d"))}</text>'
            )
    if not any(totals):
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
            'text-anchor="middle" fill="#666">No entries</text>'
        )
    for index, label in enumerate(series):
        col, row = index % 4, index // 4
        lx = left + col * (plot_w / 4)
        ly = height - 22 + row * 18
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>'
        )
        parts.append(f'<text x="{lx + 14:.1f}" y="{ly}">{escape(label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
