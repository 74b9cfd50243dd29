"""The checked-in JSON Schema of the contracts matches the code."""

from __future__ import annotations

from pathlib import Path

from phoenix_contracts.schema import render

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "contracts" / "schema"


def test_the_checked_in_schema_matches_the_contracts() -> None:
    expected = render()
    on_disk = {p.name: p.read_bytes() for p in SCHEMA_DIR.glob("*.json")}
    stale = sorted(name for name in expected if on_disk.get(name) != expected[name])
    extra = sorted(set(on_disk) - set(expected))
    assert (stale, extra) == ([], []), (
        f"contracts/schema is out of date (stale: {stale}, extra: {extra}); "
        "regenerate with: uv run python -m phoenix_contracts.schema contracts/schema"
    )


def test_every_event_in_the_log_union_has_a_unique_tag() -> None:
    import msgspec
    from phoenix_contracts.log import AnyEvent

    tags = [msgspec.inspect.type_info(t).tag for t in AnyEvent.__args__]  # type: ignore[attr-defined]
    assert len(tags) == len(set(tags))
    assert all(isinstance(tag, str) and "." in tag for tag in tags)
