"""Public status pages, no account needed: JSON, HTML, badges, and unlocking protected pages.

A private page and a slug nobody uses answer the same 404, so the public side
never tells which slugs exist. A password-protected page answers 401 until
the caller unlocks it (a cookie bound to the page and its current password).
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect
from redis.exceptions import RedisError

from phoenix_gateway.api.clients import TrustedProxies, client_address
from phoenix_gateway.api.problems import Problem
from phoenix_gateway.readmodel.statuspages import StatusPageReads
from phoenix_gateway.statuspage.access import UNLOCK_SECONDS, PageAccess, cookie_name
from phoenix_gateway.statuspage.badges import status_badge, uptime_badge
from phoenix_gateway.statuspage.passwords import fingerprint, verify_password
from phoenix_gateway.statuspage.render import render_locked, render_not_found, render_page
from phoenix_gateway.statuspage.view import PublicView, StatusPageViews

SLUG = re.compile(r"[a-z0-9-]{3,64}")
NOT_FOUND = "status page not found"
LOCKED = "this status page needs a password"
UNAVAILABLE = "password-protected pages are unavailable right now; try again shortly"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class PublicPages:
    """What the public routes need, as one dependency (not a dataclass: Litestar would model it)."""

    __slots__ = ("access", "cookie_secure", "reads", "trusted_proxies", "views")

    def __init__(
        self,
        views: StatusPageViews,
        access: PageAccess,
        reads: StatusPageReads,
        trusted_proxies: TrustedProxies,
        cookie_secure: bool,
    ) -> None:
        self.views = views
        self.access = access
        self.reads = reads
        self.trusted_proxies = trusted_proxies
        self.cookie_secure = cookie_secure

    async def open(self, slug: str, request: Request[Any, Any, Any]) -> PublicView:
        """The page's view if the caller may see it; else the 404 or 401 problem."""
        page = await self.views.load(slug) if SLUG.fullmatch(slug) else None
        if page is None or not page.public or page.view is None:
            raise Problem(404, NOT_FOUND)
        if page.password:
            cookie = request.cookies.get(cookie_name(page.page_id))
            try:
                allowed = await self.access.allowed(page.page_id, page.password, cookie)
            except RedisError:
                raise Problem(503, UNAVAILABLE) from None  # fail closed: never show a locked page
            if not allowed:
                raise Problem(401, LOCKED)
        return page.view

    async def unlock(
        self, slug: str, password: str, request: Request[Any, Any, Any]
    ) -> tuple[str, str] | None:
        """Check the password: (cookie name, token) to set, or None for a page without one."""
        try:
            return await self._unlock(slug, password, request)
        except RedisError:
            raise Problem(503, UNAVAILABLE) from None  # attempts cannot be counted: refuse them all

    async def _unlock(
        self, slug: str, password: str, request: Request[Any, Any, Any]
    ) -> tuple[str, str] | None:
        address = client_address(request, self.trusted_proxies)
        wait = await self.access.retry_after(slug, address)
        if wait:
            raise Problem(
                429, "too many wrong passwords; try later", headers={"Retry-After": str(wait)}
            )
        row = await self.reads.by_slug(slug) if SLUG.fullmatch(slug) else None
        if row is None or not row["spec"].get("is_public"):
            raise Problem(404, NOT_FOUND)
        if not row["password_hash"]:
            return None
        if not await verify_password(row["password_hash"], password):
            await self.access.failed(slug, address)
            raise Problem(401, "wrong password")
        page_id = str(row["id"])
        token = await self.access.grant(page_id, fingerprint(row["password_hash"]))
        return cookie_name(page_id), token

    def set_cookie(self, response: Response[Any], cookie: tuple[str, str] | None) -> None:
        if cookie is not None:
            response.set_cookie(
                key=cookie[0],
                value=cookie[1],
                max_age=UNLOCK_SECONDS,
                path="/",
                secure=self.cookie_secure,
                httponly=True,
                samesite="lax",
            )


class UnlockBody(msgspec.Struct, forbid_unknown_fields=True):
    password: Annotated[str, msgspec.Meta(max_length=1024)]


class Unlocked(msgspec.Struct):
    ok: bool


