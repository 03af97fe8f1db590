"""The breaker's latest state, readable from any thread without a message.

A session or probe actor that (re)starts reads it in ``on_start``, so it
knows whether the breaker is OPEN before its first request or probe; the
``BreakerStateChanged`` messages it subscribes to keep it current after
that. The BreakerActor writes it before telling anyone of a transition.
"""

from __future__ import annotations

import threading

from mt5guard.messages import BreakerStateChanged

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
