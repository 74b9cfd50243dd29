"""Errors as RFC 9457 ``application/problem+json``, never a bare 500 for bad input."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from phoenix_contracts.base import Rejected
from phoenix_platform.logging import get_logger

log = get_logger(__name__)

PROBLEM = "application/problem+json"
STATUS_OF_CODE = {
    "invalid": 422,
    "quota": 422,
    "conflict": 409,
    "not_found": 404,
    "unauthorized": 401,
    "forbidden": 403,
    "throttled": 429,
    "unavailable": 503,
    # Refusals a client acts on by code (the body carries it as ``code``).
    "two_factor_required": 401,
    "two_factor_invalid": 401,
}
# PostgreSQL cancelled the statement: ``statement_timeout`` (or an operator) ended it.
QUERY_CANCELED = "57014"
RETRY_AFTER_CANCELED = "5"
GENERIC_CODES = frozenset(
    {"invalid", "conflict", "not_found", "unauthorized", "forbidden", "throttled", "unavailable"}
)


class Problem(HTTPException):
    """An error with an RFC 9457 body; ``errors`` lists field-level details."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ):
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.errors = errors or []
        self.code = code  # machine-readable reason beyond the status, e.g. two_factor_required


def from_rejection(rejected: Rejected) -> Problem:
    errors = [{"field": rejected.field, "message": rejected.message}] if rejected.field else []
    headers = {"Retry-After": str(rejected.retry_after)} if rejected.retry_after else None
    code = None if rejected.code in GENERIC_CODES else rejected.code
    return Problem(
        STATUS_OF_CODE.get(rejected.code, 400), rejected.message, errors, headers, code=code
    )


def _body(
    status: int,
    detail: str,
    errors: list[dict[str, str]],
    request: Request[Any, Any, Any],
    code: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _title(status),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    if code:
        body["code"] = code
    return body


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    headers: dict[str, str] = dict(getattr(exc, "headers", None) or {})
    if isinstance(exc, Problem):
        status, detail, errors = exc.status_code, exc.detail, exc.errors
    elif isinstance(exc, ValidationException):
        status, detail = 400, "the request body or parameters are invalid"
        errors = _validation_errors(exc.extra)
    elif isinstance(exc, UnicodeDecodeError | msgspec.DecodeError | RecursionError):
        # Litestar hands some bodies to the JSON decoder unchecked: not UTF-8, or
        # nested deeper than the decoder's recursion limit.
        status, detail, errors = 400, "the request body is not valid JSON", []
    elif isinstance(exc, HTTPException):
        status, detail, errors = exc.status_code, exc.detail, []
    elif _query_canceled(exc):
        log.warning("http.query_canceled", path=request.url.path)
        status, detail, errors = 503, "the request took too long; try again later", []
        headers["Retry-After"] = RETRY_AFTER_CANCELED
    else:
        log.exception("http.unhandled_error", path=request.url.path)
        status, detail, errors = HTTP_500_INTERNAL_SERVER_ERROR, "internal error", []
    return Response(
        _body(status, detail, errors, request, exc.code if isinstance(exc, Problem) else None),
        status_code=status,
        media_type=PROBLEM,
        headers=headers,
    )


def _query_canceled(exc: Exception) -> bool:
    # SQLAlchemy wraps the driver's error; the SQLSTATE is on the wrapped one.
    return getattr(getattr(exc, "orig", None), "sqlstate", None) == QUERY_CANCELED


def _validation_errors(extra: Any) -> list[dict[str, str]]:
    errors = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            field = str(item.get("key") or "body")
            errors.append({"field": field, "message": str(item.get("message", "invalid"))})
    return errors
