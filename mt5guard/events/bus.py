"""A tiny publish/subscribe hub for immutable events.

The core publishes supervision, breaker and health events; logging, metrics
and user listeners subscribe. Subscribers are called synchronously on the
publishing actor's thread, so they must be quick and thread-safe (telling an
actor is fine). A subscriber that raises is logged and never breaks the
publisher.

A subscriber that never acts on some event types may say so in a ``skips``
attribute (a collection of types); a publisher asks :meth:`EventBus.heard`
before building an event of a hot path (``RequestCompleted``, one per
request) and skips it when no subscriber takes it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pykka
from pykka._envelope import Envelope

__all__ = ["EventBus", "Subscriber", "deliver", "tell"]

Subscriber = Callable[[Any], None]


class _Everything:
    """The types no subscriber takes while there is none: all of them."""

    def __contains__(self, kind: object) -> bool:
        return True


_NONE_SUBSCRIBED: Any = _Everything()

_log = logging.getLogger("mt5guard.events.bus")
_ActorRef = pykka.ActorRef  # tested on every message: one global, not a module's attribute


class EventBus:
    """Fan-out of events to subscribers; safe to share between actors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[Subscriber, ...] = ()
        self._unheard: Any = _NONE_SUBSCRIBED  # the types every subscriber skips

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add ``subscriber``; returns a function that removes it again."""
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)
            self._unheard = _skipped_by_all(self._subscribers)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)
                self._unheard = _skipped_by_all(self._subscribers)

        return unsubscribe

    def heard(self, kind: type) -> bool:
        """Whether some subscriber takes events of type ``kind`` (none says it ``skips`` it)."""
        return kind not in self._unheard

    def publish(self, event: Any) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                _log.exception("event subscriber %r failed on %s", subscriber, type(event).__name__)


def _skipped_by_all(subscribers: tuple[Subscriber, ...]) -> Any:
    if not subscribers:
        return _NONE_SUBSCRIBED
    skipped = frozenset(getattr(subscribers[0], "skips", ()))
    for subscriber in subscribers[1:]:
        skipped &= frozenset(getattr(subscriber, "skips", ()))
    return skipped


def tell(ref: pykka.ActorRef[Any], message: Any) -> None:
    """``ref.tell(message)``, pykka's own steps inline (two tells a health probe).

    The same ``ActorDeadError`` once the actor stopped, the same envelope in
    its inbox; a subclass of ``ActorRef`` is told through its own ``tell``.
    (pykka internals, pinned by ``tests/unit/supervision/test_pykka_glue.py``:
    ``Envelope(message)``, ``ActorRef.actor_stopped`` and ``actor_inbox``.)
    """
    if type(ref) is not _ActorRef:
        ref.tell(message)
    elif ref.actor_stopped.is_set():
        raise pykka.ActorDeadError(f"{ref} not found")
    else:
        ref.actor_inbox.put(Envelope(message))


def deliver(subscriber: Any, message: Any) -> bool:
    """Tell an actor-ref subscriber (:func:`tell`) or call a callable one.

    Returns False once an actor subscriber is gone for good, so the caller
    can drop it; a callable that raises is logged and kept.
    """
    if isinstance(subscriber, _ActorRef):
        try:
            tell(subscriber, message)
        except pykka.ActorDeadError:
            return False
        return True
    try:
        subscriber(message)
    except Exception:
        _log.exception("subscriber %r failed on %s", subscriber, type(message).__name__)
    return True
