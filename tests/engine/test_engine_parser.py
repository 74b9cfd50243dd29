"""The response parser gives the same answer however the bytes are split."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from phoenix_executor.engine.errors import ProtocolError
from phoenix_executor.engine.parser import ResponseParser

CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
    b"3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"
)
LENGTH = b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!"


def feed_in_pieces(raw: bytes, cuts: list[int], max_body: int = 1000) -> ResponseParser:
    parser = ResponseParser(max_body)
    points = sorted({0, len(raw), *(c % (len(raw) + 1) for c in cuts)})
    for start, end in itertools.pairwise(points):
        if parser.feed(raw[start:end]):
            break
    return parser


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=20))
def test_any_split_of_a_chunked_response_parses_the_same(cuts: list[int]) -> None:
    parser = feed_in_pieces(CHUNKED, cuts)
    assert parser.done
    assert (parser.status, bytes(parser.body)) == (200, b"abc0123456789abcdef")
    assert ("X-A", "1") in parser.headers


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=20))
def test_any_split_of_a_content_length_response_parses_the_same(cuts: list[int]) -> None:
    parser = feed_in_pieces(LENGTH, cuts)
    assert (parser.done, parser.status, bytes(parser.body)) == (True, 404, b"nope!")


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["conflicting-length", "non-ascii-length", "folded-header", "bad-status", "bad-chunk"],
)
def test_malformed_responses_are_protocol_errors(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        ResponseParser(1000).feed(raw)


def test_a_body_over_max_body_is_cut_and_marked_truncated() -> None:
    parser = ResponseParser(4)
    assert parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789")
    assert (bytes(parser.body), parser.truncated) == (b"0123", True)
