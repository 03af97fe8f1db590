"""The supervisor actor: starts children, notices their end, restarts them."""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable, Collection, Sequence
from datetime import timedelta
from typing import Any

import pykka

from mt5guard.clock import Clock, Timer
from mt5guard.events.bus import EventBus, deliver
from mt5guard.supervision._backoff import Backoff
from mt5guard.supervision._child import (
    ChildState,
    _Child,
    _ChildEnded,
    _RestartDue,
    _StopOverdue,
    restart_group,
)
from mt5guard.supervision._history import RestartHistory
from mt5guard.supervision._pykka import start_actor, stop_unread
from mt5guard.supervision._shutdown import abandon, ask_to_stop, stop_within
from mt5guard.supervision._spec import ChildSpec, Restart, Strategy
from mt5guard.supervision.events import (
    ChildExited,
    ChildFailed,
    ChildStarted,
    RestartScheduled,
    SupervisorGaveUp,
    SupervisorStopped,
)

__all__ = ["ChildState", "Supervisor", "SupervisorGaveUpError"]

_log = logging.getLogger("mt5guard.supervision")


class SupervisorGaveUpError(Exception):
    """Raised by a supervisor that exceeded its restart intensity.

    Its parent sees it as that child's crash; the root reports it through
    ``on_give_up`` instead.
    """


