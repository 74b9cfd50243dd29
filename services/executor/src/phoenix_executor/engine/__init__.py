"""The executor's check engine: a minimal HTTP/1.1 client for the hot path.

One request per new connection (``Connection: close``) on an asyncio Protocol,
one shared SSLContext, a TTL DNS cache in front of the SSRF guard. httpx stays
the HTTP client everywhere else (webhooks, the API); this is only for checks.
"""

from phoenix_platform.netguard import TargetRefused

from phoenix_executor.engine.client import Engine, EngineResponse, Timings
from phoenix_executor.engine.errors import (
    ConnectFailed,
    EngineError,
    InvalidRequest,
    ProtocolError,
    TlsFailed,
    TooManyRedirects,
)

__all__ = [
    "ConnectFailed",
    "Engine",
    "EngineError",
    "EngineResponse",
    "InvalidRequest",
    "ProtocolError",
    "TargetRefused",
    "Timings",
    "TlsFailed",
    "TooManyRedirects",
]
