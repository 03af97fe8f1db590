"""Stopping one child within a supervisor's shared shutdown deadline, or abandoning it."""

from __future__ import annotations

import logging
from typing import Any

import pykka

from mt5guard.clock import Clock
from mt5guard.events.bus import EventBus
from mt5guard.supervision._child import _Child
from mt5guard.supervision.events import ChildAbandoned

__all__ = ["abandon", "ask_to_stop", "stop_within"]

_log = logging.getLogger("mt5guard.supervision")

#: Extra seconds a supervisor waits for a nested supervisor past the shared deadline.
_NESTED_GRACE = 0.5
#: Seconds every child gets to stop even once the shared deadline has passed.
_FLOOR = 0.1


def stop_within(
    supervisor: str,
    child: _Child,
    ref: pykka.ActorRef[Any],
    deadline: float,
    *,
    nested: bool,
    clock: Clock,
    bus: EventBus,
    stopping: pykka.Future[Any] | None = None,
) -> None:
    """Stop one child of ``supervisor``, waiting until the shared ``deadline`` at most.

    ``deadline`` is in the clock's monotonic seconds, waited in real time.
    A ``nested`` supervisor gets ``_NESTED_GRACE`` s more, so it can report
    (and clean up) its own stuck child first. One that is still running
    then is abandoned: a ChildAbandoned event, and its spec's ``on_abandon``.
    ``stopping`` is the future of a stop already asked for (see
    :func:`ask_to_stop`); without it the child is asked here.
    """
    grace = _NESTED_GRACE if nested else 0.0
    wait = max(_FLOOR, deadline - clock.monotonic()) + grace
    try:
        (stopping if stopping is not None else ref.stop(block=False)).get(timeout=wait)
    except pykka.ActorDeadError:
        return
    except pykka.Timeout:
        abandon(supervisor, child, child.generation - 1, wait, clock=clock, bus=bus)


def abandon(supervisor: str, child: _Child, generation: int, waited: float, *, clock: Clock,
            bus: EventBus) -> None:
    """Give up waiting for ``child`` to stop: its ``on_abandon``, then a ChildAbandoned event.

    ``waited`` is in seconds.
    """
    released = child.spec.on_abandon is not None
    if child.spec.on_abandon is not None:
        try:
            child.spec.on_abandon()
        except Exception:
            _log.exception("supervisor %s: on_abandon of %s failed", supervisor, child.spec.name)
    bus.publish(ChildAbandoned(supervisor, child.spec.name, generation, waited, released,
                               clock.now()))


def ask_to_stop(ref: pykka.ActorRef[Any]) -> pykka.Future[Any]:
    """Ask a child to stop without waiting; :func:`stop_within` waits for the answer."""
    return ref.stop(block=False)
