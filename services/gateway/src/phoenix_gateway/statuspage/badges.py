"""SVG badges (the flat shields.io look): a label and a value on coloured halves.

Text is XML-escaped and the SVG has no script, style element or link, so a
badge embedded anywhere can only ever draw two boxes and two words.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

COLORS = {
    "up": "#1f8b4c",
    "degraded": "#c27c0e",
    "down": "#c0392b",
    "maintenance": "#2d6cdf",
    "unknown": "#6b7780",
    "paused": "#6b7780",
}
MAX_LABEL = 40


def _width(text: str) -> int:
    # Verdana 11px averages about 7 px a character; 10 px padding each side.
    return 7 * len(text) + 20


def badge(label: str, value: str, color: str) -> str:
    label = label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
    left, right = _width(label), _width(value)
    total = left + right
    lx, rx = left * 5, (left + right / 2) * 10
    plain = f"{label}: {value}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20"'
        f' role="img" aria-label="{escape(plain, {chr(34): "&quot;"})}">'
        f"<title>{escape(plain)}</title>"
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{color}"/>'
        '<g fill="#fff" text-anchor="middle"'
        ' font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110">'
        f'<text x="{lx}" y="140" transform="scale(.1)">{escape(label)}</text>'
        f'<text x="{rx:.0f}" y="140" transform="scale(.1)">{escape(value)}</text>'
        "</g></svg>"
    )


def status_badge(label: str, status: str) -> str:
    return badge(label, status, COLORS.get(status, COLORS["unknown"]))


def uptime_badge(label: str, percentage: float | None) -> str:
    if percentage is None:
        return badge(label, "n/a", COLORS["unknown"])
    if percentage >= 99.0:
        color = COLORS["up"]
    elif percentage >= 95.0:
        color = COLORS["degraded"]
    else:
        color = COLORS["down"]
    return badge(label, f"{percentage:.2f}%", color)
