"""A tiny publish/subscribe hub for immutable events.

The core publishes supervision, breaker and health events; logging, metrics
and user listeners subscribe. Subscribers are called synchronously on the
publishing actor's thread, so they must be quick and thread-safe (telling an
actor is fine). A subscriber that raises is logged and never breaks the
publisher.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pykka

__all__ = ["EventBus", "Subscriber", "deliver"]

Subscriber = Callable[[Any], None]

_log = logging.getLogger("mt5guard.events.bus")


class EventBus:
    """Fan-out of events to subscribers; safe to share between actors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[Subscriber, ...] = ()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add ``subscriber``; returns a function that removes it again."""
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    def publish(self, event: Any) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                _log.exception("event subscriber %r failed on %s", subscriber, type(event).__name__)


def deliver(subscriber: Any, message: Any) -> bool:
    """Tell an actor-ref subscriber or call a callable one.

    Returns False once an actor subscriber is gone for good, so the caller
    can drop it; a callable that raises is logged and kept.
    """
    if isinstance(subscriber, pykka.ActorRef):
        try:
            subscriber.tell(message)
        except pykka.ActorDeadError:
            return False
        return True
    try:
        subscriber(message)
    except Exception:
        _log.exception("subscriber %r failed on %s", subscriber, type(message).__name__)
    return True
