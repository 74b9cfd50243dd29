"""The faststream broker every service uses."""

from __future__ import annotations

import logging

from fast_depends.msgspec import MsgSpecSerializer
from faststream.nats import NatsBroker


def _quiet_logger() -> logging.Logger:
    logger = logging.getLogger("phoenix.faststream")
    logger.setLevel(logging.WARNING)
    return logger


def create_broker(nats_url: str, service: str) -> NatsBroker:
    # Without the msgspec serializer faststream 0.7 tries pydantic on Structs
    # and fails with PydanticSerializationError.
    return NatsBroker(
        servers=[url.strip() for url in nats_url.split(",") if url.strip()],
        name=f"phoenix-{service}",
        serializer=MsgSpecSerializer(),
        graceful_timeout=15.0,
        max_reconnect_attempts=-1,
        connect_timeout=5,
        # faststream narrates every message and task at INFO; our own key/value
        # lines say what matters, so its logger only speaks up for warnings.
        logger=_quiet_logger(),
        log_level=logging.DEBUG,
    )
