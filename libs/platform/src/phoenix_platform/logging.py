"""structlog setup: JSON lines in production, readable lines in dev.

The correlation id is bound with :func:`bind_correlation` (a contextvar), so
every line logged while handling one request or message carries it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def configure(service: str, *, fmt: str = "json", level: str = "info") -> None:
    numeric = _LEVELS.get(level, logging.ERROR)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _count_errors,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries (faststream, uvicorn, nats) log through stdlib logging: keep
    # them at warning so our own key/value lines stay the signal.
    logging.basicConfig(
        level=max(numeric, logging.WARNING), stream=sys.stderr, format="%(message)s"
    )


def _count_errors(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # Every error line is also a sample of phoenix_errors_total, so an alert can
    # fire on errors without anyone reading logs.
    if event.get("level") in ("error", "critical"):
        from phoenix_platform.metrics import ERRORS

        ERRORS.labels(str(event.get("service", "")), str(event.get("event", ""))).inc()
    return event


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)


@contextmanager
def bind_correlation(correlation_id: str, **extra: Any) -> Iterator[None]:
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id, **extra):
        yield


def current_correlation() -> str:
    """The correlation id bound for this request or message ("" outside one)."""
    return str(structlog.contextvars.get_contextvars().get("correlation_id", ""))
