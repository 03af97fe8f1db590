"""An engine that embeds mt5guard serves its metrics and health from its own HTTP
server and its own Prometheus registry, next to its own metrics: no second port,
nothing global touched (prometheus_client's default registry stays clean)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import attrs
import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Counter, make_wsgi_app

import mt5guard
from mt5guard.config import MEMORY, OrdersConfig, default_config_path
from mt5guard.events.bus import EventBus
from mt5guard.observability import Metrics, readiness_report


class Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def host_server() -> Iterator[tuple[str, CollectorRegistry, mt5guard.Guard]]:
    registry = CollectorRegistry()  # the engine's own registry, with its own metrics in it
    Counter("engine_signals", "Signals the engine acted on.", registry=registry).inc(3)
    config = attrs.evolve(mt5guard.load_config(default_config_path()),
                          orders=OrdersConfig(state_dir=MEMORY))
    bus = EventBus()
    metrics = Metrics(registry=registry)  # mt5guard's series join the engine's registry
    bus.subscribe(metrics)
    guard = mt5guard.start(config, bus=bus)
    metrics.track(guard)
    prometheus = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/ready":
            status, body = readiness_report(guard.status.snapshot)
            start_response(f"{status} {'OK' if status == 200 else 'Service Unavailable'}",
                           [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        return prometheus(environ, start_response)

    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", registry, guard
    finally:
        server.shutdown()
        server.server_close()
        guard.stop()


def test_the_host_serves_mt5guard_metrics_and_health_from_its_own_server(host_server) -> None:
    url, _registry, _guard = host_server
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    assert "engine_signals_total 3.0" in text
    assert 'mt5guard_breaker_transitions_total{account="demo2",from_state="closed",to_state="open"} 0.0' in text
    assert 'mt5guard_unknown_outcomes_pending{account="demo"} 0.0' in text
    for _ in range(200):  # the accounts connect and their first probes pass
        try:
            with urllib.request.urlopen(url + "/ready", timeout=5) as response:
                body = json.loads(response.read())
                break
        except urllib.error.HTTPError as not_yet:
            assert not_yet.code == 503
            threading.Event().wait(0.05)
    else:
        raise AssertionError("never ready")
    assert body["ready"] and set(body["accounts"]) == {"demo", "demo2"}
    assert REGISTRY.get_sample_value("mt5guard_breaker_state", {"account": "demo"}) is None
