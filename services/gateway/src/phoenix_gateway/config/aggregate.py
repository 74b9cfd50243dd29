"""The config role's command loop: the generic one of ``phoenix_platform.commands``."""

from __future__ import annotations

from phoenix_platform.commands import (
    ATTEMPTS,
    Addressed,
    Aggregate,
    CommandContext,
    execute,
    next_envelope,
)

__all__ = ["ATTEMPTS", "Addressed", "Aggregate", "CommandContext", "execute", "next_envelope"]
