"""HTTP requests to user-supplied URLs, through the SSRF guard.

The connection goes to the IP address the guard approved (the URL's host is
replaced by it, the ``Host`` header and TLS SNI keep the name, so certificates
are still verified against the name). Redirects are followed by hand so every
hop is checked again. Bodies are read up to a cap: a huge or endless response
costs at most ``max_body`` bytes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import httpx

from phoenix_platform.netguard import NetGuard, TargetRefused

REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class Fetched:
    status_code: int
    headers: httpx.Headers
    body: bytes
    url: str  # after redirects
    redirects: int


async def fetch(
    client: httpx.AsyncClient,
    guard: NetGuard,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    max_redirects: int = 0,
    max_body: int = 1_048_576,
) -> Fetched:
    """One request, following up to ``max_redirects`` redirects; every hop guarded."""
    current = httpx.URL(url)
    for hop in range(max_redirects + 1):
        if current.scheme not in ("http", "https"):
            raise TargetRefused(f"scheme {current.scheme!r} is not allowed")
        request = await _pinned_request(client, guard, method, current, headers, content)
        response = await client.send(request, stream=True)
        try:
            location = response.headers.get("location")
            redirect = response.status_code in REDIRECTS and location
            if redirect and max_redirects and hop == max_redirects:
                break  # still redirecting after the last hop we may follow
            if redirect and hop < max_redirects:
                current = current.join(location)
                if response.status_code == 303 or (
                    response.status_code in (301, 302) and method == "POST"
                ):
                    method, content = "GET", None
                continue
            body = await _read_capped(response, max_body)
            return Fetched(response.status_code, response.headers, body, str(current), hop)
        finally:
            await response.aclose()
    raise httpx.TooManyRedirects(f"more than {max_redirects} redirects")


async def _pinned_request(
    client: httpx.AsyncClient,
    guard: NetGuard,
    method: str,
    url: httpx.URL,
    headers: dict[str, str] | None,
    content: bytes | None,
) -> httpx.Request:
    host = url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    address = await guard.resolve(host, port)
    literal = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    pinned = url.copy_with(host=literal.strip("[]"))
    merged = {"Host": url.netloc.decode("ascii"), **(headers or {})}
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    return client.build_request(
        method, pinned, headers=merged, content=content, extensions=extensions
    )


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]
