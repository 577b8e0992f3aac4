"""Bar charts as inline SVG, drawn on the server: no JavaScript library, no build step, and they
print. Labels are escaped (a flag code or a grade is data)."""

from __future__ import annotations

from markupsafe import Markup, escape


def bar_chart(items: list[tuple[str, int]], width: int = 520, bar: int = 22, gap: int = 8) -> Markup:
    if not items:
        return Markup('<p class="muted">暂无数据</p>')
    label_w = 120
    top = max((v for _, v in items), default=0) or 1
    height = len(items) * (bar + gap) + gap
    parts = [f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar + gap)
        w = round((width - label_w - 60) * value / top)
        parts.append(f'<text x="{label_w - 6}" y="{y + bar * 0.7:.0f}" text-anchor="end" font-size="13">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{bar}" fill="#3b6ea5"></rect>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + bar * 0.7:.0f}" font-size="13">{int(value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
