"""The ``json`` check: an HTTP request whose JSON body must hold an expected value.

``json_path`` syntax (deliberately tiny, no dependency): an optional leading
``$``, then keys separated by dots and list indexes either in brackets or as
dotted numbers, e.g. ``$.data.items[0].status`` or ``data.items.0.status``. An
empty path (or ``$``) is the whole document. No filters, wildcards or quoting:
a key containing ``.`` or ``[`` cannot be addressed.

Comparison with ``expected_value`` (always a string in the spec):

- ``==`` / ``!=``: numerically when both sides read as finite numbers, else on
  the value's text: strings as they are, ``true``/``false``, ``null``, and
  objects or lists as compact JSON;
- ``<`` / ``>``: numeric only; a non-number is down with ``json_type``;
- ``contains``: substring of a string, or an element of a list (compared by
  text); anything else is down with ``json_type``.

Error classes: ``json`` (body is not JSON), ``json_path`` (invalid path or
nothing there), ``json_type``, ``json_value`` (the comparison is false).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from phoenix_contracts.monitors import MonitorSpec

from phoenix_executor.checks.base import CheckContext, Outcome
from phoenix_executor.checks.http import fetch_accepted

_STEP = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")
_MISSING = object()


class JsonTypeError(ValueError):
    """The value's type does not support the operator."""


def parse_path(path: str) -> list[str | int]:
    """``"$.a.b[0]"`` → ``["a", "b", 0]``; raises ValueError on anything else."""
    text = path.strip()
    text = text[1:] if text.startswith("$") else text
    steps: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None or (pos > 0 and text[pos] not in ".["):
            raise ValueError(f"invalid json_path {path!r} at position {pos}")
        index, key = match.groups()
        steps.append(int(index) if index is not None else key)
        pos = match.end()
    return steps


def lookup(document: Any, steps: list[str | int]) -> Any:
    """The value at ``steps``, or ``_MISSING``."""
    value = document
    for step in steps:
        if isinstance(value, list) and (isinstance(step, int) or step.isdigit()):
            index = int(step)
            if index >= len(value):
                return _MISSING
            value = value[index]
        elif isinstance(value, dict) and str(step) in value:
            value = value[str(step)]
        else:
            return _MISSING
    return value


def render(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def compare(value: Any, operator: str, expected: str) -> bool:
    """Whether ``value <operator> expected``; raises JsonTypeError when it cannot be asked."""
    text = render(value)
    left, right = _number(text), _number(expected)
    if operator in ("==", "!="):
        numeric = left is not None and right is not None
        equal = left == right if numeric else text == expected
        return equal if operator == "==" else not equal
    if operator in ("<", ">"):
        if isinstance(value, bool) or left is None or right is None:
            raise JsonTypeError(f"{operator} needs numbers, got {text!r} and {expected!r}")
        return left < right if operator == "<" else left > right
    if isinstance(value, str):
        return expected in value
    if isinstance(value, list):
        return any(render(item) == expected for item in value)
    raise JsonTypeError(f"contains needs a string or a list, got {text!r}")


class JsonCheck:
    type = "json"

    async def run(self, spec: MonitorSpec, ctx: CheckContext) -> Outcome:
        answer = await fetch_accepted(spec, ctx)
        if isinstance(answer, Outcome):
            return answer
        try:
            document = json.loads(answer.response.body)
        except ValueError as exc:  # also UnicodeDecodeError
            return answer.outcome(False, "json", f"body is not JSON: {exc}")
        try:
            value = lookup(document, parse_path(spec.json_path))
        except ValueError as exc:
            return answer.outcome(False, "json_path", str(exc))
        where = spec.json_path or "$"
        if value is _MISSING:
            return answer.outcome(False, "json_path", f"nothing at {where}")
        condition = f"{where} = {render(value)!r}, expected {spec.json_operator} "
        try:
            ok = compare(value, spec.json_operator, spec.expected_value)
        except JsonTypeError as exc:
            return answer.outcome(False, "json_type", f"{where}: {exc}")
        return answer.outcome(ok, "json_value", condition + repr(spec.expected_value))
