"""Prometheus metrics fed by bus events.

:class:`Metrics` is a bus subscriber: it only turns immutable events into
samples and never calls back into the core. It registers its collectors in
its own :class:`~prometheus_client.CollectorRegistry`, so embedding mt5guard
never touches prometheus_client's process-wide default registry and two
instances never clash. Subscribers run on the publishing actor's thread;
prometheus_client's collectors are thread-safe, so no extra locking is needed.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.clock import Clock
from mt5guard.health.messages import HealthChanged, HealthStatus, ProbeRecorded
from mt5guard.observability.messages import WebhookDelivered, WebhookDropped, WebhookFailed
from mt5guard.observability.sync import SyncGauges
from mt5guard.orders.messages import OrderReconciled
from mt5guard.session.messages import RequestCompleted, SessionConnected, SessionDisconnected
from mt5guard.supervision.events import ChildFailed, RestartScheduled, SupervisorGaveUp

__all__ = ["Metrics"]

_BREAKER_VALUES: dict[BreakerState, float] = {
    BreakerState.CLOSED: 0,
    BreakerState.HALF_OPEN: 1,
    BreakerState.OPEN: 2,
    BreakerState.DISABLED: 3,
}

_HEALTH_VALUES: dict[HealthStatus, float] = {
    HealthStatus.SERVING: 1,
    HealthStatus.NOT_SERVING: 0,
    HealthStatus.UNKNOWN: -1,
    HealthStatus.OUT_OF_SERVICE: -2,
}

# The breaker's transitions (breaker/policy.py), created at zero per account.
_TRANSITIONS = (
    (BreakerState.CLOSED, BreakerState.OPEN), (BreakerState.OPEN, BreakerState.HALF_OPEN),
    (BreakerState.HALF_OPEN, BreakerState.CLOSED), (BreakerState.HALF_OPEN, BreakerState.OPEN),
)
# OrderReconciled outcomes (orders/messages.py).
_RECONCILED = ("executed", "pending", "not_executed", "mismatch", "unknown")

# Seconds. A probe is three terminal calls: ~1 ms locally, up to the 30 s
# IPC timeout when a terminal hangs.
_PROBE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                  10.0, 30.0)
# Seconds. A guarded request rejected by an OPEN breaker costs ~0.1 ms; a
# blocking initialize() can take its whole 60 s timeout.
_REQUEST_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The ``mt5guard_*`` metrics, updated from bus events.

    Subscribe an instance to the event bus (``bus.subscribe(metrics)``) and
    serve :meth:`render` (or :attr:`registry`) over HTTP. Event types it does
    not know are ignored. :meth:`expect` (or :meth:`track`) puts an account's
    labelled series at zero before its first event, so ``increase()`` sees
    the first breaker trip, restart or reconciled order.
    """

    def __init__(self, registry: CollectorRegistry | None = None, *,
                 clock: Clock | None = None) -> None:
        """Register the collectors in ``registry``, or in a new private one when None.

        ``clock`` feeds ``mt5guard_uptime_seconds`` (0 without one)."""
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self._sync = SyncGauges(r, clock)
        self._expected: set[str] = set()
        self._breaker_state = Gauge(
            "mt5guard_breaker_state",
            "Circuit breaker state: 0 closed, 1 half_open, 2 open, 3 disabled.",
            ["account"], registry=r,
        )
        self._breaker_transitions = Counter(
            "mt5guard_breaker_transitions",
            "Circuit breaker transitions (initial snapshots not counted).",
            ["account", "from_state", "to_state"], registry=r,
        )
        self._health_status = Gauge(
            "mt5guard_health_status",
            "Health status: 1 SERVING, 0 NOT_SERVING, -1 UNKNOWN, -2 OUT_OF_SERVICE.",
            ["account", "component"], registry=r,
        )
        self._probe_latency = Histogram(
            "mt5guard_probe_latency_seconds",
            "Duration of a health probe that ran (skipped ones excluded), in seconds.",
            ["account"], buckets=_PROBE_BUCKETS, registry=r,
        )
        self._probes = Counter(
            "mt5guard_probes",
            "Health probes by result: ok (all checks passed), failed or skipped.",
            ["account", "result"], registry=r,
        )
        self._restarts = Counter(
            "mt5guard_restarts",
            "Child restarts scheduled by a supervisor (one per restarted child).",
            ["supervisor", "child"], registry=r,
        )
        self._child_failures = Counter(
            "mt5guard_child_failures",
            "Children that crashed (on_start or a message handler raised).",
            ["supervisor", "child"], registry=r,
        )
        self._supervisor_gave_up = Counter(
            "mt5guard_supervisor_gave_up",
            "Times a supervisor exceeded its restart intensity and escalated.",
            ["supervisor"], registry=r,
        )
        self._requests = Counter(
            "mt5guard_requests",
            "Facade requests by outcome: ok or the error kind.",
            ["account", "operation", "outcome"], registry=r,
        )
        self._request_latency = Histogram(
            "mt5guard_request_latency_seconds",
            "Duration of a facade request, in seconds.",
            ["account", "operation"], buckets=_REQUEST_BUCKETS, registry=r,
        )
        self._sessions_connected = Gauge(
            "mt5guard_sessions_connected",
            "1 while the account's session is connected to its terminal, else 0.",
            ["account"], registry=r,
        )
        self._orders_reconciled = Counter(
            "mt5guard_orders_reconciled",
            "Orders whose reply was lost, read back: executed, pending or unknown.",
            ["account", "outcome"], registry=r,
        )
        self._webhook_dropped = Counter(
            "mt5guard_webhook_dropped",
            "Events dropped because a webhook URL's queue was full.",
            ["url"], registry=r,
        )
        self._webhook_deliveries = Counter(
            "mt5guard_webhook_deliveries",
            "Webhook events by outcome: delivered or failed (given up after retries).",
            ["url", "outcome"], registry=r,
        )
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            WebhookDropped: lambda e: self._webhook_dropped.labels(_url_label(e.url)).inc(),
            WebhookDelivered: lambda e: self._webhook_deliveries.labels(
                _url_label(e.url), "delivered").inc(),
            WebhookFailed: lambda e: self._webhook_deliveries.labels(
                _url_label(e.url), "failed").inc(),
            BreakerStateChanged: self._breaker,
            HealthChanged: self._health,
            ProbeRecorded: self._probe,
            RestartScheduled: self._restart,
            ChildFailed: self._child_failed,
            SupervisorGaveUp: self._gave_up,
            RequestCompleted: self._request,
            SessionConnected: self._connected,
            SessionDisconnected: self._disconnected,
            OrderReconciled: self._reconciled,
        }

    def __call__(self, event: object) -> None:
        """Bus subscriber entry point; same as :meth:`on_event`."""
        self.on_event(event)

    def on_event(self, event: object) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)
        if not isinstance(event, RequestCompleted):  # the hot path has nothing for them
            self._sync.on_event(event)

    def expect(self, account: str, pending: Callable[[], int] | None = None) -> None:
        """Create every per-account series of ``account`` at zero; again, only ``pending`` changes.

        ``pending`` returns how many of its orders have no known outcome yet
        (read at each scrape). Request counters, keyed by operation and
        outcome, still appear on the first request of each kind.
        """
        self._sync.expect(account, pending)
        if account in self._expected:
            return
        self._expected.add(account)
        sup = f"account:{account}"
        self._breaker_state.labels(account).set(0)
        for old, new in _TRANSITIONS:
            self._breaker_transitions.labels(account, old.value, new.value)
        self._health_status.labels(account, "overall").set(_HEALTH_VALUES[HealthStatus.UNKNOWN])
        for result in ("ok", "failed", "skipped"):
            self._probes.labels(account, result)
        self._probe_latency.labels(account)
        for child in ("breaker", "session", "health"):
            self._restarts.labels(sup, child)
            self._child_failures.labels(sup, child)
        self._restarts.labels("root", sup)
        self._child_failures.labels("root", sup)
        self._supervisor_gave_up.labels(sup)
        self._supervisor_gave_up.labels("root")
        self._sessions_connected.labels(account).set(0)
        for outcome in _RECONCILED:
            self._orders_reconciled.labels(account, outcome)

    def track(self, guard: Any) -> None:
        """:meth:`expect` every account of a running :class:`~mt5guard.Guard`, with the
        unknown outcomes pending read from its order journals."""
        for name in guard.sessions:
            journal = guard.journals.get(name)
            self.expect(name, None if journal is None else _pending_of(journal))

    def render(self) -> bytes:
        """The registry in Prometheus text exposition format."""
        return bytes(generate_latest(self.registry))

    def _breaker(self, e: BreakerStateChanged) -> None:
        self._breaker_state.labels(e.account).set(_BREAKER_VALUES[e.new])
        if e.old is not None:
            self._breaker_transitions.labels(e.account, e.old.value, e.new.value).inc()

    def _health(self, e: HealthChanged) -> None:
        self._health_status.labels(e.account, e.component).set(_HEALTH_VALUES[e.new])

    def _probe(self, e: ProbeRecorded) -> None:
        r = e.result
        if r.skipped:
            result = "skipped"
        else:
            ok = r.connection_ok and r.auth_ok and r.data_feed_ok
            result = "ok" if ok else "failed"
            self._probe_latency.labels(e.account).observe(r.latency_ms / 1000.0)
        self._probes.labels(e.account, result).inc()

    def _restart(self, e: RestartScheduled) -> None:
        for child in e.children:
            self._restarts.labels(e.supervisor, child).inc()

    def _child_failed(self, e: ChildFailed) -> None:
        self._child_failures.labels(e.supervisor, e.child).inc()

    def _gave_up(self, e: SupervisorGaveUp) -> None:
        self._supervisor_gave_up.labels(e.supervisor).inc()

    def _request(self, e: RequestCompleted) -> None:
        self._requests.labels(e.account, e.operation, e.outcome).inc()
        self._request_latency.labels(e.account, e.operation).observe(e.latency_ms / 1000.0)

    def _connected(self, e: SessionConnected) -> None:
        self._sessions_connected.labels(e.account).set(1)

    def _disconnected(self, e: SessionDisconnected) -> None:
        self._sessions_connected.labels(e.account).set(0)

    def _reconciled(self, e: OrderReconciled) -> None:
        self._orders_reconciled.labels(e.account, e.outcome).inc()


def _pending_of(journal: Any) -> Callable[[], int]:
    return lambda: len(journal.unresolved())


def _url_label(url: str) -> str:
    """scheme://host[:port]/path: user info and query strings may hold tokens."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
