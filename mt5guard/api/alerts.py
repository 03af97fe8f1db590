"""The inbound alert route: a TradingView-style JSON alert, signed with a shared secret,
becomes one market order (``POST /v1/alerts/{account}``, on when ``api.alert_secret`` is set).

The sender signs ``<timestamp>.<raw body>`` with HMAC-SHA256 and sends
``X-Mt5guard-Timestamp: <unix seconds>`` and ``X-Mt5guard-Signature:
sha256=<hex>`` (the header the outbound webhooks sign with). The timestamp is
inside the signature, so an old alert cannot be replayed with a fresh one,
and must be within ``api.alert_max_age`` of the clock. The alert's id is the
order's client order id: a redelivered alert answers the first outcome and
never trades twice. Order of the checks: body size (413), signature (401),
timestamp (401), the alert route's rate (429), account (404), body (422),
then the order; an :class:`~mt5guard.errors.MT5Error` is the usual problem.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mt5guard.api._request import json_object, raw_body
from mt5guard.api.access import Gate
from mt5guard.api.problems import ApiProblem, problem_response
from mt5guard.api.routes import json_response
from mt5guard.errors import MT5Error, MT5ValidationError
from mt5guard.orders.request import check_client_order_id
from mt5guard.secret import Secret
from mt5guard.session.guard import Guard

__all__ = ["ALERT_FIELDS", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "AlertRoute", "alert_signature"]

SIGNATURE_HEADER = "X-Mt5guard-Signature"
TIMESTAMP_HEADER = "X-Mt5guard-Timestamp"
ALERT_FIELDS = ("symbol", "side", "action", "volume", "comment", "id", "alert_id")
_SIGN_HINT = (f"send {TIMESTAMP_HEADER}: <unix seconds> and {SIGNATURE_HEADER}: sha256=<hex "
              "HMAC-SHA256 of '<timestamp>.<raw body>' keyed with api.alert_secret>")


def alert_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-Mt5guard-Signature`` value of an alert: ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _invalid(field: str, detail: str) -> ApiProblem:
    return ApiProblem(422, "validation", "Unprocessable Content", detail, field=field)


def _one_of(body: dict[str, Any], names: tuple[str, str], what: str) -> tuple[str, Any]:
    given = [name for name in names if name in body]
    if not given:
        raise _invalid(names[0], f"field {names[0]!r} (or {names[1]!r}) is required: {what}")
    if len(given) > 1:
        raise _invalid(names[1], f"give {names[0]!r} or {names[1]!r}, not both")
    return given[0], body[given[0]]


def _order_of(body: dict[str, Any]) -> tuple[str, str, float, str, str | None]:
    """(symbol, side, volume, client order id, comment) of an alert, or 422 naming the field."""
    id_field, alert_id = _one_of(body, ("id", "alert_id"), "the alert's id, 1-20 of A-Z a-z 0-9 _ -")
    try:
        client_order_id = check_client_order_id(alert_id)
    except MT5ValidationError:
        raise _invalid(id_field, f"{id_field!r} must be 1-20 characters from A-Z, a-z, 0-9, _ "
                                 "and - (it becomes the order's client order id)") from None
    side_field, side = _one_of(body, ("side", "action"), "buy or sell")
    if not isinstance(side, str) or side.lower() not in ("buy", "sell"):
        raise _invalid(side_field, f"{side_field!r} must be buy or sell")
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise _invalid("symbol", "field 'symbol' is required: the symbol's name, e.g. EURUSD")
    raw_volume = body.get("volume")
    volume: float | None = None
    if isinstance(raw_volume, int | float) and not isinstance(raw_volume, bool):
        volume = float(raw_volume)
    elif isinstance(raw_volume, str):  # a template's "{{strategy.order.contracts}}" in quotes
        try:
            volume = float(raw_volume)
        except ValueError:
            volume = None
    if volume is None:
        raise _invalid("volume", "field 'volume' is required: lots as a number, e.g. 0.1")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise _invalid("comment", "field 'comment' must be a string")
    return symbol, side.lower(), volume, client_order_id, comment


class AlertRoute:
    """``POST /v1/alerts/{account}``; ``now()`` is the clock's wall time (the tree's clock)."""

    def __init__(self, secret: Secret, max_age: float, *, guard: Callable[[], Guard | None],
                 gate: Gate, max_body: int, now: Callable[[], datetime]) -> None:
        self._key = secret.reveal().encode()  # kept as bytes: never formatted anywhere
        self._max_age, self._guard, self._gate = max_age, guard, gate
        self._max_body, self._now = max_body, now

    def __repr__(self) -> str:
        return f"AlertRoute(max_age={self._max_age:g})"

    async def handle(self, request: Request) -> Response:
        try:
            data = await raw_body(request, self._max_body)
            self._authenticate(request, data)
            self._gate.throttle(" alerts", "the alert route")  # no token name has a space
            guard = self._guard()
            if guard is None:
                raise ApiProblem(503, "starting", "Service Unavailable",
                                 "mt5guard is still starting its accounts", retryable=True,
                                 headers={"Retry-After": "1"})
            name = str(request.path_params["account"])
            session = guard.sessions.get(name)
            if session is None:
                raise ApiProblem(404, "no_account", "Not Found", f"no account named {name!r}")
            symbol, side, volume, client_order_id, comment = _order_of(
                json_object(data, ALERT_FIELDS))
            extra: dict[str, Any] = {} if comment is None else {"comment": comment}
            outcome = await session.aio.place_order(symbol, side, volume,
                                                    client_order_id=client_order_id, **extra)
            return json_response(outcome, 201)
        except (ApiProblem, MT5Error) as problem:
            return problem_response(problem, request.url.path)

    def _authenticate(self, request: Request, data: bytes) -> None:
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        offered = request.headers.get(SIGNATURE_HEADER, "")
        expected = alert_signature(self._key, stamp, data)
        if not stamp or not hmac.compare_digest(expected.encode(), offered.encode()):
            raise ApiProblem(401, "unauthorized", "Unauthorized",
                             f"missing or wrong alert signature: {_SIGN_HINT}")
        try:
            sent = int(stamp)
        except ValueError:
            sent = None
        age = None if sent is None else self._now().timestamp() - sent
        if age is None or abs(age) > self._max_age:
            raise ApiProblem(401, "stale_alert", "Unauthorized",
                             f"{TIMESTAMP_HEADER} is not within api.alert_max_age "
                             f"({self._max_age:g}s) of this server's clock: send the current "
                             "unix time in seconds and keep the clocks in sync (NTP)")
