"""Per-account sync state as Prometheus gauges: connected since, uptime, last deal
seen, unknown order outcomes pending.

A bus subscriber like :class:`~mt5guard.observability.metrics.Metrics`, in
the same registry. Uptime and pending outcomes are read when scraped (the
clock handed in, the account's order journal), so they are true at the
scrape, not at the last event.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Gauge

from mt5guard.clock import Clock
from mt5guard.events.messages import OrderFilled, PositionClosed
from mt5guard.session.messages import SessionConnected, SessionDisconnected

__all__ = ["SyncGauges"]


class SyncGauges:
    """``mt5guard_connected_since_timestamp_seconds``, ``mt5guard_uptime_seconds``,
    ``mt5guard_last_deal_timestamp_seconds`` and ``mt5guard_unknown_outcomes_pending``."""

    def __init__(self, registry: CollectorRegistry, clock: Clock | None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._since: dict[str, float] = {}  # account -> unix seconds it connected; absent: down
        self._known: set[str] = set()

        def per_account(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, ["account"], registry=registry)

        self._connected_since = per_account(
            "mt5guard_connected_since_timestamp_seconds",
            "Unix time the account's session last connected; 0 while it is not connected.")
        self._uptime = per_account(
            "mt5guard_uptime_seconds",
            "Seconds the account's session has been connected without a break; 0 while down.")
        self._last_deal = per_account(
            "mt5guard_last_deal_timestamp_seconds",
            "Unix time of the newest deal seen in the account's trade events; 0 before one.")
        self._pending = per_account(
            "mt5guard_unknown_outcomes_pending",
            "Orders sent whose outcome is not known yet (sent or unknown in the journal).")

    def expect(self, account: str, pending: Callable[[], int] | None = None) -> None:
        """Every series of ``account`` at zero (once); ``pending`` counts its unresolved orders."""
        with self._lock:
            first = account not in self._known
            self._known.add(account)
        if first:
            self._connected_since.labels(account).set(0)
            self._last_deal.labels(account).set(0)
            self._uptime.labels(account).set_function(lambda: self._uptime_of(account))
        gauge = self._pending.labels(account)
        if pending is None:
            gauge.set(0)
        else:
            gauge.set_function(lambda: float(pending()))

    def on_event(self, event: object) -> bool:
        """Handle ``event`` if it is one of ours; True when it was."""
        if isinstance(event, SessionConnected):
            at = event.at.timestamp()
            with self._lock:
                self._since[event.account] = at
            self._connected_since.labels(event.account).set(at)
        elif isinstance(event, SessionDisconnected):
            with self._lock:
                self._since.pop(event.account, None)
            self._connected_since.labels(event.account).set(0)
        elif isinstance(event, OrderFilled | PositionClosed):
            self._last_deal.labels(event.account).set(event.at.timestamp())
        else:
            return False
        return True

    def _uptime_of(self, account: str) -> float:
        with self._lock:
            since = self._since.get(account)
        if since is None or self._clock is None:
            return 0.0
        return max(0.0, self._clock.now().timestamp() - since)
