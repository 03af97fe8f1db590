"""Reading a request: the JSON body within its size limit, the Idempotency-Key, query values."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.requests import Request

from mt5guard.api.problems import ApiProblem
from mt5guard.errors import MT5ValidationError
from mt5guard.orders.request import check_client_order_id

__all__ = ["idempotency_key", "json_body", "json_object", "query_time", "raw_body"]


async def json_body(request: Request, limit: int, allowed: tuple[str, ...]) -> dict[str, Any]:
    """The JSON object sent, at most ``limit`` bytes, with only ``allowed`` keys."""
    return json_object(await raw_body(request, limit), allowed)


async def raw_body(request: Request, limit: int) -> bytes:
    """The body's bytes as sent, at most ``limit`` of them (413 beyond)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise _too_large(limit)
    return bytes(data)


def json_object(data: bytes, allowed: tuple[str, ...]) -> dict[str, Any]:
    """``data`` parsed as a JSON object with only ``allowed`` keys (empty: ``{}``)."""
    if not data:
        return {}
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiProblem(400, "bad_json", "Bad Request", f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiProblem(400, "bad_json", "Bad Request", "the body must be a JSON object")
    for key in body:
        if key not in allowed:
            raise ApiProblem(422, "validation", "Unprocessable Content",
                             f"unknown field {key!r}; allowed: {', '.join(allowed)}", field=key)
    return body


def _too_large(limit: int) -> ApiProblem:
    return ApiProblem(413, "too_large", "Content Too Large",
                      f"the body is over {limit} bytes (api.max_body_bytes)")


def idempotency_key(request: Request) -> str | None:
    """The ``Idempotency-Key`` header: the client order id of what this request sends."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    try:
        return check_client_order_id(key)
    except MT5ValidationError:
        raise ApiProblem(422, "validation", "Unprocessable Content",
                         "Idempotency-Key must be 1-20 characters from A-Z, a-z, 0-9, _ and - "
                         "(it becomes the order's client order id)", field="Idempotency-Key"
                         ) from None


def query_time(request: Request, name: str) -> datetime:
    """An ISO 8601 time from the query string (``?from=2026-01-05T00:00:00Z``)."""
    raw = request.query_params.get(name)
    if raw is None:
        raise ApiProblem(422, "validation", "Unprocessable Content",
                         f"query parameter {name!r} is required (ISO 8601 with a zone)", field=name)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApiProblem(422, "validation", "Unprocessable Content",
                         f"{name}={raw!r} is not an ISO 8601 time with a zone, e.g. "
                         "2026-01-05T00:00:00Z", field=name)
    return moment
