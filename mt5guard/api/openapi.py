"""The OpenAPI 3.1 document of the API, served at /v1/openapi.json."""

from __future__ import annotations

from typing import Any

__all__ = ["ENDPOINTS", "openapi_document"]

#: (method, path, scope, handler, summary): ``handler`` names the method of
#: :class:`~mt5guard.api.routes.Routes` that answers; the app's routes are built from this table.
ENDPOINTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("GET", "/v1/accounts", "read", "accounts", "The accounts this token may touch, with their state"),
    ("GET", "/v1/accounts/{account}", "read", "account", "One account's state, health and breaker"),
    ("GET", "/v1/accounts/{account}/info", "read", "account_info", "account_info() of the terminal"),
    ("GET", "/v1/accounts/{account}/prices/{symbol}", "read", "price", "A guarded price (symbol_info_tick)"),
    ("GET", "/v1/accounts/{account}/ticks", "read", "ticks",
     "Server-sent events: event: tick per changed quote of ?symbols=A,B"),
    ("GET", "/v1/accounts/{account}/positions", "read", "positions", "Open positions (?symbol=)"),
    ("GET", "/v1/accounts/{account}/orders", "read", "orders", "Pending orders (?symbol=)"),
    ("POST", "/v1/accounts/{account}/orders", "trade", "place",
     "Place a market order; Idempotency-Key is its client order id"),
    ("DELETE", "/v1/accounts/{account}/orders/{ticket}", "trade", "cancel", "Cancel a pending order"),
    ("PATCH", "/v1/accounts/{account}/positions/{ticket}", "trade", "modify", "Set a position's sl/tp"),
    ("POST", "/v1/accounts/{account}/positions/{ticket}/close", "trade", "close",
     "Close a position (volume: part of it)"),
    ("GET", "/v1/accounts/{account}/history/deals", "read", "history_deals",
     "Deals in ?from=&to= (ISO 8601)"),
    ("GET", "/v1/accounts/{account}/history/orders", "read", "history_orders",
     "Finished orders in ?from=&to="),
    ("GET", "/v1/accounts/{account}/breaker", "read", "breaker", "The circuit breaker's state"),
)

_PROBLEM = {"description": "A problem document (RFC 9457)",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/accounts/{account}/orders"): {
        "type": "object", "required": ["symbol", "side", "volume"], "additionalProperties": False,
        "properties": {"symbol": {"type": "string"}, "side": {"enum": ["buy", "sell"]},
                       "volume": {"type": "number"}, "sl": {"type": "number"},
                       "tp": {"type": "number"}, "deviation": {"type": "integer"},
                       "magic": {"type": "integer"}, "comment": {"type": "string"}}},
    ("PATCH", "/v1/accounts/{account}/positions/{ticket}"): {
        "type": "object", "additionalProperties": False,
        "properties": {"sl": {"type": "number"}, "tp": {"type": "number"}}},
    ("POST", "/v1/accounts/{account}/positions/{ticket}/close"): {
        "type": "object", "additionalProperties": False,
        "properties": {"volume": {"type": "number"}, "deviation": {"type": "integer"}}},
}


def _operation(method: str, path: str, scope: str, summary: str) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer" if name == "ticket" else "string"}}
        for name in ("account", "symbol", "ticket") if "{" + name + "}" in path]
    if method != "GET":
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": "The client order id: a retry with the same key never "
                                      "trades twice (1-20 of A-Z a-z 0-9 _ -)",
                       "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,20}$"}})
    operation: dict[str, Any] = {
        "summary": summary, "parameters": params, "security": [{"bearer": []}],
        "x-scope": scope,
        "responses": {"200": {"description": "OK", "content": {"application/json": {}}},
                      "default": _PROBLEM}}
    body = _BODIES.get((method, path))
    if body is not None:
        operation["requestBody"] = {"required": method == "POST" and path.endswith("/orders"),
                                    "content": {"application/json": {"schema": body}}}
    return operation


_ALERT = {
    "summary": "A TradingView-style alert signed with api.alert_secret becomes one market "
               "order; its id is the client order id",
    "security": [],
    "parameters": [
        {"name": "account", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "X-Mt5guard-Timestamp", "in": "header", "required": True,
         "description": "Unix seconds, within api.alert_max_age of the server's clock",
         "schema": {"type": "string", "pattern": "^[0-9]+$"}},
        {"name": "X-Mt5guard-Signature", "in": "header", "required": True,
         "description": "sha256= and the hex HMAC-SHA256 of '<timestamp>.<raw body>'",
         "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"}}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": False,
        "properties": {"symbol": {"type": "string"}, "side": {"type": "string"},
                       "action": {"type": "string"}, "volume": {"type": ["number", "string"]},
                       "comment": {"type": "string"}, "id": {"type": "string"},
                       "alert_id": {"type": "string"}}}}}},
    "responses": {"201": {"description": "The order's outcome", "content": {"application/json": {}}},
                  "default": _PROBLEM}}


def openapi_document(*, alerts: bool = False) -> dict[str, Any]:
    """The document; ``alerts`` adds ``POST /v1/alerts/{account}`` (api.alert_secret is set)."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path, scope, _handler, summary in ENDPOINTS:
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, scope, summary)
    if alerts:
        paths["/v1/alerts/{account}"] = {"post": _ALERT}
    problem = {"type": "object", "required": ["type", "title", "status", "retryable"],
               "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                              "status": {"type": "integer"}, "detail": {"type": "string"},
                              "instance": {"type": "string"}, "retryable": {"type": "boolean"},
                              "code": {"type": ["integer", "null"]}, "kind": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "mt5guard trading API", "version": "1",
                 "description": "Supervised MetaTrader 5 accounts over HTTP. Scopes: read, trade."},
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"Problem": problem}},
    }
