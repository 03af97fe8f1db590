"""SessionCore: the plumbing every call of one account's Session shares.

A call of the facade is written once, as a function ``call(core, ...)`` in
one of the call families (``_account``, ``_account_reads``, ``_trading``,
``_market``, ``_quotes``, ``_views``). It checks its arguments in the
caller's thread and returns a :data:`Reply`: a request told to an actor (:class:`Pending`) or an
answer already at hand (:class:`Ready`). :func:`blocking` makes it a method
of :class:`~mt5guard.session.facade.Session` (the reply is waited for in the
calling thread), :func:`awaitable` a method of
:class:`~mt5guard.session.aio.AsyncSession` (the reply future is awaited), so
both facades take the same arguments, send the same messages and type the
replies alike, and no part imports the class it serves.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, Concatenate, Literal, ParamSpec, Protocol, TypeVar

import attrs

from mt5guard.breaker.view import BreakerView
from mt5guard.clock import Clock
from mt5guard.errors import (
    MT5CircuitBreakerOpen,
    MT5Error,
    MT5OrderOutcomeUnknown,
    MT5RateLimited,
    MT5StateError,
    MT5TimeoutError,
    MT5Unavailable,
)
from mt5guard.events.bus import EventBus
from mt5guard.events.trade import TradeWatch
from mt5guard.market.quotes import QuoteHub
from mt5guard.market.rate_limit import RateLimits
from mt5guard.session._args import MAX_REQUEST_TIMEOUT, finite_number, shown
from mt5guard.session._direct import Answer, DirectLane, Handoff
from mt5guard.session._replies import UNSENT, OrderReply, Pending, Ready, Reply
from mt5guard.session.messages import RequestCompleted
from mt5guard.supervision import ChildHandle, ChildUnavailable
from mt5guard.supervision._hosting import drive_until

__all__ = ["Pending", "Ready", "Reply", "SessionCore", "WhenBreakerOpen", "awaitable", "blocking",
           "checked"]

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound=Callable[..., Any])
P = ParamSpec("P")

WhenBreakerOpen = Literal["raise", "age"]  # what get_price(max_age=...) does while OPEN

# operations answered by the breaker or health actor, not the terminal
_NOT_TERMINAL_CALLS = frozenset({"breaker_state", "health"})


def _request_timeout(_core: object, _field: object, value: float) -> None:
    if not (finite_number(value) and 0 < value <= MAX_REQUEST_TIMEOUT):
        raise ValueError(f"Session request_timeout must be seconds in (0, {MAX_REQUEST_TIMEOUT:g}],"
                         f" got {shown(value)} (longer waits overflow and fail at once)")


@attrs.define(eq=False, kw_only=True, repr=False)
class SessionCore:
    """One account's handles, clock, bus, request timeout and rate limits, as the
    :class:`~mt5guard.session.facade.Session` built them from its arguments.

    ``submit`` tells the SessionActor a request (after the rate limits admit
    it), ``ask``/``tell`` reach the breaker and health actors; ``wait`` and
    ``wait_async`` turn a reply into its value or a typed
    :class:`~mt5guard.errors.MT5Error` and publish a
    :class:`~mt5guard.session.messages.RequestCompleted` for each request.
    """

    account: str
    session: ChildHandle
    breaker: ChildHandle
    health: ChildHandle
    clock: Clock
    bus: EventBus
    timeout: float = attrs.field(validator=_request_timeout)
    """Seconds of real time a caller waits for a reply (the Session's ``request_timeout``)."""
    quotes: QuoteHub
    trades: TradeWatch
    breaker_view: BreakerView | None = None
    """A request timeout counts for the breaker; the quote cache reads its state."""
    when_breaker_open: WhenBreakerOpen = "raise"
    limits: RateLimits | None = None
    lane: DirectLane | None = None
    """Reads a blocking caller may handle on its own thread."""

    # sending ------------------------------------------------------------------

    def submit(self, operation: str, make: Callable[[Future[Any], float], Any],
               client_order_id: str | None = None, *, read: bool = False) -> Pending[Any]:
        """Tell the SessionActor ``make(reply, deadline)`` once the rate limits let it go.

        ``client_order_id`` marks an order-changing request: once told, it may be sent,
        so a reply that does not come in time is MT5OrderOutcomeUnknown, not a timeout.
        A ``read`` admitted at once is sent by the waiting side (see :meth:`send`).
        """
        started = self.clock.monotonic()
        reply: Future[Any] | None = None if read else \
            Future() if client_order_id is None else OrderReply(client_order_id)
        try:
            delay = 0.0 if self.limits is None else \
                self.limits.admit(operation, started, self.clock.now)
            if read and delay <= 0:  # sent by the waiting side
                return Pending(operation, UNSENT, started, make=make)
            sent = reply = Future() if reply is None else reply
            message = make(sent, started + self.timeout)
            if delay > 0:  # over the rate: told to the session when a token frees up
                self.clock.call_later(delay, lambda: self._tell_later(operation, message, sent))
            else:
                self.session.tell(message)
        except ChildUnavailable as exc:
            self._refund(operation)
            reply = Future() if reply is None else reply
            reply.set_exception(unavailable(operation, exc))
        except MT5RateLimited as exc:
            reply = Future() if reply is None else reply
            reply.set_exception(exc)
        return Pending(operation, reply, started)

    def send(self, pending: Pending[Any], *, direct: bool, through_door: bool = True) -> None:
        """Send a read :meth:`submit` left unsent: on this thread if ``direct`` and the
        session's door lets it (see :mod:`~mt5guard.session._direct`), else to the actor,
        whose answer a blocking caller waits for as a :class:`Handoff` (cheaper than a
        ``Future``, which an event loop needs). Not ``through_door``: the door handed it over."""
        make, pending.make = pending.make, None
        assert make is not None
        deadline = pending.started + self.timeout
        if direct and through_door and self.lane is not None:
            snapshot = None if self.breaker_view is None else self.breaker_view.peek()
            door = self.lane.takes(snapshot)
            if door is not None and self.session.running:  # not while it is down
                answer = pending.reply = Answer()
                if door.enter(make(answer, deadline), snapshot, self.timeout):
                    return
        reply = pending.reply = Handoff() if direct else Future()
        try:
            self.session.tell(make(reply, deadline))
        except ChildUnavailable as exc:
            self._refund(pending.operation)
            reply.set_exception(unavailable(pending.operation, exc))

    def _refund(self, operation: str) -> None:
        """A call refused before it was sent spends no rate-limit token."""
        if self.limits is not None:
            self.limits.refund(operation, self.clock.monotonic())

    def _tell_later(self, operation: str, message: Any, reply: Future[Any]) -> None:
        try:
            self.session.tell(message)
        except ChildUnavailable as exc:
            if not reply.done():
                self._refund(operation)
                reply.set_exception(unavailable(operation, exc))

    def ask(self, handle: ChildHandle, operation: str,
            make: Callable[[Future[Any]], Any]) -> Pending[Any]:
        """Tell ``handle`` the request ``make(reply)`` (no rate limit, no deadline)."""
        reply: Future[Any] = Future()
        try:
            handle.tell(make(reply))
        except ChildUnavailable as exc:
            reply.set_exception(unavailable(operation, exc))
        return Pending(operation, reply, self.clock.monotonic())

    def tell(self, handle: ChildHandle, operation: str, message: Any) -> Ready[None]:
        """Tell ``handle`` ``message``; nothing is waited for."""
        try:
            handle.tell(message)
        except ChildUnavailable as exc:
            raise unavailable(operation, exc) from None
        return Ready(None)

    # waiting ------------------------------------------------------------------

    def wait(self, reply: Reply[T]) -> T:
        """The reply's value, waiting at most ``timeout`` real seconds in this thread."""
        if isinstance(reply, Ready):
            return reply.value
        if reply.make is not None:
            self.send(reply, direct=True)
        answer = reply.reply
        timeout: float | None = self.timeout
        if type(answer) is Answer:  # answered on this thread, or never (the door's lock timed out)
            timeout = 0
        elif not answer.done() and drive_until(answer.done, self.timeout) is not None:
            timeout = 0  # a deterministic runtime ran the actors for up to the timeout
        try:
            result = answer.result(timeout=timeout)
        except Exception:  # typed (or turned into a timeout) by outcome
            # A raised error's traceback keeps this frame: it must not still hold the
            # reply (which holds the error), or every refusal leaves a cycle for the GC.
            try:
                return self.outcome(reply)
            finally:
                del reply, answer
        if self.bus.heard(RequestCompleted):
            self.record(reply.operation, "ok", reply.started)
        return result if reply.shape is None else reply.shape(result)

    async def wait_async(self, reply: Reply[T]) -> T:
        """As :meth:`wait`, awaiting the reply future: nothing blocks the event loop."""
        if isinstance(reply, Ready):
            return reply.value
        if reply.make is not None:
            self.send(reply, direct=False)  # an event loop never blocks on a terminal call
        assert isinstance(reply.reply, Future)
        waiter = asyncio.shield(asyncio.wrap_future(reply.reply))
        try:
            await asyncio.wait_for(waiter, timeout=self.timeout)
        except Exception:
            pass  # outcome reports a missing reply as MT5TimeoutError, an error typed
        return self.outcome(reply)

    def failed(self, operation: str, started: float, error: BaseException | None) -> Any:
        """Raise what :meth:`wait` raises for a read answered ``error`` on this thread, or
        left unanswered (None: a timeout), ``started`` at the clock's monotonic seconds."""
        answer = Answer()
        if error is not None:
            answer.set_exception(error)
        pending: Pending[Any] = Pending(operation, answer, started)
        del answer, error  # the raised error's traceback keeps this frame: no cycle
        try:
            return self.outcome(pending)
        finally:
            del pending

    def outcome(self, pending: Pending[T]) -> T:
        """The reply's value or typed error; a reply still missing is a timeout."""
        operation, reply, started = pending.operation, pending.reply, pending.started
        if not reply.done():
            error: MT5Error = MT5TimeoutError(
                operation=operation, detail=f"no reply within {self.timeout:g} s"
            )
            if isinstance(reply, OrderReply):  # told to the session: it may have been sent
                error = MT5OrderOutcomeUnknown(
                    operation=operation, client_order_id=reply.client_order_id,
                    detail=f"no reply within {self.timeout:g} s; ask again with the same "
                           "client_order_id for the outcome read back from the terminal")
            self.record(operation, "timeout", started)
            if self.breaker_view is not None and operation not in _NOT_TERMINAL_CALLS:
                latency_ms = (self.clock.monotonic() - started) * 1000.0
                self.breaker_view.count_timeout(self.breaker, operation, latency_ms)
            del pending, reply  # the traceback keeps this frame: no cycle through the reply
            try:
                raise error
            finally:
                del error
        exc = reply.exception()
        if exc is None:
            self.record(operation, "ok", started)
            return pending.value(reply.result())
        del pending, reply  # the raised error's traceback keeps this frame: no cycle
        try:
            if isinstance(exc, MT5Error):
                self.record(operation, exc.kind, started)
                if isinstance(exc, _REFUSED_UNSENT):
                    self._refund(operation)
                if self.limits is not None:
                    self.limits.observe(exc, self.clock.monotonic())  # 10024 slows orders down
                raise exc
            self.record(operation, "state", started)  # an actor bug still reaches the caller typed
            raise MT5StateError(operation=operation, detail=f"internal error {exc!r}") from exc
        finally:
            del exc

    def record(self, operation: str, outcome: str, started: float) -> None:
        """Publish the request's :class:`RequestCompleted`, if any subscriber takes it."""
        if self.bus.heard(RequestCompleted):
            latency_ms = (self.clock.monotonic() - started) * 1000.0
            self.bus.publish(RequestCompleted(self.account, operation, outcome, latency_ms))


def unavailable(operation: str, exc: ChildUnavailable) -> MT5Unavailable:
    return MT5Unavailable(operation=operation, retry_at=exc.retry_at,
                          detail=f"session {exc.reason}")


# binding a call to a facade -------------------------------------------------------


class Facade(Protocol):
    """What :func:`blocking` and :func:`awaitable` need of the class they serve."""

    _core: SessionCore


def blocking(call: Callable[Concatenate[SessionCore, P], Reply[T]],
             now: Callable[Concatenate[SessionCore, P], T] | None = None,
             ) -> Callable[Concatenate[Facade, P], T]:
    """``call`` as a method that waits for its reply in the calling thread.

    ``now``: the same call for a blocking caller, answered without a
    :class:`Pending` where it can (see ``_account.get_price_now``).
    """
    if now is not None:
        def lean(self: Facade, /, *args: P.args, **kwargs: P.kwargs) -> T:
            return now(self._core, *args, **kwargs)
        return _as_method(lean, call)

    def method(self: Facade, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._core.wait(call(self._core, *args, **kwargs))
    return _as_method(method, call)


def awaitable(
    call: Callable[Concatenate[SessionCore, P], Reply[T]],
) -> Callable[Concatenate[Facade, P], Coroutine[Any, Any, T]]:
    """``call`` as a coroutine method; its arguments are checked when it is awaited."""
    async def method(self: Facade, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._core.wait_async(call(self._core, *args, **kwargs))
    return _as_method(method, call)


def checked(
    name: str, build: Callable[P, T], send: Callable[[SessionCore, T], Reply[R]]
) -> Callable[Concatenate[SessionCore, P], Reply[R]]:
    """The call ``name``: ``build``'s arguments, checks and docs, sent by ``send``.

    ``build`` runs in the caller's thread and raises on a bad argument; what
    it returns is handed to ``send``. The arguments are so written once.
    """
    def call(core: SessionCore, /, *args: P.args, **kwargs: P.kwargs) -> Reply[R]:
        return send(core, build(*args, **kwargs))
    functools.update_wrapper(call, build)
    call.__name__ = call.__qualname__ = name
    call.__module__ = send.__module__
    core, *_ = inspect.signature(send).parameters.values()
    built = inspect.signature(build)
    call.__signature__ = built.replace(  # type: ignore[attr-defined]
        parameters=[core, *built.parameters.values()],
        return_annotation=inspect.signature(send).return_annotation)
    return call


_REPLY = re.compile(r"(?:Reply|Pending|Ready)\[(.*)\]")


def _as_method(method: M, call: Callable[..., Any]) -> M:
    """``method`` named, documented and signed like ``call``, ``self`` for its core."""
    functools.update_wrapper(method, call)
    signature = inspect.signature(call)
    _core, *params = signature.parameters.values()
    answer = signature.return_annotation
    if isinstance(answer, str) and (match := _REPLY.fullmatch(answer)):
        answer = match.group(1)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *params],
        return_annotation=answer)
    return method


#: Answers that prove the request never reached the terminal.
_REFUSED_UNSENT = (MT5CircuitBreakerOpen, MT5Unavailable)


