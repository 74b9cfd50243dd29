"""``phoenix dev`` makes the two-factor sealing key once and keeps it with the data."""

from __future__ import annotations

import stat
from pathlib import Path

from phoenix_auth.settings import AuthSettings
from phoenix_cli.dev import _ensure_secrets_key
from phoenix_platform.settings import load, secrets_key_bytes


def test_dev_makes_an_owner_only_key_once_and_reuses_it(tmp_path: Path) -> None:
    data = tmp_path / ".phoenix"
    first: dict[str, str] = {}
    _ensure_secrets_key(data, first)
    key_file = Path(first["PHOENIX_SECRETS_KEY_FILE"])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert secrets_key_bytes(load(AuthSettings, first).secrets_key) is not None
    content = key_file.read_text()
    second: dict[str, str] = {}
    _ensure_secrets_key(data, second)
    assert second == first
    assert key_file.read_text() == content  # enrolments survive a restart


def test_dev_leaves_a_configured_key_alone(tmp_path: Path) -> None:
    env = {"PHOENIX_SECRETS_KEY": "configured"}
    _ensure_secrets_key(tmp_path, env)
    assert env == {"PHOENIX_SECRETS_KEY": "configured"}
    assert list(tmp_path.iterdir()) == []
