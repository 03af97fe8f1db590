"""Detects two threads inside the MetaTrader 5 API at the same time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["CallGuard", "ConcurrentCallError"]


class ConcurrentCallError(RuntimeError):
    """Two threads called the terminal at once.

    The MetaTrader5 module keeps one global connection and one global
    ``last_error``: overlapping calls corrupt both. Only one owner (the
    SessionActor) may call the terminal. This is a programming error, not
    an MT5 failure, so it is raised rather than reported through last_error.
    """


class CallGuard:
    """A non-blocking lock around each API call; a second caller raises at once.

    A call that hangs (sleeping on the clock) still holds the guard, exactly
    as a blocked IPC call would.
    """

    __slots__ = ("active", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        """Held while a call runs. A hot caller may take it itself (``lock.acquire(False)``,
        then set :attr:`active`; :meth:`acquire` to raise when it is taken) and give it
        back itself (:attr:`active` to None, then ``lock.release()``)."""
        self.active: str | None = None
        """The call holding the guard, named in the error of a second caller."""

    def acquire(self, name: str) -> None:
        """Take the guard for ``name``; raise :class:`ConcurrentCallError` if taken."""
        if not self.lock.acquire(False):  # not blocking (positional: this runs on every call)
            raise ConcurrentCallError(
                f"{name}() called while {self.active or 'another call'}() is in progress on "
                "another thread; the MetaTrader5 API is not thread-safe: serialise all calls "
                "through one owner"
            )
        self.active = name

    def release(self) -> None:
        self.active = None
        self.lock.release()

    @contextmanager
    def call(self, name: str) -> Iterator[None]:
        """Hold the guard while ``name`` runs; raise :class:`ConcurrentCallError` if taken."""
        self.acquire(name)
        try:
            yield
        finally:
            self.release()
