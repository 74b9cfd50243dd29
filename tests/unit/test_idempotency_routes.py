"""Which routes take an Idempotency-Key: decided from the route table, for every route.

A route whose answer carries a credential must be marked, or its answer would
be stored in Redis for a day; this walks every POST route's answer type, so a
new route that hands out a token cannot forget the mark.
"""

from __future__ import annotations

import types
from dataclasses import fields
from typing import Any, Union, cast, get_args, get_origin

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp
from phoenix_gateway.api.idempotency import refusal
from phoenix_gateway.app import AppDeps, create_app

# Names of answer fields that hand out a credential.
CREDENTIAL_FIELDS = frozenset(
    {"session_token", "key", "secret", "otpauth_uri", "recovery_codes", "token", "password"}
)
# A push monitor's token is shown on every read of the monitor to any member of
# its organization: replaying it to that same member adds nothing they cannot GET.
READABLE_ANYWAY = frozenset({"push_token"})


def _passthrough(app: ASGIApp) -> ASGIApp:
    return app


def the_app() -> Litestar:
    nothing = cast(Any, None)
    values = {f.name: nothing for f in fields(AppDeps)}
    deps = AppDeps(**{**values, "max_body_bytes": 1024, "idempotency": _passthrough})
    return create_app(deps)


def post_handlers() -> list[tuple[str, HTTPRouteHandler]]:
    out = []
    for route in the_app().routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and "POST" in handler.http_methods:
                out.append((route.path, handler))
    return out


def field_names(annotation: Any, seen: set[type] | None = None) -> set[str]:
    """Every field name of the msgspec structs in an answer type, nested ones too."""
    seen = set() if seen is None else seen
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        if annotation in seen:
            return set()
        seen.add(annotation)
        names = set(annotation.__struct_fields__)
        for info in msgspec.structs.fields(annotation):
            names |= field_names(info.type, seen)
        return names
    if get_origin(annotation) in (Union, types.UnionType) or get_args(annotation):
        return set().union(*(field_names(arg, seen) for arg in get_args(annotation)))
    return set()


def test_every_post_route_handing_out_a_credential_refuses_the_key() -> None:
    handlers = post_handlers()
    assert len(handlers) > 20
    unmarked = []
    for path, handler in handlers:
        answer = handler.parsed_fn_signature.return_type.annotation
        credentials = (field_names(answer) & CREDENTIAL_FIELDS) - READABLE_ANYWAY
        if credentials and refusal(handler) is None:
            unmarked.append(f"{path}: {sorted(credentials)}")
    assert unmarked == []


def test_routes_without_authentication_refuse_the_key() -> None:
    public = {
        path: refusal(handler)
        for path, handler in post_handlers()
        if "principal" not in handler.parsed_fn_signature.parameters
    }
    assert "/api/v1/auth/login" in public
    assert "/api/v1/auth/signup" in public
    assert all(reason is not None for reason in public.values()), public


def test_an_ordinary_authenticated_create_takes_the_key() -> None:
    by_path = dict(post_handlers())
    assert refusal(by_path["/api/v1/monitors"]) is None
    assert refusal(by_path["/api/v1/api-keys"]) is not None
    assert refusal(by_path["/api/v1/account/two-factor"]) is not None
