"""Exceptions raised by the embedded dev stack."""

from __future__ import annotations

from pathlib import Path


class DevStackError(RuntimeError):
    """Base class for every failure of the embedded stack."""


class ServiceStartError(DevStackError):
    """A server did not come up; carries the tail of its log so callers need not dig."""

    def __init__(self, service: str, reason: str, log_path: Path, log_tail: str) -> None:
        self.service = service
        self.reason = reason
        self.log_path = log_path
        self.log_tail = log_tail
        super().__init__(
            f"{service} failed to start: {reason}\n"
            f"--- last lines of {log_path} ---\n{log_tail}\n--- end of {service} log ---"
        )


class DataDirLockedError(DevStackError):
    """Another live stack already owns the data directory."""
