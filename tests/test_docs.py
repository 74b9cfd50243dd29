"""The README stays true to the code."""

from __future__ import annotations

from pathlib import Path

from phoenix_cli.config_table import rows

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_readme_lists_every_setting_with_its_default() -> None:
    for variable, users, default, meaning in rows():
        assert f"| `{variable}` | {users} | `{default}` | {meaning} |" in README, variable


def test_the_readme_shows_the_two_commands() -> None:
    assert "uv run phoenix dev" in README
    assert "uv run pytest" in README
