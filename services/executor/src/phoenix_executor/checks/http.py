"""The ``http`` check: one request, judged by status code.

``fetch_accepted`` is the request every HTTP-family check (http, keyword,
json) makes: guarded ``fetch``, the same headers and the same error classes;
each check then judges the answer its own way. Compressed bodies are never
inflated (a gzip bomb costs only its size), and bodies are decoded as UTF-8
with ``errors="replace"``, so a page in a legacy encoding still matches on its
ASCII parts instead of failing as undecodable.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

import httpx
from phoenix_contracts.checks import Timings
from phoenix_contracts.monitors import MonitorSpec
from phoenix_platform.netguard import TargetRefused
from phoenix_platform.outbound import Fetched, fetch

from phoenix_executor.checks.base import CheckContext, Outcome

DEFAULT_HEADERS = {"User-Agent": "Phoenix-Uptime/0.1", "Accept-Encoding": "identity"}


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

    fetched: Fetched
    started: float

    @property
    def text(self) -> str:
        return self.fetched.body.decode("utf-8", errors="replace")

    def outcome(self, ok: bool, error_class: str, message: str) -> Outcome:
        total = (time.perf_counter() - self.started) * 1000
        return Outcome(
            outcome="up" if ok else "down",
            status_code=self.fetched.status_code,
            error_class=None if ok else error_class,
            message=message[:500],
            timings=Timings(total_ms=round(total, 2)),
            # On failure the user needs to see what the target said instead.
            body_excerpt="" if ok else excerpt(self.text),
        )


def excerpt(text: str) -> str:
    # Cut by encoded size, not characters: U+FFFD alone takes three bytes.
    return text.encode("utf-8")[:EXCERPT_BYTES].decode("utf-8", errors="ignore")


def _headers(spec: MonitorSpec) -> dict[str, str]:
    headers = {**DEFAULT_HEADERS, **spec.headers}
    if spec.basic_auth_user is not None:
        pair = f"{spec.basic_auth_user}:{spec.basic_auth_password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return headers


async def fetch_accepted(spec: MonitorSpec, ctx: CheckContext) -> Answer | Outcome:
    """The response to ``spec``'s request, or a down ``Outcome`` if there is no good one."""
    started = time.perf_counter()
    client = ctx.insecure_client if spec.ignore_tls_errors else ctx.client
    try:
        fetched = await fetch(
            client,
            ctx.guard,
            spec.method,
            spec.url,
            headers=_headers(spec),
            content=spec.body.encode() if spec.body is not None else None,
            max_redirects=spec.max_redirects,
        )
    except TargetRefused as exc:
        return Outcome.down("refused", str(exc), started)
    except httpx.TimeoutException:
        return Outcome.down("timeout", "the request timed out", started)
    except httpx.TooManyRedirects:
        return Outcome.down("redirects", f"more than {spec.max_redirects} redirects", started)
    except httpx.ConnectError as exc:
        return Outcome.down("connect", str(exc) or "connection failed", started)
    except httpx.HTTPError as exc:
        return Outcome.down("http", f"{type(exc).__name__}: {exc}", started)
    answer = Answer(fetched, started)
    if not status_accepted(fetched.status_code, spec.accepted_status_codes):
        return answer.outcome(False, "status", f"HTTP {fetched.status_code}")
    return answer


class HttpCheck:
    type = "http"

    async def run(self, spec: MonitorSpec, ctx: CheckContext) -> Outcome:
        answer = await fetch_accepted(spec, ctx)
        if isinstance(answer, Outcome):
            return answer
        return answer.outcome(True, "", f"HTTP {answer.fetched.status_code}")
