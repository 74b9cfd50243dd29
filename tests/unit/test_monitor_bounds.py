"""A monitor field is bounded once: creating and changing a monitor accept the same values."""

from __future__ import annotations

import msgspec
import msgspec.inspect
import pytest
from phoenix_gateway.api.monitors import MonitorCreate, MonitorUpdate

CREATE = {f.name: f.type for f in msgspec.inspect.type_info(MonitorCreate).fields}  # type: ignore[attr-defined]
UPDATE = {f.name: f.type for f in msgspec.inspect.type_info(MonitorUpdate).fields}  # type: ignore[attr-defined]
FIXED_AT_CREATION = {"type"}  # a monitor's type never changes


def test_every_field_but_the_type_can_be_changed() -> None:
    assert set(UPDATE) == set(CREATE) - FIXED_AT_CREATION


@pytest.mark.parametrize("field", sorted(UPDATE))
def test_a_change_is_bounded_exactly_as_a_creation(field: str) -> None:
    # inspect leaves UNSET out of the update's union: what remains must be identical.
    assert UPDATE[field] == CREATE[field]


def test_a_change_cannot_name_two_thousand_regions() -> None:
    body = {"regions": [f"r{n}" for n in range(2000)]}
    with pytest.raises(msgspec.ValidationError, match="regions"):
        msgspec.convert(body, MonitorUpdate)
