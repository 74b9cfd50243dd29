"""Which plug-in runs which monitor type: the one place to add a check type."""

from __future__ import annotations

from phoenix_executor.checks.base import Check
from phoenix_executor.checks.dns import DnsCheck
from phoenix_executor.checks.http import HttpCheck
from phoenix_executor.checks.json_check import JsonCheck
from phoenix_executor.checks.keyword import KeywordCheck
from phoenix_executor.checks.ping import PingCheck
from phoenix_executor.checks.tcp import TcpCheck
from phoenix_executor.checks.tls import TlsCheck

CHECKS: dict[str, Check] = {
    check.type: check
    for check in (
        HttpCheck(),
        KeywordCheck(),
        JsonCheck(),
        TcpCheck(),
        TlsCheck(),
        DnsCheck(),
        PingCheck(),
    )
}
