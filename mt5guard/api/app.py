"""The ASGI application: /v1 (the trading API) next to /healthz, /readyz and /metrics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mt5guard.api.access import Gate
from mt5guard.api.alerts import AlertRoute
from mt5guard.api.openapi import ENDPOINTS, openapi_document
from mt5guard.api.routes import Routes, json_response
from mt5guard.config import ApiConfig
from mt5guard.observability.http import readiness_report
from mt5guard.observability.metrics import Metrics
from mt5guard.session.guard import Guard

__all__ = ["create_app"]

_CONTENT_TYPE_METRICS = "text/plain; version=0.0.4; charset=utf-8"


def create_app(config: ApiConfig, guard: Callable[[], Guard | None], *,
               monotonic: Callable[[], float], metrics: Metrics | None = None,
               now: Callable[[], datetime] | None = None) -> Starlette:
    """The app for ``config``; ``guard()`` is the running tree (None while it starts).

    ``monotonic`` (seconds) drives the per-token rate limit and ``now`` (an aware
    datetime; default the system's) the alert route's timestamp window: pass the
    tree's clock's, so simulated time governs both in tests.
    """
    gate = Gate(config, monotonic)
    routes = Routes(guard, gate, config.max_body_bytes)
    table: list[Route] = []
    for method, path, scope, name, _summary in ENDPOINTS:
        handler = getattr(routes, name)
        if name == "accounts":  # lists the accounts the token may touch: checks its own scope
            table.append(Route(path, handler, methods=[method]))
        else:
            starlette_path = path.replace("{ticket}", "{ticket:int}")
            table.append(Route(starlette_path, routes.endpoint(scope, handler), methods=[method]))
    if config.alert_secret is not None:
        alerts = AlertRoute(config.alert_secret, config.alert_max_age, guard=guard, gate=gate,
                            max_body=config.max_body_bytes,
                            now=now or (lambda: datetime.now(UTC)))
        table.append(Route("/v1/alerts/{account}", alerts.handle, methods=["POST"]))
    document = openapi_document(alerts=config.alert_secret is not None)

    async def openapi(_request: Request) -> Response:
        return json_response(document)

    async def healthz(_request: Request) -> Response:
        return json_response({"status": "alive"})

    async def readyz(_request: Request) -> Response:
        def snapshot() -> Any:
            running = guard()
            return running.status.snapshot() if running is not None else {}

        status, body = readiness_report(snapshot)
        return json_response(body, status)

    async def metrics_page(_request: Request) -> Response:
        if metrics is None:
            return json_response({"error": "not found"}, 404)
        return Response(metrics.render(), media_type=_CONTENT_TYPE_METRICS)

    table += [Route("/v1/openapi.json", openapi, methods=["GET"]),
              Route("/healthz", healthz, methods=["GET"]),
              Route("/readyz", readyz, methods=["GET"]),
              Route("/metrics", metrics_page, methods=["GET"])]
    return Starlette(routes=table)
