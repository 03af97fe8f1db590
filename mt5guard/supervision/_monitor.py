"""Starting an actor so that its end is always noticed.

pykka has no supervision: an actor that fails in ``on_start`` gets neither
``on_failure`` nor ``on_stop``, and a failing ``tell`` handler stops the actor
and calls its ``on_failure`` without telling anyone else. The
one place every ending passes through is the actor loop, so we wrap it (and
``_handle_failure`` to learn the error) on the *instance*, before its thread
starts. This touches pykka internals that are stable across 4.x; the tests in
``tests/unit/test_monitor.py`` pin the behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

import pykka

from mt5guard.clock import Clock

__all__ = ["start_actor"]

ExitCallback = Callable[[BaseException | None], None]


def start_actor(actor: Any, clock: Clock | None, on_exit: ExitCallback | None) -> pykka.ActorRef[Any]:
    """Start an unstarted pykka ``ThreadingActor`` instance.

    ``on_exit`` runs on the actor's own thread once its loop has ended, with
    the exception that ended it (from ``on_start``, a ``tell`` handler or
    ``on_stop``) or ``None`` for a normal stop.
    """
    if not isinstance(actor, pykka.ThreadingActor):
        raise TypeError(f"a child factory must return an unstarted pykka.ThreadingActor, got {actor!r}")
    if actor.actor_stopped.is_set():  # pykka would run its loop again, ending at once
        raise ValueError(f"{actor} has already run and stopped; a factory must build a new actor")
    if actor.actor_ref.is_alive() and pykka.ActorRegistry.get_by_urn(actor.actor_urn):
        raise ValueError(f"{actor} is already started; a factory must build a new actor")
    failure: list[BaseException] = []

    if on_exit is not None:
        original_failure = actor._handle_failure
        original_loop = actor._actor_loop

        def handle_failure(
            exc_type: type[BaseException] | None,
            exc_value: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            if exc_value is not None and not failure:
                failure.append(exc_value)
            original_failure(exc_type, exc_value, tb)

        def actor_loop() -> None:
            try:
                original_loop()
            finally:
                on_exit(failure[0] if failure else None)

        actor._handle_failure = handle_failure  # type: ignore[method-assign,assignment]
        actor._actor_loop = actor_loop  # type: ignore[method-assign]
    if clock is not None:
        clock.attach_actor(actor)
    pykka.ActorRegistry.register(actor.actor_ref)
    actor._start_actor_loop()
    ref: pykka.ActorRef[Any] = actor.actor_ref
    return ref
