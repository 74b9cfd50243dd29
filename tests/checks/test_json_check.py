"""The json check: its path syntax, its operators, and a real local HTTP server."""

from __future__ import annotations

from typing import Any

import pytest
from phoenix_executor.checks.base import CheckContext
from phoenix_executor.checks.json_check import JsonCheck, parse_path

from tests.checks.peers import Peer, make_spec

CHECK = JsonCheck()


def json_spec(peer: Peer, path: str, operator: str, expected: str, route: str = "/status") -> Any:
    return make_spec(
        "json",
        url=peer.url(route),
        json_path=path,
        json_operator=operator,
        expected_value=expected,
    )


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("$.a.b[0].c", ["a", "b", 0, "c"]),
        ("a.b.0.c", ["a", "b", "0", "c"]),
        ("$", []),
        ("", []),
        ("[2].x", [2, "x"]),
    ],
)
def test_both_path_syntaxes_parse_to_steps(path: str, steps: list[Any]) -> None:
    assert parse_path(path) == steps


@pytest.mark.parametrize("path", ["a..b", "a[x]", "a]", "a[0]b", "$.a[*]"])
def test_paths_with_filters_wildcards_or_junk_are_rejected(path: str) -> None:
    with pytest.raises(ValueError, match="invalid json_path"):
        parse_path(path)


@pytest.mark.parametrize(
    ("path", "operator", "expected"),
    [
        ("$.status", "==", "ok"),
        ("status", "!=", "degraded"),
        ("$.count", "==", "42.0"),  # numbers compare as numbers
        ("$.version", "==", "1.1"),  # the string "1.10" reads as a number too
        ("$.ready", "==", "true"),
        ("$.nothing", "==", "null"),
        ("$.load", "<", "0.5"),
        ("$.count", ">", "41"),
        ("$.status", "contains", "o"),
        ("$.tags", "contains", "green"),
        ("$.tags", "contains", "7"),
        ("$.items[1].name", "==", "b"),
        ("items.0.name", "==", "a"),
    ],
)
async def test_a_true_comparison_is_up(
    ctx: CheckContext, http_peer: Peer, path: str, operator: str, expected: str
) -> None:
    outcome = await CHECK.run(json_spec(http_peer, path, operator, expected), ctx)
    assert outcome.outcome == "up", outcome.message


async def test_a_false_comparison_is_down_and_says_what_was_found(
    ctx: CheckContext, http_peer: Peer
) -> None:
    outcome = await CHECK.run(json_spec(http_peer, "$.status", "==", "degraded"), ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "json_value")
    assert outcome.message == "$.status = 'ok', expected == 'degraded'"
    assert outcome.body_excerpt.startswith('{"status"')


async def test_ordering_a_value_that_is_not_a_number_is_a_type_error(
    ctx: CheckContext, http_peer: Peer
) -> None:
    outcome = await CHECK.run(json_spec(http_peer, "$.status", "<", "3"), ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "json_type")


async def test_contains_on_a_number_is_a_type_error(ctx: CheckContext, http_peer: Peer) -> None:
    outcome = await CHECK.run(json_spec(http_peer, "$.count", "contains", "4"), ctx)
    assert outcome.error_class == "json_type"


@pytest.mark.parametrize("path", ["$.missing", "$.items[5].name", "$.status.deeper"])
async def test_a_path_leading_nowhere_is_down_with_json_path(
    ctx: CheckContext, http_peer: Peer, path: str
) -> None:
    outcome = await CHECK.run(json_spec(http_peer, path, "==", "x"), ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "json_path")
    assert outcome.message == f"nothing at {path}"


async def test_a_body_that_is_not_json_is_down_with_json(
    ctx: CheckContext, http_peer: Peer
) -> None:
    outcome = await CHECK.run(json_spec(http_peer, "$.a", "==", "x", route="/not-json"), ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "json")
    assert outcome.body_excerpt == "<html>not json</html>"


async def test_a_loopback_target_is_refused_by_the_default_guard(
    guarded_ctx: CheckContext, http_peer: Peer
) -> None:
    outcome = await CHECK.run(json_spec(http_peer, "$.status", "==", "ok"), guarded_ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "refused")
