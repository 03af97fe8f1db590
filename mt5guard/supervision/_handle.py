"""Stable handles that always reach a child's current incarnation."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pykka

from mt5guard.supervision._hosting import drive_until
from mt5guard.supervision._pykka import tell

__all__ = ["ChildHandle", "ChildUnavailable"]


class ChildUnavailable(Exception):
    """The child is not running right now; raised at once, never after a wait.

    ``retry_at`` is the wall time (UTC) of the next start attempt, or ``None``
    when none is scheduled (stopped for good, or an ancestor gave up).
    """

    def __init__(self, child: str, reason: str, retry_at: datetime | None) -> None:
        self.child = child
        self.reason = reason
        self.retry_at = retry_at
        when = f"; next attempt at {retry_at.isoformat()}" if retry_at else ""
        super().__init__(f"{child} is unavailable: {reason}{when}")


_STARTED = threading.Event()
_STARTED.set()  # what every handle's first-start event becomes once it fired


class ChildHandle:
    """Thread-safe pointer to whatever incarnation of a child is running.

    Callers keep one handle for the life of the tree. While the child is
    down, :meth:`ref` raises :class:`ChildUnavailable` carrying the time of
    the next attempt. ``parent`` links a grandchild's handle to the handle of
    the supervisor above it, so a child whose whole subtree is down reports
    the subtree's next attempt.
    """

    def __init__(self, name: str, parent: ChildHandle | None = None) -> None:
        self.name = name
        self.parent = parent
        self._lock = threading.Lock()
        self._ref: pykka.ActorRef[Any] | None = None
        self._reason = "not started yet"
        self._retry_at: datetime | None = None
        self._first_start = threading.Event()

    def __repr__(self) -> str:
        state = "running" if self._ref is not None else f"down ({self._reason})"
        return f"<ChildHandle {self.name} {state}>"

    @property
    def running(self) -> bool:
        return self._ref is not None and self._ref.is_alive()

    def ref(self) -> pykka.ActorRef[Any]:
        """The current incarnation, or :class:`ChildUnavailable` at once."""
        ref = self._ref
        if ref is not None and ref.is_alive():
            return ref
        raise self.unavailable()

    def unavailable(self) -> ChildUnavailable:
        """The error describing why the child cannot be reached now."""
        with self._lock:
            reason, retry_at = self._reason, self._retry_at
            if self._ref is not None:
                reason, retry_at = "restarting", None
        parent = self.parent
        if retry_at is None and parent is not None and not parent.running:
            outer = parent.unavailable()
            if outer.retry_at is not None or reason == "restarting":
                return ChildUnavailable(self.name, outer.reason, outer.retry_at)
        return ChildUnavailable(self.name, reason, retry_at)

    def wait_started(self, timeout: float | None = None) -> bool:
        """Block until the supervisor has tried to start the child once.

        ``timeout`` is in real seconds. True once an incarnation was started
        (its ``on_start`` may still be running) or the first start failed.
        """
        if drive_until(self._first_start.is_set, timeout) is not None:
            return self._first_start.is_set()  # a deterministic runtime drove the actors
        return self._first_start.wait(timeout)

    def tell(self, message: Any) -> None:
        """Send ``message`` to the current incarnation."""
        ref = self._ref  # ref() without its liveness check: tell makes the same one
        if ref is None:
            raise self.unavailable()
        try:
            tell(ref, message)
        except pykka.ActorDeadError:
            raise self.unavailable() from None

    def ask(self, message: Any, *, timeout: float | None = None) -> Any:
        """Ask the current incarnation and wait for the reply.

        ``timeout`` is in real seconds (pykka's own wait); prefer replies
        carried in the message when simulated time is in use.
        """
        try:
            return self.ref().ask(message, timeout=timeout)
        except pykka.ActorDeadError:
            raise self.unavailable() from None

    # Called by the owning supervisor only.
    def _set_running(self, ref: pykka.ActorRef[Any]) -> None:
        with self._lock:
            self._ref = ref
            self._reason = "running"
            self._retry_at = None
        self._started()

    def _set_down(self, reason: str, retry_at: datetime | None) -> None:
        with self._lock:
            self._ref = None
            self._reason = reason
            self._retry_at = retry_at
        self._started()

    def _started(self) -> None:
        """Wake the waiters, then drop the event for the shared, set one: a tree of
        1,000 accounts kept 4,000 spent events (~1 KiB each) for its whole life."""
        first, self._first_start = self._first_start, _STARTED
        if first is not _STARTED:  # every later start and stop: set already, no one to wake
            first.set()
