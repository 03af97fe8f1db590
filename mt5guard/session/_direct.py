"""The direct lane: a blocking caller handles its own read, as the SessionActor would.

A guarded read through the mailbox is an actor hop: the caller's thread tells
the SessionActor, which wakes, makes the call and wakes the caller again. For a
terminal in a worker process those two wake-ups cost more than the round trip
to the worker itself (issue 21), so a read of a blocking
:class:`~mt5guard.session.facade.Session` (``get_price``, the account,
positions, orders and the market-data reads) goes through the session's
:class:`Door` instead: the caller's thread takes the lock the actor holds for
every message it handles and runs the actor's own handler for that read
(:class:`~mt5guard.session._calls.GuardedCalls`: the breaker's admission, the
worker killed at the request's deadline, the outcome told to the breaker as a
message). One caller or the actor at a time reaches the terminal.

A blocking ``get_price`` takes a leaner way through the same door
(:meth:`Door.price`, from ``session._account.get_price_now``): no message, no
reply object and no :class:`~mt5guard.session._replies.Pending`, the guarded
call being :meth:`~mt5guard.session._calls.GuardedCalls.now` (the same
deadline, report and typed errors; the breaker's admission needs no asking
once ``ready()`` saw it CLOSED or DISABLED). It is taken only with no rate
limits and a breaker snapshot that is not OPEN; whatever it cannot answer
goes the usual way (a connection to mend straight to the actor).

Anything the lane does not serve is told to the actor as before: orders and
connects (their journal and reconcile paths stay on the actor's thread),
awaitable calls (an event loop must not block on a terminal), terminals in
this process (only their owner thread calls them), a session that is
starting, down, disconnected or whose breaker is neither CLOSED nor DISABLED
(HALF_OPEN trials are the actor's), the deterministic runtime (one thread
runs every actor), and a read that met a lost connection or login (the actor meets
it again, reports it and mends in place). A failure that ends the session
(the worker killed at a deadline, or dead) is told to the actor as
:class:`~mt5guard.session.messages.SessionFailed`, and it fails: supervision
restarts it as if it had met the failure itself.

While the breaker's snapshot (:class:`~mt5guard.breaker.view.BreakerView`,
written by the BreakerActor before anyone is told) says OPEN, a read is
refused on the caller's thread without waiting for the door, for any
terminal: a refusal costs no hop, and the breaker still counts it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import InvalidStateError
from typing import Any

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.errors import MT5CircuitBreakerOpen, MT5Error
from mt5guard.session._breaker_link import BreakerLink
from mt5guard.session._calls import HandOver, Lost, complete, operation_of
from mt5guard.session._connection import SessionLost

__all__ = ["HANDED", "PASSED", "UNANSWERED", "Answer", "DirectLane", "Door", "Handoff"]

#: What :meth:`Door.price` returns when it did not answer: nothing was called, go the usual
#: way (:data:`PASSED`); tell the actor, not the door again (:data:`HANDED`); the door's lock
#: not had in time, or the read broke without an answer (:data:`UNANSWERED`: a timeout).
PASSED, HANDED, UNANSWERED = object(), object(), object()

_OPEN = BreakerState.OPEN  # read per call: an enum member looked up on its class costs ~0.1 us


class Answer:
    """The reply of a read handled on the caller's own thread: set and read by that thread only.

    What a ``concurrent.futures.Future`` offers the facade (``done``, ``result``,
    ``exception``), without the condition variable no other thread will ever
    wait on (creating and completing a Future costs several microseconds).
    """

    __slots__ = ("_done", "_error", "_value")

    def __init__(self) -> None:
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None

    def set_result(self, value: Any) -> None:
        if self._done:
            raise InvalidStateError("already answered")
        self._value, self._done = value, True

    def set_exception(self, error: BaseException) -> None:
        if self._done:
            raise InvalidStateError("already answered")
        self._error, self._done = error, True

    def done(self) -> bool:
        return self._done

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if not self._done:
            raise TimeoutError("not answered")
        return self._error

    def result(self, timeout: float | None = None) -> Any:
        if not self._done:
            raise TimeoutError("not answered")
        if self._error is None:
            return self._value
        try:
            raise self._error
        finally:  # the traceback keeps this frame: it must not keep the error through self
            self = None  # type: ignore[assignment]


class Handoff(Answer):
    """The reply of a blocking caller's read told to the actor: set once there, waited for here.

    A ``concurrent.futures.Future`` builds a condition variable on a reentrant
    lock, and its waiter a second lock, for a reply only one thread waits on;
    this one is a plain lock held from the start and released once the answer
    is in (the answer is stored before the release, so the waiter sees it).
    It is answered by the thread that handles its message (the actor, or the
    inbox's closer for a message never handled), and only once
    (:func:`~mt5guard.session._calls.complete` ignores a second answer).
    """

    __slots__ = ("_ready",)

    def __init__(self) -> None:  # Answer's fields, set here: one call less per request
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None
        self._ready = threading.Lock()
        self._ready.acquire()

    def set_result(self, value: Any) -> None:
        super().set_result(value)
        self._ready.release()

    def set_exception(self, error: BaseException) -> None:
        super().set_exception(error)
        self._ready.release()

    def _wait(self, timeout: float | None) -> None:
        if not self._done and self._ready.acquire(timeout=-1 if timeout is None else timeout):
            self._ready.release()  # a second wait finds it at once

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._wait(timeout)
        return super().exception()

    def result(self, timeout: float | None = None) -> Any:
        self._wait(timeout)
        try:
            return Answer.result(self)
        finally:  # the traceback keeps this frame: it must not keep the error through self
            self = None  # type: ignore[assignment]


class Door:
    """One SessionActor incarnation's lock, and the way in for callers' reads.

    The actor holds its ``lock`` while it handles any message and while it
    ends; :meth:`enter` lets a caller's thread handle a read under it.
    ``handle(message)`` is the actor's handler of reads (False: not a read);
    ``ready()`` says, under the lock, whether calls may go now (connected, the
    worker serving, the breaker letting calls through freely); ``fail(reason)``
    tells the actor to fail.
    """

    def __init__(self, link: BreakerLink, handle: Callable[[Any], bool],
                 ready: Callable[[], bool], fail: Callable[[str], None], *, calls: bool,
                 price: Callable[[str, float], Any] | None = None) -> None:
        self.lock = threading.Lock()
        self._owner = 0  # a caller's thread in enter (a subscriber it calls must not wait for it)
        self._actor_thread = 0  # the actor's own thread: never waits for its own lock
        self._open = False
        self._link = link
        self._handle = handle
        self._ready = ready
        self._fail = fail
        self.calls = calls  # terminal calls on callers' threads (a worker), or refusals only
        # price(symbol, deadline): GuardedCalls.now of TerminalOps.price; a worker's only
        self._price = price if calls else None

    def open(self) -> None:
        """Callers may come in (the actor's ``on_start`` is done); called on the actor's thread."""
        self._actor_thread = threading.get_ident()
        self._open = True

    def close(self) -> None:
        """No caller comes in any more; the actor calls it holding the lock, so none is in."""
        self._open = False

    def takes(self, snapshot: BreakerStateChanged | None) -> bool:
        """Whether :meth:`enter` may answer now: reads of a worker, or refusals while OPEN."""
        return self._open and (self.calls or (
            snapshot is not None and snapshot.new is _OPEN))

    def refusal(self, operation: str, snapshot: BreakerStateChanged) -> MT5CircuitBreakerOpen | None:
        """The refusal of a read while ``snapshot`` is OPEN, counted: the error to raise or
        answer; None where the actor must answer it (the door closed, or this thread is the
        actor's or a caller's inside the door). :meth:`enter` answers with it too."""
        if not self._open or threading.get_ident() in (self._owner, self._actor_thread):
            return None
        self._link.count_rejection()
        return MT5CircuitBreakerOpen(operation=operation, retry_at=snapshot.retry_at)

    def enter(self, message: Any, snapshot: BreakerStateChanged | None, timeout: float) -> bool:
        """Answer ``message.reply_to`` on this thread; False: tell the actor instead.

        ``timeout`` (real seconds) bounds the wait for the lock: past it the
        reply stays unanswered, which the facade reports as a timeout, as it
        does for an actor stuck in a call.
        """
        if snapshot is not None and snapshot.new is _OPEN:
            refused = self.refusal(operation_of(message), snapshot)
            if refused is None:
                return False
            complete(message.reply_to, refused)
            return True
        me = threading.get_ident()
        if not self._open or me in (self._owner, self._actor_thread):
            return False
        if not self.calls:
            return False
        if not self.lock.acquire(False) and not self.lock.acquire(timeout=timeout):
            return True
        self._owner = me
        try:
            if not (self._open and self._ready()):
                return False
            return self._handle(message)
        except HandOver:
            return False
        except SessionLost as lost:
            self._broken(str(lost))
            return True
        except Exception as exc:  # the reply was answered MT5StateError; the actor would fail too
            self._broken(f"a read on a caller's thread raised {exc!r}")
            return True
        finally:
            self._owner = 0
            self.lock.release()

    def price(self, symbol: str, deadline: float, timeout: float) -> Any:
        """A ``get_price`` on this thread without a message (the lean path of a blocking
        caller, whose breaker snapshot is not OPEN): the tick, or its typed error raised,
        or :data:`PASSED`, :data:`HANDED` or :data:`UNANSWERED`.

        The same as :meth:`enter` with a ``GetPrice``: under the lock, once
        ``ready()`` (the breaker CLOSED or DISABLED: anything else is the
        actor's or :meth:`enter`'s), one guarded call whose outcome the breaker is
        told, the worker killed at ``deadline``; a read that ends the session
        fails it, its outcome still the caller's.
        """
        price = self._price
        me = threading.get_ident()
        if price is None or not self._open or me == self._owner or me == self._actor_thread:
            return PASSED
        if not self.lock.acquire(False) and not self.lock.acquire(timeout=timeout):
            return UNANSWERED
        self._owner = me
        try:
            if not (self._open and self._ready()):
                return PASSED
            return price(symbol, deadline)
        except HandOver:
            return HANDED
        except MT5Error:
            raise  # typed, and told to the breaker: the caller's answer
        except Lost as lost:
            self._broken(lost.reason)
            outcome = lost.outcome
            del lost
        except Exception as exc:  # not the call's (GuardedCalls.now types those): unanswered
            self._broken(f"a read on a caller's thread raised {exc!r}")
            return UNANSWERED
        finally:
            self._owner = 0
            self.lock.release()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def flush_rejections(self) -> None:
        """Tell the breaker the refusals counted on callers' threads (any thread)."""
        self._link.flush_rejections()

    def _broken(self, reason: str) -> None:
        self._open = False  # what follows goes to the mailbox until the restarted actor opens
        self._fail(reason)


class DirectLane:
    """Where a facade finds the door of the session incarnation serving now (None: none)."""

    def __init__(self) -> None:
        self.door: Door | None = None

    def takes(self, snapshot: BreakerStateChanged | None) -> Door | None:
        """The door to :meth:`Door.enter` now, or None: tell the actor."""
        door = self.door
        return door if door is not None and door.takes(snapshot) else None
