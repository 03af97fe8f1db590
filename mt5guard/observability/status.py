"""The latest known state of every account, kept from published events.

Readiness checks and the periodic status line read this board instead of
asking actors, so they never wait on a busy or restarting session.
"""

from __future__ import annotations

import threading
from typing import Any

from mt5guard.breaker.messages import BreakerStateChanged
from mt5guard.clock import Clock
from mt5guard.health.messages import HealthChanged, ProbeRecorded
from mt5guard.session.messages import RequestCompleted, SessionConnected, SessionDisconnected
from mt5guard.supervision.events import ChildFailed, RestartScheduled, SupervisorGaveUp

__all__ = ["StatusBoard"]

_ACCOUNT_PREFIX = "account:"
# The events that change a row (ProbeRecorded aside, taken first): any other leaves the
# board as it was, so it is left after one test instead of the lock and the whole chain.
_RECORDED = (HealthChanged, BreakerStateChanged, SessionConnected, SessionDisconnected,
             RestartScheduled, ChildFailed, SupervisorGaveUp)


class StatusBoard:
    """Bus subscriber; :meth:`snapshot` is safe from any thread."""

    skips = frozenset({RequestCompleted})  # the hot path: nothing on the board depends on it

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: dict[str, dict[str, Any]] = {}

    def expect(self, account: str) -> None:
        with self._lock:
            self._accounts.setdefault(account, {
                "status": "UNKNOWN", "breaker": "closed", "connected": False,
                "last_probe_ms": None, "restarts": 0, "last_error": None, "retry_at": None,
            })

    def __call__(self, event: Any) -> None:
        if isinstance(event, ProbeRecorded):  # the most frequent event here (one per probe): first
            result = event.result
            if result.skipped:
                return
            row = self._accounts.get(event.account)
            if row is None:
                return
            if result.error:
                with self._lock:
                    row["last_probe_ms"] = result.latency_ms
                    row["last_error"] = result.error
            else:  # one probe every interval: a single store, whole to a reader (GIL or dict lock)
                row["last_probe_ms"] = result.latency_ms  # rounded when read (snapshot)
            return
        if not isinstance(event, _RECORDED):
            return  # RequestCompleted (the hot path), ChildStarted...: nothing on the board
        if isinstance(event, HealthChanged) and event.component != "overall":
            return  # one per component at each (re)start: only the overall status is shown
        account = getattr(event, "account", None)
        if account is None:
            account = _account_of(event)
            if account is None:
                return
        with self._lock:
            row = self._accounts.get(account)
            if row is None:
                return
            if isinstance(event, HealthChanged):  # the overall status (the others left above)
                row["status"] = event.new.value
            elif isinstance(event, BreakerStateChanged):
                row["breaker"] = event.new.value
                row["retry_at"] = event.retry_at  # a datetime or None: formatted when read
            elif isinstance(event, SessionConnected):
                row["connected"] = True
            elif isinstance(event, SessionDisconnected):
                row["connected"] = False
            elif isinstance(event, RestartScheduled):
                row["restarts"] += 1
                row["retry_at"] = event.restart_at
            elif isinstance(event, ChildFailed):
                if event.child in ("session", f"{_ACCOUNT_PREFIX}{account}"):
                    row["connected"] = False
                if not str(row["last_error"]).startswith("gave up"):  # the root's notice of it
                    row["last_error"] = event.error
            elif isinstance(event, SupervisorGaveUp):
                row["status"] = "NOT_SERVING"
                row["last_error"] = f"gave up: {event.reason}"

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per account: status, breaker, connected, last_probe_ms, restarts, last_error, retry_at."""
        with self._lock:
            rows = {name: dict(row) for name, row in self._accounts.items()}
        for row in rows.values():
            latency = row["last_probe_ms"]
            if latency is not None:
                row["last_probe_ms"] = round(latency, 3)
            retry_at = row["retry_at"]
            if retry_at is not None:
                row["retry_at"] = retry_at.isoformat()
        return rows

    def ready(self) -> bool:
        """True when every account's overall health is SERVING."""
        rows = self.snapshot()
        return bool(rows) and all(r["status"] == "SERVING" for r in rows.values())


def _account_of(event: Any) -> str | None:
    """The account a supervision event is about: from ``account:<name>``
    as the supervisor, or as the child of the root."""
    supervisor = getattr(event, "supervisor", "")
    if supervisor.startswith(_ACCOUNT_PREFIX):  # the account's own supervisor: every restart
        return str(supervisor[len(_ACCOUNT_PREFIX):])
    for name in (*getattr(event, "children", ()), getattr(event, "child", "")):
        if name.startswith(_ACCOUNT_PREFIX):
            return str(name[len(_ACCOUNT_PREFIX):])
    return None
