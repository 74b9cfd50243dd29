"""The plug-ins are registered under their monitor types."""

from __future__ import annotations

from phoenix_executor.checks.registry import CHECKS


def test_every_active_check_type_is_registered_under_its_own_name() -> None:
    assert {"http", "keyword", "json", "tcp", "tls", "dns", "ping"} <= set(CHECKS)
    assert all(name == check.type for name, check in CHECKS.items())
