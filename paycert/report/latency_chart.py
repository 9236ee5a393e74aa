"""The KPI section's latency chart: an inline SVG made here, so the report stays one offline file (no script).

Per operation three bars (p50, p95, p99, in ms) against the thresholds, drawn as dashed lines in the bars'
colours; a bar past its threshold is outlined in red.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

PERCENTILES = (("p50", "#7fb3d5"), ("p95", "#2e86c1"), ("p99", "#1b4f72"))
LEFT = 70  # room for the operation names
WIDTH = 640
BAR = 9
GAP = 14  # between operations
TOP = 24  # room for the legend
AXIS = 22  # room for the scale
LEGEND = 160  # one legend entry, "p99 (limit 1500 ms)" at 11 px, with room to spare


def latency_svg(operations: Sequence[Mapping[str, Any]], thresholds: Mapping[str, float]) -> Markup:
    """The chart for one gateway's load phase (operations as readiness.json holds them)."""
    limits = {name: float(thresholds.get(f"{name}_ms", 0.0)) for name, _ in PERCENTILES}
    values = [float(op.get(f"{name}_ms", 0.0)) for op in operations for name, _ in PERCENTILES]
    top = max([*values, *limits.values(), 1.0]) * 1.1
    plot = WIDTH - LEFT - 10
    height = TOP + len(operations) * (3 * BAR + GAP) + AXIS

    def x(ms: float) -> float:
        return LEFT + plot * ms / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="latency-chart" role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="system-ui, sans-serif" font-size="11">',
        "<title>Latency per operation under load (ms): p50, p95, p99 against the thresholds</title>",
    ]
    for i, (name, colour) in enumerate(PERCENTILES):
        parts.append(
            f'<rect x="{LEFT + i * LEGEND}" y="6" width="10" height="10" fill="{colour}"/>'
            f'<text x="{LEFT + i * LEGEND + 14}" y="15">{name} (limit {limits[name]:.0f} ms)</text>'
        )
    y = TOP
    for op in operations:
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 1.5 * BAR + 4}" text-anchor="end">{escape(op.get("name", ""))}</text>'
        )
        for name, colour in PERCENTILES:
            ms = float(op.get(f"{name}_ms", 0.0))
            over = limits[name] and ms > limits[name]
            stroke = ' stroke="#b3261e" stroke-width="2"' if over else ""
            parts.append(
                f'<rect x="{LEFT}" y="{y}" width="{max(x(ms) - LEFT, 1):.1f}" height="{BAR - 1}" '
                f'fill="{colour}"{stroke}><title>{escape(op.get("name", ""))} {name}: {ms:.0f} ms</title></rect>'
            )
            y += BAR
        y += GAP
    bottom = y - GAP + 4
    for name, colour in PERCENTILES:
        if limits[name]:
            parts.append(
                f'<line x1="{x(limits[name]):.1f}" y1="{TOP - 4}" x2="{x(limits[name]):.1f}" y2="{bottom}" '
                f'stroke="{colour}" stroke-dasharray="4 3"/>'
            )
    parts.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{LEFT + plot}" y2="{bottom}" stroke="#57606a"/>')
    for k in range(5):
        ms = top * k / 4
        anchor = "end" if k == 4 else "middle"  # the last label ends at the plot's edge, not past the svg
        parts.append(f'<text x="{x(ms):.1f}" y="{bottom + 14}" text-anchor="{anchor}">{ms:.0f}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escaped above, numbers are formatted
