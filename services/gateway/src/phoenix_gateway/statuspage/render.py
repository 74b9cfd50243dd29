"""Server-rendered HTML of a status page. Everything a user wrote is escaped.

Templates are ``string.Template`` texts filled by :func:`html`, which escapes
every value unless it is :class:`Safe` (a fragment that :func:`html` itself
produced). So escaping is the default and cannot be forgotten at one spot.
The only inline style carries the response's CSP nonce; there is no script.
"""

from __future__ import annotations

import html as _html
from string import Template

from phoenix_gateway.statuspage.view import PublicView


class Safe(str):
    """Markup already escaped by :func:`html`."""

    __slots__ = ()


def escape(value: object) -> Safe:
    return value if isinstance(value, Safe) else Safe(_html.escape(str(value), quote=True))


def html(template: str, **values: object) -> Safe:
    return Safe(Template(template).substitute({k: escape(v) for k, v in values.items()}))


def join(parts: list[Safe]) -> Safe:
    return Safe("".join(parts))


STATUS_TEXT = {
    "up": "Operational",
    "degraded": "Degraded performance",
    "down": "Outage",
    "maintenance": "Under maintenance",
    "unknown": "Status unknown",
    "paused": "Paused",
}
OVERALL_TEXT = {
    "up": "All systems operational",
    "degraded": "Some systems are slow",
    "down": "Some systems are down",
    "maintenance": "Maintenance in progress",
    "unknown": "Status unknown",
}

STYLE = """
:root { color-scheme: light dark; --bg: #fff; --fg: #1d2125; --muted: #5f6b76; --line: #e3e6e8; }
body.dark { --bg: #15191d; --fg: #e8eaed; --muted: #9aa4ad; --line: #2c3339; }
@media (prefers-color-scheme: dark) {
  body.auto { --bg: #15191d; --fg: #e8eaed; --muted: #9aa4ad; --line: #2c3339; }
}
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 46rem; margin: 0 auto; padding: 2rem 1rem; }
.banner { padding: 1rem 1.25rem; border-radius: .5rem; color: #fff; font-weight: 600; }
.up { background: #1f8b4c; } .degraded { background: #c27c0e; } .down { background: #c0392b; }
.maintenance { background: #2d6cdf; } .unknown, .paused { background: #6b7780; }
ul { list-style: none; padding: 0; } li { border-bottom: 1px solid var(--line); padding: .75rem 0; }
.row { display: flex; justify-content: space-between; gap: 1rem; }
.pill { color: #fff; border-radius: 1rem; padding: 0 .6rem; font-size: .85rem; }
.muted, footer { color: var(--muted); font-size: .9rem; }
form { display: flex; gap: .5rem; } input { flex: 1; padding: .4rem; }
"""

_DOCUMENT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">$refresh
<title>$title</title><style nonce="$nonce">$style</style></head>
<body class="$theme"><main>$body</main></body></html>
"""


def _document(title: str, body: Safe, nonce: str, theme: str = "auto", refresh: int = 0) -> str:
    refresh_tag = html('\n<meta http-equiv="refresh" content="$s">', s=refresh) if refresh else ""
    return html(
        _DOCUMENT,
        refresh=Safe(refresh_tag),
        title=title,
        nonce=nonce,
        style=Safe(STYLE),
        theme=theme,
        body=body,
    )


def _uptime(view: PublicView, uptime: dict[str, float | None] | None) -> Safe:
    if not view.show_uptime_percentage or not uptime:
        return Safe("")
    parts = [
        f"{window} {value:.2f}%" if value is not None else f"{window} n/a"
        for window, value in uptime.items()
    ]
    return html('<div class="muted">uptime $u</div>', u=" · ".join(parts))


def render_page(view: PublicView, nonce: str) -> str:
    monitors = join(
        [
            html(
                '<li><div class="row"><span>$name</span><span class="pill $status">$text</span>'
                "</div>$uptime</li>",
                name=m.display_name,
                status=m.status,
                text=STATUS_TEXT.get(m.status, m.status),
                uptime=_uptime(view, m.uptime),
            )
            for m in view.monitors
        ]
    )
    incidents = join(
        [
            html(
                '<li><strong>$title</strong> <span class="muted">$status since $at</span>'
                "$updates</li>",
                title=i.title,
                status=i.status,
                at=i.started_at.strftime("%Y-%m-%d %H:%M UTC"),
                updates=join(
                    [
                        html(
                            '<div><span class="muted">$at</span> $message</div>',
                            at=u.at.strftime("%H:%M"),
                            message=u.message,
                        )
                        for u in i.updates
                    ]
                ),
            )
            for i in view.incidents
        ]
    )
    body = html(
        "<h1>$name</h1><p>$description</p>"
        '<div class="banner $status">$overall</div>'
        "$incidents<h2>Services</h2><ul>$monitors</ul>"
        "<footer><p>$footer</p><p>Updated $generated</p></footer>",
        name=view.name,
        description=view.description,
        status=view.status,
        overall=OVERALL_TEXT.get(view.status, view.status),
        incidents=html("<h2>Incidents</h2><ul>$items</ul>", items=incidents)
        if view.incidents
        else Safe(""),
        monitors=monitors,
        footer=view.footer_text,
        generated=view.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
    )
    return _document(view.name, body, nonce, view.theme, view.auto_refresh_interval)


def render_locked(slug: str, nonce: str, problem: str = "") -> str:
    """The password form; says nothing about the page behind it."""
    body = html(
        "<h1>This status page is protected</h1>"
        '<p class="muted">$problem</p>'
        '<form method="post" action="/status/$slug">'
        '<input type="password" name="password" autocomplete="current-password"'
        ' aria-label="Password" required><button type="submit">Open</button></form>',
        problem=problem,
        slug=slug,
    )
    return _document("Protected status page", body, nonce)


def render_not_found(nonce: str) -> str:
    return _document("Not found", html("<h1>Status page not found</h1>"), nonce)
