"""The API tests' tokens, config and client (imported by conftest.py and the tests)."""

from __future__ import annotations

from typing import Any

import attrs
import httpx
import yaml

import mt5guard
from mt5guard.config import MEMORY, OrdersConfig, default_config_path, parse_config
from mt5guard.observability import Metrics
from mt5guard.testing import VirtualClock

TOKENS = {"OPS_TOKEN": "ops-" + "o" * 28, "READER_TOKEN": "reader-" + "r" * 25,
          "DEMO2_TOKEN": "demo2-" + "d" * 26, "ALERT_SECRET": "alert-" + "a" * 34}
API = {"tokens": [
    {"name": "ops", "token": "${OPS_TOKEN}", "scopes": ["read", "trade"]},
    {"name": "reader", "token": "${READER_TOKEN}", "scopes": ["read"]},
    {"name": "demo2-desk", "token": "${DEMO2_TOKEN}", "scopes": ["read", "trade"],
     "accounts": ["demo2"]},
], "requests_per_second": 5, "burst": 30, "max_body_bytes": 1024,
    "alert_secret": "${ALERT_SECRET}", "alert_max_age": "30s"}


class Api:
    """An httpx client on the server, with a token picked per call."""

    def __init__(self, url: str, clock: VirtualClock, guard: mt5guard.Guard, metrics: Metrics) -> None:
        self.url, self.clock, self.guard, self.metrics = url, clock, guard, metrics
        self.http = httpx.Client(base_url=url, timeout=10.0)

    def call(self, method: str, path: str, token: str | None = "OPS_TOKEN", **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {TOKENS.get(token, token)}"
        return self.http.request(method, path, headers=headers, **kw)


def api_config(**overrides: Any) -> mt5guard.Config:
    data = yaml.safe_load(default_config_path().read_text())
    data["api"] = {**API, **overrides}
    config = parse_config(data, environ=TOKENS)
    return attrs.evolve(config, orders=OrdersConfig(state_dir=MEMORY))


