"""TOTP (RFC 6238), recovery codes and the sealing of secrets: pure, no servers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from phoenix_auth import totp
from phoenix_auth.settings import AuthSettings
from phoenix_auth.twofactor import unused_recovery_digests
from phoenix_contracts.twofactor import (
    UserRecoveryCodeUsed,
    UserTwoFactorDisabled,
    UserTwoFactorEnabled,
)
from phoenix_platform.sealing import SealError, new_key, parse_key, seal, unseal
from phoenix_platform.settings import SettingsError, load, secrets_key_bytes

RFC_SECRET = b"12345678901234567890"


@pytest.mark.parametrize(
    ("unix_time", "expected"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_totp_matches_the_rfc_6238_sha1_vectors(unix_time: int, expected: str) -> None:
    assert totp.totp(RFC_SECRET, unix_time, digits=8) == expected


def test_hotp_matches_the_rfc_4226_vectors() -> None:
    expected = ["755224", "287082", "359152", "969429", "338314"]
    expected += ["254676", "287922", "162583", "399871", "520489"]
    assert [totp.hotp(RFC_SECRET, counter) for counter in range(10)] == expected


NOW = 1_700_000_015.0  # in the middle of a step


@pytest.mark.parametrize("offset_steps", [-1, 0, 1])
def test_a_code_of_the_step_before_or_after_is_accepted(offset_steps: int) -> None:
    code = totp.totp(RFC_SECRET, NOW + offset_steps * totp.STEP_SECONDS)
    assert totp.matching_step(RFC_SECRET, code, NOW, -1) == totp.step_at(NOW) + offset_steps


@pytest.mark.parametrize("offset_steps", [-3, -2, 2, 3])
def test_a_code_further_away_than_one_step_is_refused(offset_steps: int) -> None:
    code = totp.totp(RFC_SECRET, NOW + offset_steps * totp.STEP_SECONDS)
    assert totp.matching_step(RFC_SECRET, code, NOW, -1) is None


def test_a_code_already_used_is_refused_within_its_window() -> None:
    code = totp.totp(RFC_SECRET, NOW)
    step = totp.matching_step(RFC_SECRET, code, NOW, -1)
    assert step is not None
    assert totp.matching_step(RFC_SECRET, code, NOW, step) is None
    assert totp.matching_step(RFC_SECRET, code, NOW + totp.STEP_SECONDS, step) is None
    # an older code than the last one used is refused too, even inside the window
    older = totp.totp(RFC_SECRET, NOW - totp.STEP_SECONDS)
    assert totp.matching_step(RFC_SECRET, older, NOW, step) is None
    # the next step's code still works
    newer = totp.totp(RFC_SECRET, NOW + totp.STEP_SECONDS)
    assert totp.matching_step(RFC_SECRET, newer, NOW, step) == step + 1


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "12a456", "\uff11\uff12\uff13\uff14\uff15\uff16", "-12345"]
)
def test_malformed_codes_never_match(code: str) -> None:
    assert totp.matching_step(RFC_SECRET, code, NOW, -1) is None


def test_a_code_typed_with_a_space_is_accepted() -> None:
    code = totp.totp(RFC_SECRET, NOW)
    assert totp.matching_step(RFC_SECRET, f"{code[:3]} {code[3:]}", NOW, -1) is not None


def test_the_secret_survives_base32_and_the_uri_names_issuer_and_user() -> None:
    secret = bytes(range(20))
    text = totp.encode_secret(secret)
    assert "=" not in text
    assert totp.decode_secret(text) == secret
    uri = urlsplit(totp.provisioning_uri("alice", secret))
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Phoenix:alice")
    assert parse_qs(uri.query) == {"secret": [text], "issuer": ["Phoenix"]}


def test_recovery_codes_match_once_regardless_of_case_and_dash() -> None:
    code = totp.recovery_code(bytes(range(10)))
    assert len(code) == 11
    assert code[5] == "-"
    digests = [totp.recovery_digest(code), totp.recovery_digest("zzzzz-zzzzz")]
    assert totp.matching_recovery_digest(code.upper(), digests) == digests[0]
    assert totp.matching_recovery_digest(code.replace("-", ""), digests) == digests[0]
    assert totp.matching_recovery_digest("abcde-fghjk", digests) is None
    assert totp.matching_recovery_digest("not a code", digests) is None


def _enabled(digests: list[str], version: int) -> UserTwoFactorEnabled:
    return UserTwoFactorEnabled(
        event_id=f"e{version}",
        aggregate_id="u1",
        aggregate_version=version,
        occurred_at=datetime.now(UTC),
        organization_id="o1",
        sealed_secret="v1.x",
        recovery_code_digests=digests,
    )


def test_a_spent_recovery_code_is_gone_and_disabling_forgets_them_all() -> None:
    now = datetime.now(UTC)
    used = UserRecoveryCodeUsed(
        event_id="e2",
        aggregate_id="u1",
        aggregate_version=2,
        occurred_at=now,
        organization_id="o1",
        digest="a",
    )
    events = [_enabled(["a", "b", "c"], 1), used]
    assert unused_recovery_digests(events) == ["b", "c"]
    disabled = UserTwoFactorDisabled(
        event_id="e3", aggregate_id="u1", aggregate_version=3, occurred_at=now, organization_id="o1"
    )
    assert unused_recovery_digests([*events, disabled]) == []
    assert unused_recovery_digests([*events, disabled, _enabled(["d"], 4)]) == ["d"]


def test_a_sealed_secret_opens_with_its_key_and_user_only() -> None:
    key = parse_key(new_key())
    sealed = seal(key, b"seed", "user-1")
    assert b"seed" not in sealed.encode()
    assert sealed.startswith("v1.")
    assert unseal(key, sealed, "user-1") == b"seed"
    assert seal(key, b"seed", "user-1") != sealed  # a fresh nonce each time
    with pytest.raises(SealError):
        unseal(key, sealed, "user-2")
    with pytest.raises(SealError):
        unseal(parse_key(new_key()), sealed, "user-1")


@pytest.mark.parametrize("position", [4, 10, 20, 40])  # nonce, ciphertext, tag
def test_a_tampered_sealed_secret_is_refused(position: int) -> None:
    key = parse_key(new_key())
    sealed = seal(key, b"seed", "user-1")
    flipped = "A" if sealed[position] != "A" else "B"
    tampered = sealed[:position] + flipped + sealed[position + 1 :]
    with pytest.raises(SealError):
        unseal(key, tampered, "user-1")


@pytest.mark.parametrize("bad", ["not base64!", "c2hvcnQ=", "v1.garbage"])
def test_a_bad_secrets_key_stops_the_service_naming_the_variable(bad: str) -> None:
    with pytest.raises(SettingsError, match="PHOENIX_SECRETS_KEY") as error:
        load(AuthSettings, {"PHOENIX_SECRETS_KEY": bad})
    assert bad not in str(error.value)


def test_the_secrets_key_may_come_from_a_file(tmp_path: Path) -> None:
    key = new_key()
    path = tmp_path / "key"
    path.write_text(key + "\n")
    settings = load(AuthSettings, {"PHOENIX_SECRETS_KEY_FILE": str(path)})
    assert secrets_key_bytes(settings.secrets_key) == parse_key(key)
    assert secrets_key_bytes(load(AuthSettings, {}).secrets_key) is None
