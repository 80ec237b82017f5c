"""Charts drawn on the server as SVG: nothing to load, readable without JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

#: Fill colours of the series, all with at least 4.5:1 contrast against white text.
COLOURS = {"government": "#0b4f9c", "citizen": "#b34700", "joint": "#1d6b35", "unclear": "#6b6b6b"}


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[int]]],
    *,
    series: Sequence[tuple[str, str]],
    title: str = "",
) -> Markup:
    """One horizontal bar per row, split into its series' shares (100 % each); counts shown.

    `rows` are (label, counts in the order of `series`); `series` are (key, label). Each segment
    has a `data-series` and `data-count` so tests and people read the same numbers.
    """
    label_w, bar_w, row_h, gap = 90, 560, 34, 12
    height = len(rows) * (row_h + gap) + gap
    width = label_w + bar_w + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for index, (row_label, counts) in enumerate(rows):
        y = gap + index * (row_h + gap)
        total = sum(counts)
        parts.append(
            f'<g data-row="{escape(row_label)}" data-total="{total}">'
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 5}" text-anchor="end" '
            f'font-size="15" fill="#1a1a1a">{escape(row_label)}</text>'
        )
        if total == 0:
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{row_h}" fill="#eceae6"/>'
            )
        x = float(label_w)
        for (key, name), count in zip(series, counts, strict=True):
            if not count:
                continue
            w = bar_w * count / total
            colour = COLOURS.get(key, "#444444")
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h}" fill="{colour}" '
                f'data-series="{escape(key)}" data-count="{count}">'
                f"<title>{escape(row_label)} · {escape(name)}: {count}</title></rect>"
            )
            if w >= 24:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + row_h / 2 + 5}" text-anchor="middle" '
                    f'font-size="14" fill="#ffffff">{count}</text>'
                )
            x += w
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
