"""A running tree on a VirtualClock behind the real API server (uvicorn on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apikit import Api, api_config

import mt5guard
from mt5guard.api import ApiServer, create_app
from mt5guard.events.bus import EventBus
from mt5guard.observability import Metrics
from mt5guard.testing import VirtualClock


@pytest.fixture
def api(clock: VirtualClock, bus: EventBus) -> Iterator[Api]:
    config = api_config()
    metrics = Metrics(clock=clock)
    bus.subscribe(metrics)
    guard = mt5guard.start(config, clock=clock, bus=bus)
    metrics.track(guard)
    clock.settle()
    server = ApiServer(create_app(config.api, lambda: guard, monotonic=clock.monotonic,
                                  metrics=metrics, now=clock.now), port=0)
    server.start(announce=False)
    client = Api(server.url, clock, guard, metrics)
    try:
        yield client
    finally:
        client.http.close()
        server.stop()
        clock.close()
        guard.stop()