def _json(view: PublicView) -> Response[bytes]:
    return Response(
        msgspec.json.encode(view),
        media_type="application/json",
        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"},
    )


@get("/api/v1/public/status-pages/{slug:str}")
async def public_status_page(
    slug: str, request: Request[Any, Any, Any], public_pages: PublicPages
) -> Response[bytes]:
    return _json(await public_pages.open(slug, request))


@post("/api/v1/public/status-pages/{slug:str}/unlock", status_code=200)
async def unlock_status_page(
    slug: str, data: UnlockBody, request: Request[Any, Any, Any], public_pages: PublicPages
) -> Response[Unlocked]:
    cookie = await public_pages.unlock(slug, data.password, request)
    response = Response(Unlocked(ok=True), headers=SECURITY_HEADERS)
    public_pages.set_cookie(response, cookie)
    return response


# --- HTML ----------------------------------------------------------------------


def _html(body: str, nonce: str, status: int = 200) -> Response[str]:
    csp = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    )
    return Response(
        body,
        status_code=status,
        media_type="text/html; charset=utf-8",
        headers={
            **SECURITY_HEADERS,
            "Content-Security-Policy": csp,
            "X-Frame-Options": "DENY",
            "Cache-Control": "no-cache",
        },
    )


@get("/status/{slug:str}", include_in_schema=False)
async def status_page_html(
    slug: str, request: Request[Any, Any, Any], public_pages: PublicPages
) -> Response[str]:
    nonce = secrets.token_urlsafe(16)
    try:
        view = await public_pages.open(slug, request)
    except Problem as problem:
        if problem.status_code == 401:
            return _html(render_locked(slug, nonce), nonce, 401)
        return _html(render_not_found(nonce), nonce, 404)
    return _html(render_page(view, nonce), nonce)


@post("/status/{slug:str}", include_in_schema=False, status_code=303)
async def unlock_status_page_form(
    slug: str,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    request: Request[Any, Any, Any],
    public_pages: PublicPages,
) -> Response[Any]:
    nonce = secrets.token_urlsafe(16)
    try:
        cookie = await public_pages.unlock(slug, str(data.get("password", ""))[:1024], request)
    except Problem as problem:
        if problem.status_code == 404:
            return _html(render_not_found(nonce), nonce, 404)
        response = _html(
            render_locked(slug, nonce, str(problem.detail)), nonce, problem.status_code
        )
        response.headers.update(problem.headers or {})
        return response
    redirect = Redirect(f"/status/{slug}", status_code=303)
    public_pages.set_cookie(redirect, cookie)
    return redirect


# --- badges --------------------------------------------------------------------


def _svg(svg: str) -> Response[str]:
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={
            **SECURITY_HEADERS,
            "Content-Security-Policy": "default-src 'none'",
            "Cache-Control": "no-cache",
        },
    )


@get("/api/v1/public/status-pages/{slug:str}/badge.svg")
async def status_page_badge(
    slug: str, request: Request[Any, Any, Any], public_pages: PublicPages
) -> Response[str]:
    view = await public_pages.open(slug, request)
    return _svg(status_badge("status", view.status))


@get("/api/v1/public/status-pages/{slug:str}/monitors/{monitor_id:uuid}/badge.svg")
async def monitor_badge(
    slug: str,
    monitor_id: Any,
    request: Request[Any, Any, Any],
    public_pages: PublicPages,
    type: Literal["status", "uptime"] = "status",  # the query parameter's name
    window: Literal["24h", "7d", "30d"] = "24h",
) -> Response[str]:
    """Only monitors listed on the page; uptime only when the page shows it."""
    view = await public_pages.open(slug, request)
    monitor = next((m for m in view.monitors if m.id == str(monitor_id)), None)
    if monitor is None:
        raise Problem(404, "no such monitor on this page")
    if type == "status":
        return _svg(status_badge(monitor.display_name, monitor.status))
    if monitor.uptime is None:
        raise Problem(404, "this page does not show uptime")
    return _svg(uptime_badge(f"uptime {window}", monitor.uptime.get(window)))


PUBLIC_ROUTES = [
    public_status_page,
    unlock_status_page,
    status_page_html,
    unlock_status_page_form,
    status_page_badge,
    monitor_badge,
]
