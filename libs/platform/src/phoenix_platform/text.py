"""Text every store can hold: no NUL, no lone surrogate.

PostgreSQL refuses both in ``text`` and ``jsonb``, and a row it refuses stops the
projection that writes it, for every organization. So every input edge (HTTP
bodies, parameters and headers; requests over NATS) asks ``find_unstorable``
and refuses the input naming the field, before anything is stored.
"""

from __future__ import annotations

import json
import re
from typing import Any

# A JSON escape that may decode to a NUL or a surrogate: worth a closer look.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_SURROGATES = re.compile("[\ud800-\udfff]")


class Unstorable(ValueError):
    """A text value no store can hold; ``field`` is its path, e.g. ``config.headers.X-Foo``."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None if it can."""
    if "\x00" in text:
        return "must not contain a NUL character"
    if _SURROGATES.search(text):
        return "must not contain a lone UTF-16 surrogate"
    return None


def storable(text: str) -> str:
    """``text`` with each NUL and lone surrogate replaced by U+FFFD: for text we report
    rather than accept (what a monitored server answered, an error's message)."""
    if "\x00" not in text and not _SURROGATES.search(text):
        return text
    return _SURROGATES.sub("\ufffd", text.replace("\x00", "\ufffd"))


def find_unstorable(value: Any, path: str = "") -> Unstorable | None:
    """The first string (or mapping key) in a decoded JSON-like value that cannot be stored."""
    if isinstance(value, str):
        reason = text_problem(value)
        return Unstorable(path or "body", reason) if reason else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{_printable(key)}" if path else _printable(key)
            if isinstance(key, str) and (reason := text_problem(key)):
                return Unstorable(inner, f"key {reason}")
            if found := find_unstorable(item, inner):
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if found := find_unstorable(item, f"{path}[{index}]"):
                return found
    return None


def find_unstorable_json(raw: bytes) -> Unstorable | None:
    """The first unstorable string in a JSON document, found without a full second parse
    unless the document carries an escape that could produce one."""
    if not _SUSPECT_ESCAPE.search(raw):
        return None
    try:
        # The standard library decodes lone surrogates that msgspec refuses, so the
        # path of the offending field can still be named.
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return find_unstorable(value)


def _printable(key: Any) -> str:
    # json.dumps escapes NUL and surrogates, so a path never carries them itself.
    return json.dumps(str(key))[1:-1]
