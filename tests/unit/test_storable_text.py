"""Text no store can hold (NUL, lone surrogates) is found, with the path of its field."""

from __future__ import annotations

import json

import pytest
from phoenix_contracts.urls import url_problem
from phoenix_platform.text import find_unstorable, find_unstorable_json, storable

FOUND = [
    ("nul-in-a-name", {"name": "x\u0000"}, "name"),
    ("surrogate-in-a-name", {"name": "\ud800"}, "name"),
    ("nested-header", {"config": {"headers": {"X-Foo": "a\u0000b"}}}, "config.headers.X-Foo"),
    ("list-item", {"tags": ["ok", "\udc00"]}, "tags[1]"),
    ("bare-string", "\u0000", "body"),
    ("nul-in-a-key", {"headers": {"X\u0000": "v"}}, "headers.X\\u0000"),
]


@pytest.mark.parametrize(("value", "field"), [r[1:] for r in FOUND], ids=[r[0] for r in FOUND])
def test_unstorable_text_is_found_with_its_field_path(value: object, field: str) -> None:
    found = find_unstorable(value)
    assert found is not None
    assert found.field == field
    raw = json.dumps(value).encode()  # escapes NUL and surrogates as \u....
    from_json = find_unstorable_json(raw)
    assert from_json is not None
    assert from_json.field == field


@pytest.mark.parametrize(
    "value",
    [{"name": "café ☕ 😀"}, {"text": "a literal \\u0000 is six characters"}, [], 1e308, None],
)
def test_storable_text_passes(value: object) -> None:
    assert find_unstorable(value) is None
    assert find_unstorable_json(json.dumps(value).encode()) is None


BAD_URLS = [
    "https://h:99999/",
    "https://[::1/",
    "http://[::1/",
    "http://[zz]/",
    "http://h:0/",
    "http://:80/",
    "http://a b/",
    "http://x/\x00",
    "ftp://example.com/",
    "http://x..y/",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_url_a_check_could_not_read_has_a_problem(url: str) -> None:
    assert url_problem(url)


@pytest.mark.parametrize(
    "url", ["https://example.com", "http://[::1]:8080/x?q=1", "https://h:65535/", "http://10.0.0.1"]
)
def test_a_readable_url_has_none(url: str) -> None:
    assert url_problem(url) is None


def test_reported_text_keeps_what_it_can_and_replaces_the_rest() -> None:
    assert storable("a\x00b\ud800c") == "a\ufffdb\ufffdc"
    assert storable("café 😀") == "café 😀"
