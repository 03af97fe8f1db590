"""The breaker's latest state, readable from any thread without a message.

A session or probe actor that (re)starts reads it in ``on_start``, so it
knows whether the breaker is OPEN before its first request or probe; the
``BreakerStateChanged`` messages it subscribes to keep it current after
that. The BreakerActor writes it before telling anyone of a transition.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from mt5guard.breaker.messages import (
    BreakerState,
    BreakerStateChanged,
    CallFailed,
    SubscribeBreaker,
)
from mt5guard.supervision import ChildUnavailable

__all__ = ["BreakerView"]


class BreakerView:
    """One account's breaker state, shared by its breaker, session and probe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: BreakerStateChanged | None = None

    def set(self, event: BreakerStateChanged) -> None:
        with self._lock:
            self._latest = event

    def get(self) -> BreakerStateChanged | None:
        """The latest state, or None before any breaker was built."""
        with self._lock:
            return self._latest

    def peek(self) -> BreakerStateChanged | None:
        """As :meth:`get`, without the lock: one reference read (atomic), for hot paths."""
        return self._latest

    def follow(self, breaker: Any, subscriber: Any) -> BreakerStateChanged | None:
        """At a (re)start: subscribe ``subscriber`` (an actor ref) to ``breaker`` (a
        ChildHandle) and return the state known now, to act on before the first message.

        A breaker that is restarting takes no subscription: it restarts first
        (rest_for_one), and so does the subscriber.
        """
        try:  # not contextlib.suppress: one object less at every (re)start of two actors
            breaker.tell(SubscribeBreaker(subscriber))
        except ChildUnavailable:
            pass
        return self.get()

    def count_timeout(self, breaker: Any, operation: str, latency_ms: float) -> None:
        """Tell ``breaker`` (a ChildHandle) that ``operation`` got no answer in time.

        A caller that gave up waiting saw a failed terminal call, even if the
        session is too stuck to report it; counted in the current epoch.
        """
        latest = self.get()
        if latest is None or latest.new in (BreakerState.OPEN, BreakerState.DISABLED):
            return
        with contextlib.suppress(ChildUnavailable):
            breaker.tell(CallFailed(latest.epoch, operation, "timeout", None, latency_ms))
