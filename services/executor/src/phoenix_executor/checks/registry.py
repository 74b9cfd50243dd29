"""Which plug-in runs which monitor type: the one place to add a check type."""

from __future__ import annotations

from phoenix_executor.checks.base import Check
from phoenix_executor.checks.http import HttpCheck

CHECKS: dict[str, Check] = {check.type: check for check in (HttpCheck(),)}
