"""Hostile requests derived from the API's own OpenAPI document.

Every operation the document lists is covered, so a route added later is
attacked without anyone remembering to add it here. Pure: builds requests,
sends nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

NUL = "x\u0000y"
SURROGATE = "a\ud800b"
UNSTORABLE = (NUL, SURROGATE)
MEGABYTE = "x" * 1_000_000
# Past int4 and int8, past what a timedelta of seconds holds, and the edges.
EXTREME_NUMBERS: tuple[Any, ...] = (1e308, -1, 2**31, 10**12, 2**63, -(2**63) - 1, 0)
EXTREME_DATES: tuple[Any, ...] = (
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00+14:00",  # before year 1 once in UTC
    "9999-12-31T23:59:59-14:00",  # year 10000 once in UTC
    "2030-01-01T00:00:00",  # no offset: UTC
    "1970-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    0,
    -1,
)
# In a URL: a NUL, a surrogate as (invalid) UTF-8, and the extremes as text.
QUERY_VALUES = (
    "%00",
    "x%00y",
    "%ED%A0%80",
    "x" * 8_000,
    "1e308",
    "-1",
    str(2**63),
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "-1-01-01T00:00:00Z",
)
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


@dataclass(frozen=True)
class Attempt:
    method: str
    path: str  # with path parameters filled in
    route: str  # the OpenAPI path template, for messages
    body: Any = None
    query: str = ""  # already encoded
    # The field a 422 must name: set when the attempt carries unstorable text.
    refused_field: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The field carrying an extreme date or number: refused naming it, or kept as sent.
    extreme_field: str | None = None


class Document:
    """An OpenAPI document with its ``$ref``s resolved on demand."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.raw["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        options = [s for s in schema.get("oneOf", schema.get("anyOf", [])) if s != {"type": "null"}]
        return self.resolve(options[0]) if options else schema

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for path, item in self.raw["paths"].items():
            for method, operation in item.items():
                if method in WRITE_METHODS | {"get"}:
                    yield method, path, operation

    def body_schema(self, operation: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        content = operation.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema is None:
            return None
        name = _schema_name(schema)
        return name, self.resolve(schema)


def _schema_name(schema: dict[str, Any]) -> str:
    refs = [schema.get("$ref", "")] + [s.get("$ref", "") for s in schema.get("oneOf", [])]
    return next((r.rsplit("/", 1)[1] for r in refs if r), "")


def skeleton(doc: Document, schema: dict[str, Any]) -> Any:
    """A plausible value of ``schema``: the required fields only."""
    schema = doc.resolve(schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = schema.get("required", [])
        return {k: skeleton(doc, schema["properties"][k]) for k in required}
    if kind == "array":
        return []
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    return "x"


def body_mutations(
    doc: Document, schema: dict[str, Any], base: Any
) -> Iterator[tuple[Any, str | None, str | None]]:
    """(body, field a 422 must name or None, field carrying an extreme date or number
    or None) for each hostile value in each field."""
    properties = schema.get("properties", {})
    for name, prop in properties.items():
        prop = doc.resolve(prop)
        extreme = name if prop.get("type") in ("integer", "number") or _is_date(prop) else None
        for value, refused in _values_for(
            doc, prop, name, base.get(name) if isinstance(base, dict) else None
        ):
            yield {**base, name: value}, refused, None if refused else extreme


def _is_date(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "string" and prop.get("format") == "date-time"


def _values_for(
    doc: Document, prop: dict[str, Any], path: str, current: Any
) -> Iterator[tuple[Any, str | None]]:
    for text in UNSTORABLE:
        yield text, path  # in any field, whatever its type: refused naming it
    kind = prop.get("type")
    if _is_date(prop):
        yield from ((d, None) for d in EXTREME_DATES)
    elif kind == "string":
        yield MEGABYTE, None
    elif kind in ("integer", "number"):
        yield from ((n, None) for n in EXTREME_NUMBERS)
    elif kind == "array":
        item = skeleton(doc, prop.get("items", {}))
        yield [], None
        yield [item] * 10_000, None
        yield [NUL], f"{path}[0]"
    elif kind == "object" or "additionalProperties" in prop:
        nested = current if isinstance(current, dict) else {}
        for key in nested:
            yield {**nested, key: NUL}, f"{path}.{key}"
        yield {**nested, "headers": {"X-Foo": NUL}}, f"{path}.headers.X-Foo"
        yield {**nested, NUL: "v"}, None  # a key: the field is named, escaped
        yield {f"k{n}": "v" for n in range(10_000)}, None


def path_values(route: str, ids: dict[str, str]) -> dict[str, str]:
    """Each path parameter: a real id of the attacker's where known, else a fresh one."""
    names = [part[1:-1] for part in route.split("/") if part.startswith("{")]
    return {n: ids.get(n, str(uuid.uuid4())) for n in names}


def fill(route: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        route = route.replace("{" + name + "}", value)
    return route


def attempts(doc: Document, ids: dict[str, str], bases: dict[str, Any]) -> Iterator[Attempt]:
    """Every hostile request for every operation: path, query and body, one field at a time."""
    for method, route, operation in doc.operations():
        params = path_values(route, ids)
        path = fill(route, params)
        found = doc.body_schema(operation)
        base = (bases.get(found[0]) or skeleton(doc, found[1])) if found else None
        for parameter in operation.get("parameters", []):
            name, where = parameter["name"], parameter["in"]
            # A path parameter typed uuid never matches a NUL (404); any text one is checked.
            text = doc.resolve(parameter.get("schema", {})).get("type") == "string"
            if where == "path":
                for raw in ("%00", "x%00y"):
                    refused = name if text else None
                    yield Attempt(
                        method, fill(route, {**params, name: raw}), route, base, "", refused
                    )
            elif where == "query":
                for raw in QUERY_VALUES:
                    refused = name if "%00" in raw else None
                    yield Attempt(method, path, route, base, f"{name}={raw}", refused)
        if found:
            for body, refused, extreme in body_mutations(doc, found[1], base):
                yield Attempt(method, path, route, body, "", refused, extreme_field=extreme)
