"""The tls check against real local TLS servers with generated certificates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from phoenix_executor.checks import tls
from phoenix_executor.checks.base import CheckContext
from phoenix_executor.checks.tls import TlsCheck, make_context

from tests.checks.conftest import TlsPeers
from tests.checks.peers import make_spec


@pytest.fixture(scope="module")
def check(tls_peers: TlsPeers) -> TlsCheck:
    """A check trusting only the test CA (the shared context trusts the system's CAs)."""
    return TlsCheck(make_context(cafile=tls_peers.ca_file))


async def test_a_valid_certificate_is_up_with_expiry_issuer_and_timings(
    check: TlsCheck, ctx: CheckContext, tls_peers: TlsPeers
) -> None:
    spec = make_spec("tls", hostname="localhost", port=tls_peers.valid.port)
    outcome = await check.run(spec, ctx)
    assert outcome.outcome == "up", outcome.message
    assert outcome.cert_issuer == "Phoenix Test CA"
    assert outcome.cert_expires_at is not None
    assert outcome.cert_expires_at > datetime.now(UTC)
    assert "days left" in outcome.message
    timings = outcome.timings
    assert None not in (timings.dns_ms, timings.connect_ms, timings.tls_ms)


async def test_host_and_port_are_taken_from_an_https_url(
    check: TlsCheck, ctx: CheckContext, tls_peers: TlsPeers
) -> None:
    spec = make_spec("tls", url=f"https://localhost:{tls_peers.valid.port}/health")
    assert (await check.run(spec, ctx)).outcome == "up"


async def test_a_certificate_for_another_name_fails_verification(
    check: TlsCheck, ctx: CheckContext, tls_peers: TlsPeers
) -> None:
    spec = make_spec("tls", hostname="localhost", port=tls_peers.wrong_host.port)
    outcome = await check.run(spec, ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "tls_verify")
    assert "mismatch" in outcome.message.lower()


async def test_a_self_signed_certificate_fails_verification(
    check: TlsCheck, ctx: CheckContext, tls_peers: TlsPeers
) -> None:
    spec = make_spec("tls", hostname="localhost", port=tls_peers.self_signed.port)
    outcome = await check.run(spec, ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "tls_verify")
    assert "self" in outcome.message.lower()


async def test_an_expired_certificate_is_down_with_expired(
    check: TlsCheck, ctx: CheckContext, tls_peers: TlsPeers
) -> None:
    spec = make_spec("tls", hostname="localhost", port=tls_peers.expired.port)
    outcome = await check.run(spec, ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "expired")


async def test_ignoring_tls_errors_accepts_a_self_signed_certificate_and_still_reads_it(
    check: TlsCheck, ctx: CheckContext, tls_peers: TlsPeers
) -> None:
    spec = make_spec(
        "tls", hostname="localhost", port=tls_peers.self_signed.port, ignore_tls_errors=True
    )
    outcome = await check.run(spec, ctx)
    assert outcome.outcome == "up", outcome.message
    assert outcome.cert_issuer == "localhost"
    assert outcome.cert_expires_at is not None
    assert "not verified" in outcome.message


async def test_ignoring_tls_errors_still_reports_an_expired_certificate(
    check: TlsCheck, ctx: CheckContext, tls_peers: TlsPeers
) -> None:
    spec = make_spec(
        "tls", hostname="localhost", port=tls_peers.expired.port, ignore_tls_errors=True
    )
    outcome = await check.run(spec, ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "expired")
    assert outcome.cert_expires_at is not None
    assert outcome.cert_expires_at < datetime.now(UTC)
    assert outcome.cert_issuer == "Phoenix Test CA"


async def test_the_system_trust_store_rejects_the_test_ca(
    ctx: CheckContext, tls_peers: TlsPeers
) -> None:
    spec = make_spec("tls", hostname="localhost", port=tls_peers.valid.port)
    outcome = await TlsCheck().run(spec, ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "tls_verify")


def test_checks_share_one_context_per_mode_by_default() -> None:
    first, second = TlsCheck(), TlsCheck()
    assert first._context is second._context is tls.VERIFYING
    assert first._insecure is second._insecure is tls.INSECURE


async def test_a_loopback_target_is_refused_by_the_default_guard(
    check: TlsCheck, guarded_ctx: CheckContext, tls_peers: TlsPeers
) -> None:
    spec = make_spec("tls", hostname="localhost", port=tls_peers.valid.port)
    outcome = await check.run(spec, guarded_ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "refused")
