"""Where actor loops run, and how a thread that waits for actors lets them run.

Nothing here touches pykka: it is the contract between the pykka glue
(``_pykka.py``) and a loop host such as the deterministic test runtime
(``mt5guard.testing``), which runs every actor on one thread:

* a :class:`LoopHost` runs actor loops instead of a thread per actor, and
  throws :class:`LoopAbandoned` into a loop to end it at once;
* a thread whose waits a host serves has a driver (:func:`set_thread_driver`);
  code that would block on actors calls :func:`drive_until` first;
* :func:`on_actor_thread` tells code whether it runs inside an actor's loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

__all__ = [
    "LoopAbandoned",
    "LoopHost",
    "drive_until",
    "driver_of_current_thread",
    "mark_actor_thread",
    "on_actor_thread",
    "runs_own_loop",
    "set_thread_driver",
]


class LoopHost(Protocol):
    """Runs actor loops somewhere other than one thread per actor."""

    def start_loop(self, actor: Any) -> None:
        """Begin running the loop of ``actor`` (a ``GuardedActor``: typed loosely so the
        contract does not import the glue that uses it) (see :func:`begin`, :func:`handle`, :func:`end`)."""


class LoopAbandoned(BaseException):
    """Thrown into a loop by its host to end it at once, with no hook and no report."""


class _Driver(Protocol):
    def wait_until(self, ready: Callable[[], bool], timeout: float | None) -> bool: ...


class _Drivers(threading.local):
    driver: _Driver | None = None  # a class default: a thread without one reads it without an AttributeError


_drivers = _Drivers()


def driver_of_current_thread() -> _Driver | None:
    """The driver serving blocking waits on this thread, if a loop host set one."""
    return _drivers.driver


def drive_until(ready: Callable[[], bool], timeout: float | None) -> bool | None:
    """Let the loop host driving this thread run until ``ready()``; ``None`` if none drives it.

    ``timeout`` is in the host's (simulated) seconds. Code that would block the
    thread waiting for actors (the facade, ``ChildHandle.wait_started``) calls
    this first, so it also works when all actors share this one thread.
    """
    driver = driver_of_current_thread()
    return None if driver is None else driver.wait_until(ready, timeout)


def set_thread_driver(driver: _Driver | None) -> None:
    """Let ``driver`` serve blocking future waits on this thread (``None``: stop)."""
    _drivers.driver = driver


#: The attribute of a ``threading.Thread`` that names the actor whose whole loop it runs.
#: On the Thread object, not a ``threading.local``: that gives each thread that touches it
#: a dictionary of its own (~350 bytes each, 4,000 threads at 1,000 accounts; issue 21).
_ACTOR = "_mt5guard_actor"


def on_actor_thread() -> bool:
    """True on a thread that runs one actor's whole loop.

    Code there that waits for actors to stop (``Guard.stop`` from a bus
    subscriber or ``on_give_up``) would wait for its own thread.
    """
    return getattr(threading.current_thread(), _ACTOR, None) is not None


def runs_own_loop(actor: Any) -> bool:
    """True on the thread that runs ``actor``'s whole loop, and only ``actor``'s.

    False on a loop host that runs many actors on one thread (the deterministic
    runtime), where nothing may block the thread waiting for another actor.
    """
    return getattr(threading.current_thread(), _ACTOR, None) is actor


def mark_actor_thread(actor: Any) -> None:
    """Record that this thread runs ``actor``'s whole loop (see :func:`on_actor_thread`)."""
    setattr(threading.current_thread(), _ACTOR, actor)
