"""A deterministic runtime: every actor on one thread, a seeded choice of who runs next.

Each actor started on the runtime (through ``start_actor``, i.e. every actor
of an mt5guard tree whose clock is ``runtime.clock``, or ``runtime.start`` for
a host's own actors) runs its loop in a greenlet on the thread that created
the runtime. Whenever actors are ready (mail in the inbox, a wait satisfied),
a ``random.Random(seed)`` picks which one handles its next message. When none
is ready, time jumps to the next timer, like trio's autojump clock. A blocking
wait inside an actor (a simulated slow terminal call sleeping on the clock, a
pykka future, the facade waiting for a reply) parks that actor's greenlet and
lets the others run. Test code calling the facade or ``future.get()`` drives
the runtime until its answer is there.

The same seed gives the same :attr:`DeterministicRuntime.log`, byte for byte;
different seeds give different interleavings. Prior art: FoundationDB's
deterministic simulation, TigerBeetle's VOPR, trio's ``MockClock(autojump)``
and pykka's former gevent actor type. Simulated time and its timers are a
:class:`~mt5guard.testing._timeline.Timeline` (``_timeline.py``).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pykka

from mt5guard.clock import Timer
from mt5guard.supervision._hosting import LoopAbandoned, set_thread_driver
from mt5guard.supervision._pykka import (
    GuardedActor,
    abandon,
    adopt,
    begin,
    end,
    fail_told,
    handle,
    is_plain_message,
    mailbox,
    observe,
    plain_receiver,
    set_loop_host,
    start_actor,
)
from mt5guard.testing._clock import DEFAULT_START
from mt5guard.testing._log import MessageLog
from mt5guard.testing._timeline import Timeline

__all__ = ["DeterministicRuntime", "RuntimeStuck"]

_FOREVER = 400 * 86_400.0  # simulated seconds an unbounded wait may take before we call it stuck


def _never() -> bool:
    """The condition :meth:`DeterministicRuntime.run_until_idle` runs until: none."""
    return False


class RuntimeStuck(AssertionError):
    """A wait can never end: nothing is ready and no timer is due, or it took too long."""


class _Entry:
    """One actor on the runtime, with the greenlet running its loop."""

    __slots__ = ("actor", "glet", "handling", "name", "seq", "since", "waiting_mail")

    def __init__(self, actor: GuardedActor, seq: int) -> None:
        self.actor, self.seq = actor, seq
        self.name = f"{type(actor).__name__}#{seq}"
        self.waiting_mail = False
        self.glet: Any = None
        self.handling: type | None = None  # the type of the message it handles (named when read)
        self.since = 0.0


class DeterministicRuntime:
    """Runs actors deterministically on the calling thread (see module doc).

    ``runtime.clock`` is the tree's :class:`~mt5guard.clock.Clock`; ``start``
    is the wall time of monotonic 0. Use it as a context manager, or call
    :meth:`close` when done.
    """

    def __init__(self, seed: int = 0, start: datetime = DEFAULT_START) -> None:
        try:
            import greenlet
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("the deterministic runtime needs greenlet: "
                               "pip install 'mt5guard[test]'") from exc
        if start.tzinfo is None:
            raise ValueError("DeterministicRuntime start must be timezone-aware")
        self._greenlet = greenlet
        self._root = greenlet.getcurrent()
        self.seed = seed
        self._draw = random.Random(seed).getrandbits  # randrange's numbers, drawn by _pick
        self._time = Timeline(start)
        self._actor_seq = itertools.count(1)
        self._entries: dict[int, _Entry] = {}
        self._ready: dict[int, _Entry] = {}
        self._parked: dict[int, tuple[_Entry, Callable[[], bool], float | None]] = {}
        self.steps = 0
        self._current: _Entry | None = None
        self._log = MessageLog()
        self._stamp_at = -1.0  # the instant the log noted last
        self._until: Callable[[], bool] | None = None  # the root's loop ends when true: _next_after
        self.clock = self
        # the Clock protocol's two busiest methods are the timeline's own (one call, not two)
        self.now: Callable[[], datetime] = self._time.now
        """Wall time (UTC) of the monotonic now."""
        self.call_later: Callable[[float, Callable[[], object]], Timer] = self._time.call_later
        """Run a callback ``delay`` simulated seconds from now (a negative delay means now)."""
        set_thread_driver(self)

    def __enter__(self) -> DeterministicRuntime:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def log(self) -> list[str]:
        """One line per message handled: simulated seconds, actor, message type.

        Put together when read (:class:`~mt5guard.testing._log.MessageLog`).
        """
        return self._log.lines()

    # Clock protocol (now and call_later: the timeline's, set in __init__) ---

    def monotonic(self) -> float:
        return self._time.mono

    def sleep(self, seconds: float) -> None:
        """Block the calling actor (or drive, from test code) for ``seconds`` simulated."""
        self.wait_until(lambda: False, seconds)

    def derive_seed(self, name: str) -> str:
        """A seed for a component's own randomness (backoff jitter), fixed by ours."""
        return f"{self.seed}:{name}"

    def attach_actor(self, actor: Any) -> None:
        entry = _Entry(actor, next(self._actor_seq))
        self._entries[id(actor)] = entry
        set_loop_host(actor, self)
        observe(actor, _MailWatch(self, entry))

    # actors ------------------------------------------------------------------

    def start(self, actor_class: type[Any], *args: Any, **kwargs: Any) -> pykka.ActorRef[Any]:
        """Start one of your own pykka actors on this runtime (instead of ``cls.start``)."""
        return start_actor(adopt(actor_class(*args, **kwargs)), self, None)

    def start_loop(self, actor: GuardedActor) -> None:
        entry = self._entries[id(actor)]
        glet = self._greenlet.greenlet(lambda: self._main(entry), parent=self._root)
        glet.entry = entry
        entry.glet = glet
        self._ready[entry.seq] = entry

    def _main(self, entry: _Entry) -> None:
        actor, root, timeline, log = entry.actor, self._root, self._time, self._log.noted.append
        texts: dict[type, str] = {}  # the log's "<actor> <message type>" of each type
        inbox = mailbox(actor)
        take, stopped = inbox.take, actor.actor_stopped.is_set  # is_stopped(actor), bound once
        pick, ready, parked = self._pick, self._ready, self._parked
        receive = plain_receiver(actor)  # a told plain message: handle()'s work done inline
        try:
            begin(actor)
            while not stopped():
                entry.waiting_mail = True
                if not inbox.empty():
                    ready[entry.seq] = entry
                until = self._until  # _next_after, inline: once a message
                if until is None or (until is not _never and until()):
                    root.switch()
                else:  # _pick finds nobody while no actor is ready or parked: not asked then
                    after = pick() if ready or parked else None
                    (root if after is None else after.glet).switch()
                envelope = take()
                if envelope is None:
                    continue
                self.steps += 1
                message = envelope.message
                kind = type(message)
                now = timeline.mono
                if now != self._stamp_at:  # the same instant's messages share one stamp
                    self._stamp_at = now
                    log(now)
                text = texts.get(kind)
                if text is None:
                    text = texts[kind] = f"{entry.name} {kind.__name__}"
                log(text)
                entry.handling, entry.since = kind, now
                if receive is None or envelope.reply_to is not None or not is_plain_message(kind):
                    handle(actor, envelope)
                else:
                    try:
                        receive(message)
                    except LoopAbandoned:
                        raise
                    except BaseException:
                        fail_told(actor)
                entry.handling = None
        except LoopAbandoned:
            return
        finally:
            self._ready.pop(entry.seq, None)
        end(actor)
        self._entries.pop(id(actor), None)
        entry.glet = None  # the entry and its greenlet held each other, and so the actor

    def _next_after(self, root: Any) -> Any:
        """The greenlet to run once the running actor is done with a message (or parks).

        Exactly what the root would do next: while :meth:`run_until_idle` or
        :meth:`_drive` runs, the root's next step is ``_run_one`` (unless the
        drive's wait is over), so the actor takes that step itself: it wakes
        the parked actors whose wait ended, draws the next actor from the
        seeded choice as the root would, and switches to it directly instead
        of to the root and back (two switches and a pass through the root's
        loop for each message). The same draws in the same order: the same
        schedule and log. The root runs when nothing is ready (a timer is
        due) or the wait it drives is over.
        """
        until = self._until
        if until is None or (until is not _never and until()):
            return root
        entry = self._pick()
        return root if entry is None else entry.glet

    # driving -------------------------------------------------------------------

    def wait_until(self, ready: Callable[[], bool], timeout: float | None) -> bool:
        """Wait ``timeout`` simulated seconds at most (``None``: no limit) for ``ready()``.

        Inside an actor this parks it; from test code it runs the actors and
        jumps time until ``ready()`` or the deadline. True if ready.
        """
        if ready():
            return True
        deadline = None if timeout is None else self._time.mono + max(0.0, timeout)
        entry = getattr(self._greenlet.getcurrent(), "entry", None)
        if entry is None:
            return self._drive(ready, deadline)
        if deadline is not None:
            self.call_later(deadline - self._time.mono, lambda: None)  # so time can jump there
        self._parked[entry.seq] = (entry, ready, deadline)
        self._next_after(self._root).switch()
        return ready()

    def _pick(self) -> _Entry | None:
        """Wake the parked actors whose wait ended; take the next actor to run, if any."""
        parked = self._parked
        if parked:
            mono = self._time.mono
            for seq, (entry, ready, deadline) in list(parked.items()):
                if ready() or (deadline is not None and mono >= deadline):
                    del parked[seq]
                    self._ready[seq] = entry
        ready_now = self._ready
        if not ready_now:
            return None
        count = len(ready_now)
        if count == 1:
            entry = ready_now.popitem()[1]
        else:  # Random.randrange(count), its draws inline: the same numbers, no Python calls
            draw, bits = self._draw, count.bit_length()
            index = draw(bits)
            while index >= count:
                index = draw(bits)
            entry = ready_now.pop(sorted(ready_now)[index])
        entry.waiting_mail = False
        self._current = entry
        return entry

    def _run_one(self) -> bool:
        """Let one ready actor handle one message (or resume from a wait); False if none."""
        entry = self._pick()
        if entry is None:
            return False
        try:
            entry.glet.switch()
        finally:
            self._current = None
        return True

    @property
    def handling(self) -> str | None:
        """The type name of the message the running actor is handling, if any."""
        entry = self._current
        kind = entry.handling if entry is not None else None
        return kind.__name__ if kind is not None else None

    @property
    def running(self) -> str | None:
        """The name (``SessionActor#12``) of the actor running now; None in test code."""
        entry = self._current
        return entry.name if entry is not None else None

    @property
    def handling_since(self) -> float:
        """When (monotonic seconds) the running actor began handling its message."""
        entry = self._current
        return entry.since if entry is not None else self._time.mono

    def _drive(self, ready: Callable[[], bool], deadline: float | None) -> bool:
        limit = deadline if deadline is not None else self._time.mono + _FOREVER
        was, self._until = self._until, ready  # actors may hand over (_next_after)
        try:
            while not ready():
                if self._run_one():
                    continue
                if not self._time.fire_next(limit):
                    if deadline is not None:
                        self._time.mono = max(self._time.mono, deadline)
                        return ready()
                    raise RuntimeStuck(f"nothing left to run and no timer due within "
                                       f"{limit - self._time.mono:g} s; waiting for {ready!r}")
            return True
        finally:
            self._until = was

    def run_until_idle(self) -> None:
        """Run until no actor is ready, without moving time."""
        was, self._until = self._until, _never  # actors may hand over (_next_after)
        try:
            self._run_all()
        finally:
            self._until = was

    def _run_all(self) -> None:
        """Run actors while any is ready; ``_until`` is ``_never`` (see :meth:`run_until_idle`)."""
        ready, parked, run_one = self._ready, self._parked, self._run_one
        while (ready or parked) and run_one():  # none ready or parked: _pick would find none
            pass

    def advance(self, seconds: float) -> None:
        """Move time ``seconds`` forward, running actors and firing timers in order."""
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        timeline = self._time
        target = timeline.mono + seconds
        # run_until_idle after each instant, its ``_until`` set once around them all: only
        # a running actor reads it, and timer callbacks run none (they tell; a wait they
        # drive sets its own)
        was, self._until = self._until, _never
        try:
            self._run_all()
            fire_next, run_one = timeline.fire_next, self._run_one
            ready, parked = self._ready, self._parked
            while fire_next(target):  # most instants wake one actor or a few: _run_all inline
                while (ready or parked) and run_one():
                    pass
            timeline.mono = target
            self._run_all()
        finally:
            self._until = was

    def settle(self) -> None:
        """Same as :meth:`run_until_idle` (the threaded clock's name for it)."""
        self.run_until_idle()

    def pending_timers(self) -> list[float]:
        return self._time.pending()

    def close(self) -> None:
        """Abandon every actor still on the runtime (no hooks run) and stop driving."""
        self._time.clear()
        self._parked.clear()
        self._ready.clear()
        for entry in list(self._entries.values()):
            abandon(entry.actor)
            if entry.glet:  # started and not dead: parked in a wait or for mail
                entry.glet.throw(LoopAbandoned)
        self._entries.clear()
        set_thread_driver(None)


class _MailWatch:
    """Makes an actor waiting for mail ready when a message is put."""

    __slots__ = ("_entry", "_ready")

    def __init__(self, runtime: DeterministicRuntime, entry: _Entry) -> None:
        self._ready, self._entry = runtime._ready, entry  # the runtime's ready dict, never replaced

    def put(self) -> None:
        entry = self._entry
        if entry.waiting_mail:
            self._ready[entry.seq] = entry

    def _nothing(self) -> None:
        """The loop's own steps: the runtime runs the loop, nothing to learn from them."""

    returned = loop_started = loop_ended = _nothing
