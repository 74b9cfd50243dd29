"""Old event versions, read as the current ones.

An event type's current version is the default of its ``schema_version``
field (1 unless the class says otherwise). When a type changes shape, its
class bumps that default and an upcaster is registered here for the old
version: a pure function from the old JSON object to the next version's.
Readers chain them, so a log written years ago still replays.

``tests/fixtures/events`` keeps a sample of every version ever written; a test
decodes them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Raw = dict[str, Any]
Upcaster = Callable[[Raw], Raw]

# (event type, the version it reads) -> the function that returns version + 1.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcast(
    raw: Raw, current: Mapping[str, int], upcasters: Mapping[tuple[str, int], Upcaster]
) -> Raw:
    """``raw`` lifted to its type's current version (unchanged if already there)."""
    kind = str(raw.get("type", ""))
    target = current.get(kind)
    version = int(raw.get("schema_version", 1))
    while target is not None and version < target:
        step = upcasters.get((kind, version))
        if step is None:
            raise ValueError(f"no upcaster from {kind} v{version} to v{version + 1}")
        raw = {**step(raw), "schema_version": version + 1}
        version += 1
    return raw
