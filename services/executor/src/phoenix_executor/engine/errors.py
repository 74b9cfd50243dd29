"""Engine failures; the class name is what a check reports as its ``error_class``."""

from __future__ import annotations


class EngineError(Exception):
    """Any failure of a request made by the engine."""


class InvalidRequest(EngineError):
    """The URL or headers cannot be sent (bad scheme, CR/LF in a header, no host)."""


class ConnectFailed(EngineError):
    """The TCP connection could not be made (refused, unreachable, reset)."""


class TlsFailed(EngineError):
    """The TLS handshake failed, including certificate verification."""


class ProtocolError(EngineError):
    """The server's answer is not valid HTTP/1.x or ended early."""


class TooManyRedirects(EngineError):
    """The redirect chain is longer than the caller allowed."""
