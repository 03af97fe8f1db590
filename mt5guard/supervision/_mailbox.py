"""An actor inbox that tells observers about its traffic and can close.

It holds pykka envelopes and knows only that each has a ``message`` (for
``urgent_types``); the glue in ``_pykka.py`` decides what closing means.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["InboxObserver", "Mailbox"]


class InboxObserver(Protocol):
    """Told about one actor's inbox; called with no lock of ours held."""

    def put(self) -> None:
        """A message was put (on the sender's thread)."""

    def returned(self) -> None:
        """The actor came back to its inbox for its next message (its own thread)."""

    def loop_started(self) -> None:
        """The actor's loop begins, on the thread that will run it, before ``on_start``."""

    def loop_ended(self) -> None:
        """The loop is over and its end has been reported."""


class Mailbox:
    """An actor inbox (pykka's ``ActorInbox`` protocol: put, get, empty) that can close.

    Once :meth:`close` has returned the undelivered envelopes, a later
    :meth:`put` hands its envelope to the closing handler at once. One
    consumer (the actor's loop) takes from it; any number of threads put.
    Every account has four, mostly idle: the urgent queue is made by the
    first urgent envelope, and the consumer waits on a lock of its own
    instead of a ``threading.Condition`` (whose queue of waiters and
    attributes were 1.8 of the 2.8 KiB an inbox took; issue 21).
    """

    def __init__(self) -> None:
        self._items: collections.deque[Any] = collections.deque()
        self._urgent: collections.deque[Any] | None = None
        self.urgent_types: tuple[type, ...] = ()
        """Envelopes whose ``message`` is one of these types are handled before every
        ordinary one (FIFO among themselves): an ``isinstance`` test made in C, no Python
        call a message."""
        self._lock = threading.Lock()
        self._waiter: threading.Lock | None = None  # held by the consumer waiting in get()
        self._closed_handler: Callable[[Any], None] | None = None
        self.observers: tuple[InboxObserver, ...] = ()

    def put(self, envelope: Any, /) -> None:
        for observer in self.observers:
            observer.put()
        lock = self._lock
        lock.acquire()  # not ``with``: its two special-method lookups cost more (every message)
        try:
            handler = self._closed_handler
            if handler is None:
                kinds = self.urgent_types
                if kinds and isinstance(envelope.message, kinds):
                    if self._urgent is None:
                        self._urgent = collections.deque()
                    self._urgent.append(envelope)
                else:
                    self._items.append(envelope)
                waiter = self._waiter
                if waiter is not None:  # only a waiting consumer needs waking
                    self._waiter = None
                    waiter.release()
                return
        finally:
            lock.release()
        handler(envelope)

    def get(self) -> Any:
        """The next envelope, waiting for one if needed."""
        for observer in self.observers:
            observer.returned()
        with self._lock:
            while not (self._urgent or self._items):
                self._wait()
            return self._urgent.popleft() if self._urgent else self._items.popleft()

    def _wait(self) -> None:
        """Until a put: ``self._lock`` is released meanwhile and held again on return.

        Condition.wait's own steps, for its one waiter: a fresh lock, taken
        once here, then again to block until :meth:`put` releases it.
        """
        if self._waiter is not None:
            raise RuntimeError("a Mailbox has one consumer, and another thread waits in get()")
        waiter = self._waiter = threading.Lock()
        waiter.acquire()
        self._lock.release()
        try:
            waiter.acquire()
        finally:
            self._lock.acquire()
            if self._waiter is waiter:  # left without a put (an exception): not waiting now
                self._waiter = None

    def take(self) -> Any | None:
        """The next envelope or ``None``, never waiting (for single-threaded hosts).

        Without the lock: its one consumer is the only one that pops, and a
        deque's append and popleft are atomic, so a put from another thread
        meanwhile lands before or after, whole (``close`` runs on the
        consumer's own thread, at its loop's end).
        """
        urgent = self._urgent
        if urgent:
            return urgent.popleft()
        items = self._items
        return items.popleft() if items else None

    def empty(self) -> bool:
        return not (self._items or self._urgent)

    def close(self, handler: Callable[[Any], None]) -> list[Any]:
        """Refuse new envelopes (``handler`` answers them); return those still queued."""
        with self._lock:
            self._closed_handler = handler
            left = [*(self._urgent or ()), *self._items]
            self._items.clear()
            self._urgent = None
            return left