class Supervisor(pykka.ThreadingActor):
    """Supervises an ordered list of children.

    Children are started in order and stopped in reverse order. When a child
    ends unexpectedly the ``strategy`` decides which children restart, the
    child's :class:`Backoff` decides when, and more than ``max_restarts``
    restarts within ``period`` seconds make the supervisor stop its children
    and give up: a nested supervisor then crashes into its parent, the root
    calls ``on_give_up`` (the program decides; nothing global is touched).
    With ``escalate=True`` a child supervisor's give-up makes this one give
    up too instead of rebuilding it, except for the children named in
    ``independent``: one of those gives up alone (it stays down; its
    siblings run on), and this supervisor gives up once every independent
    child has given up, or at once when the one that gave up is also named
    in ``vital``. ``history`` keeps the restart window and
    backoff attempts across rebuilds of this supervisor by its parent.

    Stopping waits at most ``shutdown_timeout`` seconds (measured on the
    clock, waited in real time) for all children together; a child still
    running then is abandoned: a :class:`ChildAbandoned` event, and its spec's
    ``on_abandon`` runs (the session's terminal worker is killed by PID).
    Children stop one at a time, in reverse order; with ``stop_together=True``
    (for independent children, such as the root's accounts) all are asked at
    once and then awaited in reverse order, so several hung children cost one
    ``shutdown_timeout``, not one each.

    All timing goes through ``clock``; restart timers only tell this actor a
    message carrying child generations, so a stale timer never revives a child
    that was stopped or replaced meanwhile.
    """

    def __init__(
        self,
        name: str,
        children: Sequence[ChildSpec],
        *,
        clock: Clock,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        backoff: Backoff | None = None,
        max_restarts: int = 20,
        period: float = 10_800.0,
        bus: EventBus | None = None,
        on_give_up: Callable[[SupervisorGaveUp], None] | None = None,
        seed: int | None = None,
        history: RestartHistory | None = None,
        escalate: bool = False,
        independent: Collection[str] = (),
        vital: Collection[str] = (),
        shutdown_timeout: float = 5.0,
        stop_together: bool = False,
    ) -> None:
        super().__init__()
        names = [spec.name for spec in children]
        if len(set(names)) != len(names):
            raise ValueError(f"supervisor {name!r}: child names must be unique, got {names}")
        if max_restarts < 0 or period <= 0 or shutdown_timeout <= 0:
            raise ValueError("max_restarts must be >= 0, period and shutdown_timeout > 0 seconds")
        self._shutdown_timeout = shutdown_timeout
        self._stop_together = stop_together
        self.name = name
        self._clock = clock
        self._strategy = strategy
        self._backoff = backoff or Backoff()
        self._max_restarts = max_restarts
        self._period = period
        self._bus = bus or EventBus()
        self._on_give_up = on_give_up
        if seed is None:  # a deterministic test runtime hands out reproducible seeds
            derive = getattr(clock, "derive_seed", None)
            seed = derive(name) if derive is not None else None
        self._seed = seed
        self._random: random.Random | None = None  # made at the first restart: most never need it
        self._history = history or RestartHistory()
        self._escalate = escalate
        self._independent, self._vital = frozenset(independent), frozenset(vital)
        self._alone: set[str] = set()  # independent children that gave up by themselves
        self._halted = False
        self._children = [_Child(spec) for spec in children]
        for child in self._children:
            child.attempts = self._history.attempts.get(child.spec.name, 0)
        self._by_name = {c.spec.name: c for c in self._children}
        self._timers: dict[int, Timer] = {}
        self._next_token = 0
        self._due: set[str] = set()
        self._stop_queue: list[_Child] = []
        self._gave_up = False

    @classmethod
    def start(cls, *args: Any, **kwargs: Any) -> pykka.ActorRef[Any]:
        """Start a root supervisor (children are started by their parent)."""
        supervisor = cls(*args, **kwargs)
        return start_actor(supervisor, supervisor._clock, None)

    def __str__(self) -> str:
        return f"Supervisor {self.name}"

    # pykka hooks ----------------------------------------------------------

    def halt(self) -> None:
        """Start no more children (callable from any thread, on the instance).

        A tree stopped while it is still starting thousands of children
        stops at once instead of first starting them all: call it, then
        ``stop()``. Nothing already running is touched.
        """
        self._halted = True

    def on_start(self) -> None:
        for child in self._children:
            if self._halted:
                return
            started = self._start_child(child)
            if not started and self._strategy is not Strategy.ONE_FOR_ONE:
                return  # the restart plan now covers the children not yet started

    def on_stop(self) -> None:
        if self._gave_up:
            return
        self._stop_all("supervisor stopped")
        self._bus.publish(SupervisorStopped(self.name, self._clock.now()))

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, _ChildEnded):
            self._on_child_ended(message)
        elif isinstance(message, _RestartDue):
            self._on_restart_due(message)
        elif isinstance(message, _StopOverdue):
            self._on_stop_overdue(message)
        else:
            return super().on_receive(message)
        return None

    # queries (through a proxy) --------------------------------------------

    def children(self) -> tuple[ChildState, ...]:
        return tuple(
            ChildState(c.spec.name, c.state, c.generation, c.attempts) for c in self._children
        )

    # internals ------------------------------------------------------------

    def _start_child(self, child: _Child) -> bool:
        """Start one child; a factory that raises counts as a crash."""
        child.generation += 1
        generation, name = child.generation, child.spec.name
        on_exit = _ExitNotice(self.actor_ref, name, generation)
        try:
            ref = start_actor(child.spec.factory(), self._clock, on_exit)
        except Exception as exc:
            _log.error("supervisor %s: could not build child %s: %r", self.name, name, exc)
            child.state = "down"
            self._on_child_ended(_ChildEnded(name, generation, exc))
            return False
        child.ref, child.state, child.stop_sent = ref, "running", False
        child.abandoned = False
        child.started_at = self._clock.monotonic()
        child.spec.handle._set_running(ref)
        self._bus.publish(ChildStarted(self.name, name, generation, self._clock.now()))
        return True

    def _on_child_ended(self, message: _ChildEnded) -> None:
        child = self._by_name[message.name]
        if message.generation != child.generation or self._gave_up:
            return  # a late notice from an incarnation we already replaced
        if child.abandoned:
            return  # the incarnation we stopped waiting for ended at last
        was_stopping = child.state == "stopping"
        child.ref, child.state = None, "down"
        if was_stopping:
            self._stop_next()
            self._start_due()
            return
        now, at = self._clock.monotonic(), self._clock.now()
        name, error = child.spec.name, message.error
        if error is None:
            self._bus.publish(ChildExited(self.name, name, child.generation, at))
        else:
            text = f"{type(error).__name__}: {error}"
            self._bus.publish(ChildFailed(self.name, name, child.generation, text, at))
        restart = child.spec.restart
        if restart is Restart.TEMPORARY or (restart is Restart.TRANSIENT and error is None):
            child.state = "removed"
            child.spec.handle._set_down("stopped", None)
            return
        if self._escalate and isinstance(error, SupervisorGaveUpError):
            if name in self._independent and name not in self._vital:
                child.state = "removed"  # it gave up alone; its siblings run on
                child.spec.handle._set_down("gave up", None)
                self._alone.add(name)
                if self._alone < self._independent:
                    return
            self._give_up(name, error)  # a child supervisor gave up: so does this one
            return
        if self._history.count_restart(now, self._period) > self._max_restarts:
            self._give_up(name, error)
            return
        if self._random is None:  # 2.5 KiB of state and an urandom seeding per supervisor
            self._random = random.Random(self._seed)
        delay = self._history.next_delay(child, now, self._backoff, self._random)
        group = restart_group(self._strategy, self._children, child)
        restart_at = at + timedelta(seconds=delay)
        cause = "crashed" if error is not None else "exited"
        for other in reversed(group):
            other.spec.handle._set_down(f"restarting after {name} {cause}", restart_at)
            if other is not child and other.state == "running":
                other.state = "stopping"
                self._stop_queue.append(other)
        for member in group:
            if member.state == "down":
                member.generation += 1  # supersedes any earlier plan that named it
        plan = tuple((c.spec.name, c.generation) for c in group)
        self._bus.publish(
            RestartScheduled(
                self.name, tuple(n for n, _ in plan), name, child.attempts, delay, restart_at, at
            )
        )
        self._stop_next()
        self._next_token += 1
        due = _RestartDue(self._next_token, plan)
        self._timers[due.token] = self._clock.call_later(delay, lambda: deliver(self.actor_ref, due))

    def _on_restart_due(self, message: _RestartDue) -> None:
        if self._timers.pop(message.token, None) is None or self._gave_up:
            return  # cancelled meanwhile
        for name, generation in message.plan:
            child = self._by_name[name]
            if child.generation == generation and child.state in ("down", "stopping"):
                self._due.add(name)
        self._start_due()

    def _stop_next(self) -> None:
        """Stop the queued siblings one at a time, so they stop in reverse order."""
        while self._stop_queue:
            head = self._stop_queue[0]
            if head.state != "stopping" or head.ref is None:
                self._stop_queue.pop(0)
                continue
            if not head.stop_sent:
                head.stop_sent = True
                stop_unread(head.ref)  # its end is noticed as _ChildEnded
                self._next_token += 1
                overdue = _StopOverdue(self._next_token, head.spec.name, head.generation)
                self._timers[overdue.token] = self._clock.call_later(
                    self._shutdown_timeout, functools.partial(deliver, self.actor_ref, overdue))
            return

    def _on_stop_overdue(self, message: _StopOverdue) -> None:
        """A sibling did not stop within ``shutdown_timeout``: abandon it, go on restarting."""
        if self._timers.pop(message.token, None) is None or self._gave_up:
            return
        child = self._by_name[message.name]
        if child.generation != message.generation or child.state != "stopping":
            return  # it stopped in time
        child.abandoned, child.ref, child.state = True, None, "down"
        abandon(self.name, child, child.generation, self._shutdown_timeout, clock=self._clock,
                bus=self._bus)
        self._stop_next()
        self._start_due()

    def _start_due(self) -> None:
        """Start the due children in order, once none of them is still stopping."""
        if not self._due or any(c.state == "stopping" for c in self._children):
            return
        due, self._due = self._due, set()
        for child in self._children:
            if self._halted:
                return
            if child.spec.name in due and child.state == "down" and not self._start_child(child):
                return

    def _give_up(self, name: str, error: BaseException | None) -> None:
        self._gave_up = True
        reason = f"last failure: {name}"
        reason += f" ({type(error).__name__}: {error})" if error else " (exited)"
        self._stop_all(f"supervisor {self.name} gave up")
        event = SupervisorGaveUp(
            self.name, len(self._history.restarts), self._period, reason, self._clock.now()
        )
        self._bus.publish(event)
        if self._on_give_up is not None:
            self._on_give_up(event)
            self.stop()
            return
        raise SupervisorGaveUpError(
            f"supervisor {self.name} gave up after {event.restarts} restarts "
            f"within {self._period:g} s; {reason}"
        )

    def _stop_all(self, reason: str) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._due.clear()
        self._stop_queue.clear()
        deadline = self._clock.monotonic() + self._shutdown_timeout
        stopping: list[tuple[_Child, pykka.ActorRef[Any], pykka.Future[Any] | None]] = []
        for child in reversed(self._children):
            child.generation += 1  # any notice from the old incarnation is now stale
            ref, child.ref = child.ref, None
            child.spec.handle._set_down(reason, None)
            if child.state in ("running", "stopping") and ref is not None:
                child.state = "down"
                early = ask_to_stop(ref) if self._stop_together else None
                stopping.append((child, ref, early))
        for child, ref, early in stopping:
            nested = isinstance(ref.actor_class, type) and issubclass(ref.actor_class, Supervisor)
            stop_within(self.name, child, ref, deadline, nested=nested, clock=self._clock,
                        bus=self._bus, stopping=early)


class _ExitNotice:
    """Tells a supervisor that one incarnation of a child ended: one object per child,
    where a closure was a function, three cells and their tuple (issue 21: fewer objects
    for the garbage collector to walk while 1,000 accounts start)."""

    __slots__ = ("generation", "name", "supervisor")

    def __init__(self, supervisor: pykka.ActorRef[Any], name: str, generation: int) -> None:
        self.supervisor, self.name, self.generation = supervisor, name, generation

    def __call__(self, error: BaseException | None) -> None:
        # the supervisor may be dead: it is stopping anyway
        deliver(self.supervisor, _ChildEnded(self.name, self.generation, error))
