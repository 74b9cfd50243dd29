"""Every event version ever written still decodes; old versions are lifted by upcasters."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from phoenix_contracts.log import AnyEvent
from phoenix_contracts.upcasters import upcast
from phoenix_platform.messaging.codec import CURRENT_VERSIONS, decode_event, encode, event_type

FIXTURES = Path(__file__).parents[1] / "fixtures" / "events"
SAMPLES = sorted(FIXTURES.glob("*.json"))


def test_every_current_event_version_has_a_sample() -> None:
    names = {path.name for path in SAMPLES}
    missing = [
        f"{kind}.v{version}.json"
        for kind, version in CURRENT_VERSIONS.items()
        if f"{kind}.v{version}.json" not in names
    ]
    assert missing == [], "run: uv run python -m tests.fixtures.events.sample"


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_ever_written_decodes_as_the_current_version(path: Path) -> None:
    raw = path.read_bytes()
    written = json.loads(raw)
    event = decode_event(raw)
    assert event_type(event) == written["type"]
    assert event.schema_version == CURRENT_VERSIONS[written["type"]]
    assert decode_event(encode(event)) == event  # and it survives another round


def test_the_old_version_path_converts_plain_json_into_events() -> None:
    raw = json.loads((FIXTURES / "monitor.created.v1.json").read_bytes())
    event = msgspec.convert(raw, AnyEvent)  # what decode_event does after upcasting
    assert event_type(event) == "monitor.created"


def test_upcasters_chain_one_version_at_a_time() -> None:
    def v1_to_v2(raw: dict[str, object]) -> dict[str, object]:
        kept = {k: v for k, v in raw.items() if k != "title"}
        return {**kept, "name": str(raw.get("title", ""))}

    def v2_to_v3(raw: dict[str, object]) -> dict[str, object]:
        return {**raw, "name": str(raw["name"]).upper()}

    lifted = upcast(
        {"type": "thing.made", "schema_version": 1, "title": "shop"},
        {"thing.made": 3},
        {("thing.made", 1): v1_to_v2, ("thing.made", 2): v2_to_v3},
    )
    assert lifted == {"type": "thing.made", "schema_version": 3, "name": "SHOP"}
    current = {"type": "thing.made", "schema_version": 3, "name": "x"}
    assert upcast(current, {"thing.made": 3}, {}) == current


def test_a_missing_upcaster_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"no upcaster from thing\.made v1 to v2"):
        upcast({"type": "thing.made", "schema_version": 1}, {"thing.made": 2}, {})
