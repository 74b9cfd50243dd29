"""The ``http`` check: one request, judged by status code.

``fetch_accepted`` is the request every HTTP-family check (http, keyword,
json) makes, through the executor's engine (SSRF-checked at every hop, one
new connection per check, bodies capped, never inflated); each check then
judges the answer its own way. Bodies are decoded as UTF-8 with
``errors="replace"``, so a page in a legacy encoding still matches on its
ASCII parts instead of failing as undecodable.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from phoenix_contracts.checks import Timings
from phoenix_contracts.monitors import MonitorSpec
from phoenix_platform.netguard import TargetRefused

from phoenix_executor.checks.base import CheckContext, Outcome
from phoenix_executor.engine import (
    ConnectFailed,
    EngineError,
    EngineResponse,
    InvalidRequest,
    ProtocolError,
    TlsFailed,
    TooManyRedirects,
)


def status_accepted(code: int, accepted: list[str]) -> bool:
    for item in accepted:
        low, _, high = item.partition("-")
        if int(low) <= code <= int(high or low):
            return True
    return False


EXCERPT_BYTES = 1024  # CheckCompleted.body_excerpt is at most 1 KiB


@dataclass(frozen=True)
class Answer:
    """An HTTP response whose status code the monitor accepts."""

    response: EngineResponse

    @property
    def text(self) -> str:
        return self.response.body.decode("utf-8", errors="replace")

    def outcome(self, ok: bool, error_class: str, message: str) -> Outcome:
        timings = self.response.timings
        return Outcome(
            outcome="up" if ok else "down",
            status_code=self.response.status_code,
            error_class=None if ok else error_class,
            message=message[:500],
            timings=Timings(
                dns_ms=timings.dns_ms,
                connect_ms=timings.connect_ms,
                tls_ms=timings.tls_ms or None,
                first_byte_ms=timings.first_byte_ms,
                total_ms=timings.total_ms,
            ),
            # On failure the user needs to see what the target said instead.
            body_excerpt="" if ok else excerpt(self.text),
            # Every HTTPS check reports the certificate, so expiry is warned about.
            cert_expires_at=self.response.tls_cert_expires_at,
            cert_issuer=self.response.tls_issuer,
        )


def excerpt(text: str) -> str:
    # Cut by encoded size, not characters: U+FFFD alone takes three bytes.
    return text.encode("utf-8")[:EXCERPT_BYTES].decode("utf-8", errors="ignore")


def _headers(spec: MonitorSpec) -> dict[str, str]:
    headers = dict(spec.headers)
    if spec.basic_auth_user is not None:
        pair = f"{spec.basic_auth_user}:{spec.basic_auth_password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return headers


# Engine failures by what they tell a person; the first match wins.
ERROR_CLASSES: tuple[tuple[type[Exception], str], ...] = (
    (TargetRefused, "refused"),
    (TooManyRedirects, "redirects"),
    (ConnectFailed, "connect"),
    (TlsFailed, "tls"),
    (ProtocolError, "protocol"),
    (InvalidRequest, "config"),
    (EngineError, "http"),
)


async def fetch_accepted(spec: MonitorSpec, ctx: CheckContext) -> Answer | Outcome:
    """The response to ``spec``'s request, or a down ``Outcome`` if there is no good one."""
    started = time.perf_counter()
    try:
        response = await ctx.engine.request(
            spec.method,
            spec.url,
            headers=_headers(spec),
            body=spec.body.encode() if spec.body is not None else None,
            max_redirects=spec.max_redirects,
            verify_tls=not spec.ignore_tls_errors,
        )
    except (TargetRefused, EngineError) as exc:
        error_class = next(name for kind, name in ERROR_CLASSES if isinstance(exc, kind))
        return Outcome.down(error_class, str(exc) or type(exc).__name__, started)
    answer = Answer(response)
    if not status_accepted(response.status_code, spec.accepted_status_codes):
        return answer.outcome(False, "status", f"HTTP {response.status_code}")
    return answer


class HttpCheck:
    type = "http"

    async def run(self, spec: MonitorSpec, ctx: CheckContext) -> Outcome:
        answer = await fetch_accepted(spec, ctx)
        if isinstance(answer, Outcome):
            return answer
        return answer.outcome(True, "", f"HTTP {answer.response.status_code}")
