"""An actor inbox that tells observers about its traffic and can close.

It holds pykka envelopes but knows nothing of them; the glue in
``_pykka.py`` decides what closing means.
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
    :meth:`put` hands its envelope to the closing handler at once.
    """

    def __init__(self) -> None:
        self._items: collections.deque[Any] = collections.deque()
        self._urgent: collections.deque[Any] = collections.deque()
        self.is_urgent: Callable[[Any], bool] | None = None
        """Envelopes it accepts are handled before every ordinary one (FIFO among themselves)."""
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._waiting = 0  # threads inside get(): only they need a notify
        self._closed_handler: Callable[[Any], None] | None = None
        self.observers: tuple[InboxObserver, ...] = ()

    def put(self, envelope: Any, /) -> None:
        for observer in self.observers:
            observer.put()
        with self._lock:  # the condition's own lock, without Condition's Python-level wrappers
            handler = self._closed_handler
            if handler is None:
                urgent = self.is_urgent
                if urgent is not None and urgent(envelope):
                    self._urgent.append(envelope)
                else:
                    self._items.append(envelope)
                if self._waiting:
                    self._cond.notify()
                return
        handler(envelope)

    def get(self) -> Any:
        """The next envelope, waiting for one if needed."""
        for observer in self.observers:
            observer.returned()
        with self._lock:
            while not (self._urgent or self._items):
                self._waiting += 1
                try:
                    self._cond.wait()
                finally:
                    self._waiting -= 1
            return self._urgent.popleft() if self._urgent else self._items.popleft()

    def take(self) -> Any | None:
        """The next envelope or ``None``, never waiting (for single-threaded hosts)."""
        with self._lock:
            if self._urgent:
                return self._urgent.popleft()
            return self._items.popleft() if self._items else None

    def empty(self) -> bool:
        return not (self._items or self._urgent)

    def close(self, handler: Callable[[Any], None]) -> list[Any]:
        """Refuse new envelopes (``handler`` answers them); return those still queued."""
        with self._lock:
            self._closed_handler = handler
            left = [*self._urgent, *self._items]
            self._items.clear()
            self._urgent.clear()
            return left
