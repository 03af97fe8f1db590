"""Errors as RFC 9457 problem documents (``application/problem+json``).

Every refusal the API gives is one: ``type``, ``title``, ``status``,
``detail``, plus ``retryable`` (true only when nothing reached the trade
server), ``code`` (the MT5 code, when the terminal gave one), ``kind`` and
``operation`` of the :class:`~mt5guard.errors.MT5Error` it stands for.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from mt5guard.errors import (
    MT5CircuitBreakerOpen,
    MT5Error,
    MT5OrderOutcomeUnknown,
    MT5RateLimited,
    MT5StateError,
    MT5TimeoutError,
    MT5Unavailable,
    MT5ValidationError,
)
from mt5guard.plain import plain

__all__ = ["ApiProblem", "problem_response", "status_of"]

MEDIA_TYPE = "application/problem+json"
_TYPE = "urn:mt5guard:problem:"


class ApiProblem(Exception):
    """A refusal by the API itself (auth, scope, limits, a bad body): no MT5 call was made."""

    def __init__(self, status: int, kind: str, title: str, detail: str, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.headers = headers or {}
        self.extra = extra


def status_of(error: MT5Error) -> int:
    """The HTTP status of an MT5 error (the order of the checks matters: subclasses first)."""
    if isinstance(error, MT5ValidationError):
        return 422
    if isinstance(error, MT5RateLimited):
        return 429
    if isinstance(error, MT5CircuitBreakerOpen | MT5Unavailable):
        return 503
    if isinstance(error, MT5OrderOutcomeUnknown | MT5TimeoutError):
        return 504  # no answer in time: for an order, reconciled by its id; never re-sent
    if isinstance(error, MT5StateError):
        return 409  # refused in the current market or account state (10019 no money, ...)
    return 502  # the terminal or its connection failed


def problem_response(problem: ApiProblem | MT5Error, instance: str) -> Response:
    """The problem document of ``problem`` for the request path ``instance``."""
    headers: dict[str, str] = {}
    if isinstance(problem, ApiProblem):
        body: dict[str, Any] = {
            "type": _TYPE + problem.kind, "title": problem.title, "status": problem.status,
            "detail": problem.detail, "instance": instance, "retryable": problem.extra.pop(
                "retryable", False), "code": None, "kind": problem.kind, **problem.extra}
        headers.update(problem.headers)
        status = problem.status
    else:
        status = status_of(problem)
        fields = problem.to_dict()
        body = {**fields, "type": _TYPE + problem.kind, "title": type(problem).summary,
                "status": status, "detail": str(problem), "instance": instance}
        retry_at = getattr(problem, "retry_at", None)
        if isinstance(retry_at, datetime) and status in (429, 503):
            wait = max(0, round((retry_at - datetime.now(UTC)).total_seconds()))
            headers["Retry-After"] = str(wait)
    data = json.dumps(plain(body), sort_keys=True).encode()
    return Response(data, status_code=status, media_type=MEDIA_TYPE, headers=headers)
