"""Time-ordered identifiers (``phoenix_platform.ids.uuid7``)."""

from __future__ import annotations

import time
import uuid

import pytest
from phoenix_platform.ids import uuid7

MS = 1_700_000_000_123


def timestamp_ms(value: str) -> int:
    return uuid.UUID(value).int >> 80


def test_a_uuid7_is_a_version_7_rfc_9562_uuid() -> None:
    value = uuid.UUID(uuid7())
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_a_uuid7_is_a_canonical_lowercase_string() -> None:
    value = uuid7(MS)
    assert value == str(uuid.UUID(value))
    assert len(value) == 36


def test_a_uuid7_embeds_the_given_millisecond_timestamp() -> None:
    assert timestamp_ms(uuid7(MS)) == MS
    assert timestamp_ms(uuid7(0)) == 0
    assert timestamp_ms(uuid7(2**48 - 1)) == 2**48 - 1


def test_a_uuid7_without_a_time_uses_the_current_time() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert before <= timestamp_ms(value) <= after


@pytest.mark.parametrize("step", [1, 1000, 86_400_000], ids=["1ms", "1s", "1day"])
def test_ids_made_later_sort_later_as_strings(step: int) -> None:
    ids = [uuid7(MS + i * step) for i in range(1000)]
    assert sorted(ids) == ids
    assert sorted(ids, key=uuid.UUID) == ids


def test_ten_thousand_ids_in_the_same_millisecond_are_unique() -> None:
    ids = {uuid7(MS) for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(uuid.UUID(value).version == 7 for value in ids)


def test_ten_thousand_ids_made_now_are_unique() -> None:
    assert len({uuid7() for _ in range(10_000)}) == 10_000
