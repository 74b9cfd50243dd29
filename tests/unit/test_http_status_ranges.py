"""Which status codes an http check accepts (``phoenix_executor.checks.http``)."""

from __future__ import annotations

import pytest
from phoenix_executor.checks.http import status_accepted

DEFAULT = ["200-299"]

TABLE = [
    ("ok-in-default-range", 200, DEFAULT, True),
    ("no-content-in-default-range", 204, DEFAULT, True),
    ("upper-bound-inclusive", 299, DEFAULT, True),
    ("redirect-outside-default", 301, DEFAULT, False),
    ("informational-below-default", 199, DEFAULT, False),
    ("not-found-outside-default", 404, DEFAULT, False),
    ("server-error-outside-default", 503, DEFAULT, False),
    ("single-code-matches", 404, ["404"], True),
    ("single-code-is-not-a-prefix", 405, ["404"], False),
    ("second-item-matches", 301, ["200-299", "301"], True),
    ("any-of-several-ranges", 418, ["200-299", "400-499"], True),
    ("between-ranges", 350, ["200-299", "400-499"], False),
    ("lower-bound-inclusive", 500, ["500-599"], True),
    ("one-code-range", 200, ["200-200"], True),
    ("full-range", 599, ["100-599"], True),
    ("nothing-accepted", 200, [], False),
    ("inverted-range-accepts-nothing", 250, ["299-200"], False),
]


@pytest.mark.parametrize(
    ("code", "accepted", "expected"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_a_status_code_is_accepted_when_a_code_or_range_covers_it(
    code: int, accepted: list[str], expected: bool
) -> None:
    assert status_accepted(code, accepted) is expected
