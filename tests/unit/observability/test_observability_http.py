"""The health endpoint on a loopback port: status codes and bodies an orchestrator reads."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CONTENT_TYPE_LATEST

from mt5guard.health.messages import HealthStatus
from mt5guard.observability import HealthServer, HealthServerBindError, Metrics
from mt5guard.session.messages import SessionConnected

Reports = Mapping[str, Mapping[str, Any]]


class Reply:
    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


def request(url: str, method: str = "GET") -> Reply:
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=2) as resp:
            return Reply(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return Reply(err.code, dict(err.headers), err.read())


@pytest.fixture
def reports() -> dict[str, dict[str, Any]]:
    return {"demo": {"status": "SERVING", "breaker": "closed"}}


@pytest.fixture
def serve(reports: dict[str, dict[str, Any]]) -> Iterator[Callable[..., HealthServer]]:
    started: list[HealthServer] = []

    def start(readiness: Callable[[], Reports] | None = None, **kw: Any) -> HealthServer:
        kw.setdefault("metrics", None)
        server = HealthServer(host="127.0.0.1", readiness=readiness or (lambda: reports), **kw)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


def test_healthz_says_alive(serve: Callable[..., HealthServer]) -> None:
    server = serve()
    reply = request(server.url + "/healthz")
    assert (reply.status, reply.json()) == (200, {"status": "alive"})
    assert reply.headers["Content-Type"] == "application/json"
    assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0


def test_readyz_is_200_when_every_account_serves(
    serve: Callable[..., HealthServer], reports: dict[str, dict[str, Any]]
) -> None:
    reports["live"] = {"status": HealthStatus.SERVING, "since": datetime(2026, 1, 5, tzinfo=UTC)}
    reply = request(serve().url + "/readyz")
    assert reply.status == 200
    assert reply.json() == {
        "ready": True,
        "accounts": {
            "demo": {"status": "SERVING", "breaker": "closed"},
            "live": {"status": "SERVING", "since": "2026-01-05T00:00:00+00:00"},
        },
    }


def test_readyz_is_503_when_one_account_does_not_serve(
    serve: Callable[..., HealthServer], reports: dict[str, dict[str, Any]]
) -> None:
    reports["live"] = {"status": "NOT_SERVING", "reason": "breaker open"}
    reply = request(serve().url + "/readyz")
    assert reply.status == 503
    assert reply.json()["ready"] is False
    assert reply.json()["accounts"]["live"] == {"status": "NOT_SERVING", "reason": "breaker open"}


def test_readyz_is_503_without_accounts(serve: Callable[..., HealthServer]) -> None:
    reply = request(serve(readiness=dict).url + "/readyz")
    assert (reply.status, reply.json()) == (503, {"ready": False, "accounts": {}})


def test_readyz_is_503_naming_the_error_when_readiness_raises(
    serve: Callable[..., HealthServer],
) -> None:
    def broken() -> Reports:
        raise TimeoutError("session did not answer")

    reply = request(serve(readiness=broken).url + "/readyz")
    assert reply.status == 503
    assert reply.json() == {"ready": False, "accounts": {}, "error": "TimeoutError"}


def test_metrics_serves_prometheus_text(serve: Callable[..., HealthServer]) -> None:
    metrics = Metrics()
    metrics(SessionConnected("demo", 5001, "MetaQuotes-Demo", datetime(2026, 1, 5, tzinfo=UTC)))
    reply = request(serve(metrics=metrics).url + "/metrics")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert b'mt5guard_sessions_connected{account="demo"} 1.0' in reply.body


def test_metrics_is_404_without_metrics(serve: Callable[..., HealthServer]) -> None:
    assert request(serve().url + "/metrics").status == 404


def test_unknown_path_is_404_json_and_other_methods_405(
    serve: Callable[..., HealthServer],
) -> None:
    server = serve()
    missing = request(server.url + "/nope")
    assert (missing.status, missing.json()["error"]) == (404, "not found")
    for method in ("POST", "DELETE", "HEAD"):
        reply = request(server.url + "/healthz", method=method)
        assert reply.status == 405, method
        assert reply.headers["Allow"] == "GET"


def test_access_log_goes_to_debug_logger_not_stderr(
    serve: Callable[..., HealthServer],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG, logger="mt5guard.http")
    request(serve().url + "/healthz?verbose=1")
    access = [r for r in caplog.records if "GET /healthz" in r.getMessage()]
    assert access and all(r.levelno == logging.DEBUG for r in access)
    assert capfd.readouterr().err == ""


def test_stop_is_quick_idempotent_and_frees_the_port(serve: Callable[..., HealthServer]) -> None:
    server = serve()
    port = server.port
    request(server.url + "/healthz")

    began = time.monotonic()
    server.stop()
    assert time.monotonic() - began < 3.0  # not a client's 10 s request timeout
    server.stop()
    assert f"mt5guard-http:{port}" not in {t.name for t in threading.enumerate()}

    with pytest.raises(urllib.error.URLError):
        request(f"http://127.0.0.1:{port}/healthz")
    again = serve(port=port)
    assert request(again.url + "/healthz").status == 200


def test_binding_a_used_port_names_the_address_and_config_key(
    serve: Callable[..., HealthServer],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(HealthServerBindError) as info:
            serve(port=port)

    assert isinstance(info.value, OSError)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "observability.http.port" in str(info.value)


def test_port_before_start_is_an_error() -> None:
    server = HealthServer(readiness=dict, metrics=None)
    with pytest.raises(RuntimeError):
        _ = server.port
    server.stop()
