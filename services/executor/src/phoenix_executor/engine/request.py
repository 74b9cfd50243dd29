"""URL handling and request serialisation for the engine."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import quote, unquote, urljoin, urlsplit

from phoenix_platform.netguard import TargetRefused

from phoenix_executor.engine.errors import InvalidRequest

DEFAULT_PORTS = {"http": 80, "https": 443}
# Set by the engine, never by the caller: they keep the one-shot, no-inflate contract.
RESERVED = frozenset(
    {"host", "connection", "accept-encoding", "content-length", "transfer-encoding"}
)


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query, never empty
    authorization: str | None  # from user:password@ in the URL

    @classmethod
    def parse(cls, url: str) -> Target:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise InvalidRequest(f"bad URL {url[:200]!r}: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            # The SSRF guard's business: only web schemes, also after a redirect.
            raise TargetRefused(f"scheme {scheme or '(none)'!r} is not allowed")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise InvalidRequest(f"no host in URL {url[:200]!r}")
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise InvalidRequest(f"bad host name {host[:100]!r}") from None
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        _check_text(path)
        path = quote(path, safe="!#$%&'()*+,/:;=?@[]~")  # non-ASCII → %XX, the rest as given
        authorization = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        return cls(url, scheme, host, port or DEFAULT_PORTS[scheme], path, authorization)

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port

    def join(self, location: str) -> Target:
        """The target a ``Location`` header points to, relative ones included."""
        return Target.parse(urljoin(self.url, location.strip()))

    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def serialise(
    method: str, target: Target, headers: dict[str, str], body: bytes | None, user_agent: str
) -> bytes:
    lines = [
        f"{method} {target.path} HTTP/1.1",
        f"Host: {target.host_header()}",
        "Connection: close",
        # Never ask for compression: the engine does not inflate, so a gzip bomb stays small.
        "Accept-Encoding: identity",
    ]
    given = {name.lower() for name in headers}
    if "user-agent" not in given:
        lines.append(f"User-Agent: {user_agent}")
    if "accept" not in given:
        lines.append("Accept: */*")
    if target.authorization and "authorization" not in given:
        lines.append(f"Authorization: {target.authorization}")
    for name, value in headers.items():
        if name.lower() in RESERVED:
            continue
        _check_text(name)
        _check_text(value)
        if not name or ":" in name or " " in name:
            raise InvalidRequest(f"bad header name {name[:80]!r}")
        lines.append(f"{name}: {value}")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    try:
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError:
        raise InvalidRequest("a header has characters outside Latin-1") from None
    return head + body if body else head


def _check_text(text: str) -> None:
    # CR/LF/NUL would let a monitor's settings inject headers or a second request.
    if "\r" in text or "\n" in text or "\0" in text:
        raise InvalidRequest("CR, LF or NUL in the request line or a header")
