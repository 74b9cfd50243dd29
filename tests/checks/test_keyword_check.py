"""The keyword check against a real local HTTP server."""

from __future__ import annotations

from phoenix_executor.checks.base import CheckContext
from phoenix_executor.checks.keyword import KeywordCheck

from tests.checks.peers import Peer, make_spec

CHECK = KeywordCheck()


async def test_a_page_containing_the_keyword_is_up(ctx: CheckContext, http_peer: Peer) -> None:
    spec = make_spec("keyword", url=http_peer.url("/welcome"), keyword="Welcome")
    outcome = await CHECK.run(spec, ctx)
    assert outcome.outcome == "up"
    assert outcome.status_code == 200
    assert outcome.message == 'keyword "Welcome" found'
    assert outcome.body_excerpt == ""


async def test_the_keyword_matches_regardless_of_case_by_default(
    ctx: CheckContext, http_peer: Peer
) -> None:
    spec = make_spec("keyword", url=http_peer.url("/welcome"), keyword="WELCOME TO phoenix")
    assert (await CHECK.run(spec, ctx)).outcome == "up"


async def test_a_case_sensitive_keyword_in_another_case_is_down_with_an_excerpt(
    ctx: CheckContext, http_peer: Peer
) -> None:
    spec = make_spec(
        "keyword", url=http_peer.url("/welcome"), keyword="welcome", keyword_case_sensitive=True
    )
    outcome = await CHECK.run(spec, ctx)
    assert outcome.outcome == "down"
    assert outcome.error_class == "keyword"
    assert outcome.message == 'keyword "welcome" not found'
    assert outcome.body_excerpt == "<h1>Welcome to Phoenix</h1>"


async def test_not_contains_is_down_when_the_keyword_is_there(
    ctx: CheckContext, http_peer: Peer
) -> None:
    spec = make_spec(
        "keyword", url=http_peer.url("/welcome"), keyword="phoenix", keyword_mode="not_contains"
    )
    outcome = await CHECK.run(spec, ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "keyword")
    assert "found but must be absent" in outcome.message


async def test_not_contains_is_up_when_the_keyword_is_absent(
    ctx: CheckContext, http_peer: Peer
) -> None:
    spec = make_spec(
        "keyword", url=http_peer.url("/welcome"), keyword="Error", keyword_mode="not_contains"
    )
    assert (await CHECK.run(spec, ctx)).outcome == "up"


async def test_an_unaccepted_status_is_down_even_when_the_keyword_is_there(
    ctx: CheckContext, http_peer: Peer
) -> None:
    spec = make_spec("keyword", url=http_peer.url("/broken"), keyword="Welcome")
    outcome = await CHECK.run(spec, ctx)
    assert (outcome.outcome, outcome.error_class, outcome.status_code) == ("down", "status", 500)
    assert outcome.message == "HTTP 500"


async def test_the_body_excerpt_is_at_most_one_kibibyte(ctx: CheckContext, http_peer: Peer) -> None:
    spec = make_spec("keyword", url=http_peer.url("/long"), keyword="absent")
    outcome = await CHECK.run(spec, ctx)
    assert outcome.outcome == "down"
    assert 1000 < len(outcome.body_excerpt.encode()) <= 1024
    assert outcome.body_excerpt.startswith("lorem ipsum")


async def test_a_body_that_is_not_utf8_still_matches_its_readable_part(
    ctx: CheckContext, http_peer: Peer
) -> None:
    spec = make_spec("keyword", url=http_peer.url("/latin1"), keyword="welcome")
    assert (await CHECK.run(spec, ctx)).outcome == "up"


async def test_a_loopback_target_is_refused_by_the_default_guard(
    guarded_ctx: CheckContext, http_peer: Peer
) -> None:
    spec = make_spec("keyword", url=http_peer.url("/welcome"), keyword="Welcome")
    outcome = await CHECK.run(spec, guarded_ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "refused")
