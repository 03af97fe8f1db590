"""Metrics: events in, Prometheus samples out, in a private registry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.events.bus import EventBus
from mt5guard.health.messages import HealthChanged, HealthStatus, ProbeRecorded, ProbeResult
from mt5guard.observability import Metrics
from mt5guard.orders.messages import OrderReconciled
from mt5guard.session.messages import RequestCompleted, SessionConnected, SessionDisconnected
from mt5guard.supervision.events import ChildFailed, RestartScheduled, SupervisorGaveUp

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def breaker(old: BreakerState | None, new: BreakerState) -> BreakerStateChanged:
    return BreakerStateChanged("demo", old, new, "test", AT, epoch=1)


def probe(*, ok: bool = True, skipped: bool = False, latency_ms: float = 3.0) -> ProbeRecorded:
    result = ProbeResult(1, ok, ok, True, latency_ms, AT, skipped=skipped)
    return ProbeRecorded("demo", result)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    sample: float | None = metrics.registry.get_sample_value(name, labels)
    return sample


@pytest.mark.parametrize(
    ("state", "encoded"),
    [(BreakerState.CLOSED, 0), (BreakerState.HALF_OPEN, 1), (BreakerState.OPEN, 2),
     (BreakerState.DISABLED, 3)],
)
def test_breaker_state_gauge_encodes_each_state(
    metrics: Metrics, state: BreakerState, encoded: float
) -> None:
    metrics(breaker(None, state))
    assert value(metrics, "mt5guard_breaker_state", account="demo") == encoded


def test_breaker_transitions_count_changes_but_not_snapshots(metrics: Metrics) -> None:
    metrics(breaker(None, BreakerState.CLOSED))
    metrics(breaker(BreakerState.CLOSED, BreakerState.OPEN))
    metrics(breaker(BreakerState.OPEN, BreakerState.HALF_OPEN))
    metrics(breaker(BreakerState.HALF_OPEN, BreakerState.OPEN))

    def transitions(old: str, new: str) -> float | None:
        return value(metrics, "mt5guard_breaker_transitions_total",
                     account="demo", from_state=old, to_state=new)

    assert transitions("closed", "open") == 1
    assert transitions("open", "half_open") == 1
    assert transitions("half_open", "open") == 1
    assert value(metrics, "mt5guard_breaker_state", account="demo") == 2


@pytest.mark.parametrize(
    ("status", "encoded"),
    [(HealthStatus.SERVING, 1), (HealthStatus.NOT_SERVING, 0), (HealthStatus.UNKNOWN, -1),
     (HealthStatus.OUT_OF_SERVICE, -2)],
)
def test_health_status_gauge_per_component(
    metrics: Metrics, status: HealthStatus, encoded: float
) -> None:
    metrics(HealthChanged("demo", "data_feed", HealthStatus.UNKNOWN, status, "test", AT))
    assert value(metrics, "mt5guard_health_status", account="demo",
                 component="data_feed") == encoded


def test_probes_are_counted_by_result_and_timed_in_seconds(metrics: Metrics) -> None:
    metrics(probe(latency_ms=3.0))
    metrics(probe(ok=False, latency_ms=5000.0))
    metrics(probe(skipped=True, latency_ms=0.0))

    assert value(metrics, "mt5guard_probes_total", account="demo", result="ok") == 1
    assert value(metrics, "mt5guard_probes_total", account="demo", result="failed") == 1
    assert value(metrics, "mt5guard_probes_total", account="demo", result="skipped") == 1
    assert value(metrics, "mt5guard_probe_latency_seconds_count", account="demo") == 2
    assert value(metrics, "mt5guard_probe_latency_seconds_sum", account="demo") == \
        pytest.approx(5.003)
    assert value(metrics, "mt5guard_probe_latency_seconds_bucket", account="demo",
                 le="0.005") == 1


def test_supervision_events(metrics: Metrics) -> None:
    metrics(ChildFailed("account:demo", "session", 1, "MT5ConnectionError: lost", AT))
    metrics(RestartScheduled("account:demo", ("session", "health"), "session", 1, 60.0, AT, AT))
    metrics(SupervisorGaveUp("root", 5, 600.0, "too many restarts", AT))

    assert value(metrics, "mt5guard_child_failures_total",
                 supervisor="account:demo", child="session") == 1
    assert value(metrics, "mt5guard_restarts_total", supervisor="account:demo",
                 child="session") == 1
    assert value(metrics, "mt5guard_restarts_total", supervisor="account:demo",
                 child="health") == 1
    assert value(metrics, "mt5guard_supervisor_gave_up_total", supervisor="root") == 1


def test_requests_counted_by_outcome_and_timed(metrics: Metrics) -> None:
    metrics(RequestCompleted("demo", "get_price", "ok", 0.2))
    metrics(RequestCompleted("demo", "get_price", "timeout", 30000.0))

    assert value(metrics, "mt5guard_requests_total", account="demo", operation="get_price",
                 outcome="ok") == 1
    assert value(metrics, "mt5guard_requests_total", account="demo", operation="get_price",
                 outcome="timeout") == 1
    assert value(metrics, "mt5guard_request_latency_seconds_bucket", account="demo",
                 operation="get_price", le="0.00025") == 1
    assert value(metrics, "mt5guard_request_latency_seconds_count", account="demo",
                 operation="get_price") == 2


def test_sessions_and_reconciled_orders(metrics: Metrics) -> None:
    metrics(SessionConnected("demo", 5001, "MetaQuotes-Demo", AT))
    assert value(metrics, "mt5guard_sessions_connected", account="demo") == 1
    metrics(SessionDisconnected("demo", "IPC timeout", AT))
    assert value(metrics, "mt5guard_sessions_connected", account="demo") == 0

    metrics(OrderReconciled("demo", "c-1", "executed", AT))
    assert value(metrics, "mt5guard_orders_reconciled_total", account="demo",
                 outcome="executed") == 1


def test_unknown_events_are_ignored(metrics: Metrics) -> None:
    before = metrics.render()
    metrics.on_event(object())
    metrics.on_event("not an event")
    assert metrics.render() == before


def test_exposition_text_names_every_metric_with_help(metrics: Metrics) -> None:
    bus = EventBus()
    bus.subscribe(metrics)
    bus.publish(breaker(BreakerState.CLOSED, BreakerState.OPEN))
    text = metrics.render().decode()

    for name in ("breaker_state", "breaker_transitions_total", "health_status",
                 "probe_latency_seconds", "probes_total", "restarts_total",
                 "child_failures_total", "supervisor_gave_up_total", "requests_total",
                 "request_latency_seconds", "sessions_connected", "orders_reconciled_total"):
        assert f"# TYPE mt5guard_{name.removesuffix('_total')}" in text
    assert "0 closed, 1 half_open, 2 open, 3 disabled" in text
    assert 'mt5guard_breaker_state{account="demo"} 2.0' in text


def test_instances_have_private_registries_and_leave_the_global_one_alone() -> None:
    global_names = set(REGISTRY._names_to_collectors)
    first, second = Metrics(), Metrics()  # a shared registry would raise "Duplicated timeseries"
    first(SessionConnected("demo", 1, "srv", AT))

    assert first.registry is not second.registry
    assert value(first, "mt5guard_sessions_connected", account="demo") == 1
    assert value(second, "mt5guard_sessions_connected", account="demo") is None
    assert set(REGISTRY._names_to_collectors) == global_names
    assert REGISTRY.get_sample_value("mt5guard_sessions_connected", {"account": "demo"}) is None
