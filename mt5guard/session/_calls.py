"""The SessionActor's guarded call: deadline, breaker admission, mending, one retry.

Every request that reaches the terminal goes through :meth:`GuardedCalls.run`:
a request past its deadline is answered MT5TimeoutError, the breaker's local
view admits it (or answers MT5CircuitBreakerOpen), a connection loss is mended
in place once (a read-only call is then retried once), and the outcome is told
to the breaker. Replies are futures; a caller that gave up is not an error.

On a caller's thread (``direct=True``, see :mod:`~mt5guard.session._direct`) a
connection or login failure is not mended there: :class:`HandOver` gives the
request back, unreported, to be told to the actor, which meets the failure
again, reports it and mends in place.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import Any, Protocol

from mt5guard.clock import Clock
from mt5guard.errors import (
    MT5AuthError,
    MT5ConnectionError,
    MT5DataError,
    MT5Error,
    MT5StateError,
    MT5TimeoutError,
)
from mt5guard.session._breaker_link import BreakerLink
from mt5guard.session._connection import Connection, SessionLost
from mt5guard.terminal.hung import caused_by_hang

__all__ = ["GuardedCalls", "HandOver", "Lost", "complete", "operation_of"]

# the caller decides; a retry with its id is safe
_NEVER_RETRIED = frozenset({"place_order", "modify_position", "close_position", "cancel_order",
                            "place_pending_order", "modify_order"})


_MENDED: tuple[type[MT5Error], ...] = (MT5ConnectionError, MT5AuthError)


class HandOver(Exception):
    """A read on a caller's thread met what only the actor mends: tell it the request."""


class Lost(Exception):
    """A read on a caller's thread ended the session (``reason``); ``outcome`` is still the
    caller's answer: the call's value, or the typed error to raise."""

    def __init__(self, reason: str, outcome: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.outcome = outcome


class GuardedCalls:
    """One guarded terminal call per request, on the SessionActor's thread."""

    def __init__(self, clock: Clock, link: BreakerLink, connection: Connection) -> None:
        self._clock = clock
        self._link = link
        self._connection = connection

    def run(
        self, message: Any, operation: str, call: Callable[[], Any], *, reconnect: bool = True,
        direct: bool = False,
    ) -> None:
        """Answer ``message.reply_to`` with ``call()`` or a typed error.

        Raises :class:`SessionLost` when the connection is gone for good, and
        (``direct``: on a caller's thread) :class:`HandOver` instead of mending.
        """
        worker = self._connection.worker
        if worker is None:  # in this process: no deadline to arm, no worker
            self._run(message, operation, call, reconnect, direct)
            return
        worker.deadline = message.deadline  # a worker is killed past it
        try:
            self._run(message, operation, call, reconnect, direct)
        finally:
            worker.deadline = None
        if worker.lost is not None:
            self._connection.fail_if_worker_lost()

    def now(self, operation: str, call: Callable[[Any], Any], arg: Any, deadline: float) -> Any:
        """:meth:`run` with ``direct``, without a message: ``call(arg)``'s value, or its typed
        error raised (told to the breaker like every outcome).

        Only for a caller's thread holding the door after ``ready()`` said go: a
        worker serving, connected, the breaker CLOSED or DISABLED (its admission
        lets every call through then, so it is not asked). Raises
        :class:`HandOver` as :meth:`run` does, and :class:`Lost` (the outcome
        inside) where :meth:`run` answers the reply and raises.
        """
        worker = self._connection.worker
        assert worker is not None
        started = self._clock.monotonic()
        if started > deadline:
            raise MT5TimeoutError(operation=operation,
                                  detail="the request waited past its deadline in the queue")
        error: MT5Error | None = None
        worker.deadline = deadline  # a worker is killed past it
        try:
            result = call(arg)
        except _MENDED:
            raise HandOver(operation) from None
        except MT5Error as err:
            error = err
        except (TypeError, ValueError, AttributeError) as exc:  # a reply not shaped like MT5's
            error = MT5DataError(operation=operation, detail=f"malformed terminal reply: {exc}")
        except Exception as exc:
            raise Lost(f"a read on a caller's thread raised {exc!r}", MT5StateError(
                operation=operation, detail=f"terminal raised {exc!r}")) from exc
        finally:
            worker.deadline = None
        self._link.report(operation, started, error)
        if error is None:
            if worker.lost is None:
                return result
            raise Lost(f"terminal worker {worker.lost}", result)
        if caused_by_hang(error):  # the terminal's connection was abandoned mid-call
            raise Lost(str(error), error)
        if worker.lost is not None:
            raise Lost(f"terminal worker {worker.lost}", error)
        raise error

    def _run(
        self, message: Any, operation: str, call: Callable[[], Any], reconnect: bool,
        direct: bool,
    ) -> None:
        reply: Future[Any] = message.reply_to
        started = self._clock.monotonic()
        if message.deadline is not None and started > message.deadline:
            complete(reply, MT5TimeoutError(
                operation=operation, detail="the request waited past its deadline in the queue"
            ))
            return
        rejected = self._link.admit(operation)
        if rejected is not None:
            complete(reply, rejected)
            return
        connection, report = self._connection, self._link.report
        try:
            if not connection.connected and reconnect:
                connection.ensure_connected()
            result = call()
        except _MENDED as err:
            if direct:
                raise HandOver(operation) from None
            self._mend(reply, operation, call, err, started, reconnect)
            return
        except MT5Error as err:
            report(operation, started, err)
            complete(reply, err)
            if caused_by_hang(err):  # the terminal's connection was abandoned mid-call
                raise SessionLost(str(err)) from err
            return
        except (TypeError, ValueError, AttributeError) as exc:  # a reply not shaped like MT5's
            malformed = MT5DataError(operation=operation, detail=f"malformed terminal reply: {exc}")
            report(operation, started, malformed)
            complete(reply, malformed)
            return
        except Exception as exc:
            complete(reply, MT5StateError(operation=operation, detail=f"terminal raised {exc!r}"))
            raise
        report(operation, started, None)
        try:  # complete(reply, result), inlined: the hot path (a result is never an exception)
            reply.set_result(result)
        except InvalidStateError:
            pass  # a caller that gave up

    def _mend(self, reply: Future[Any], operation: str, call: Callable[[], Any], err: MT5Error,
              started: float, reconnect: bool) -> None:
        """A lost connection is mended in place (once), a refused login logged in again."""
        connection, report = self._connection, self._link.report
        if isinstance(err, MT5AuthError):
            if reconnect and connection.mend_auth():
                self._retry_once(reply, operation, call, err)
                return
            report(operation, started, err)
            complete(reply, err)
            return
        report(operation, started, err)
        if reconnect and connection.mend():
            self._retry_once(reply, operation, call, err)
            return
        complete(reply, err)
        if reconnect:
            raise SessionLost(str(err)) from err

    def _retry_once(self, reply: Future[Any], operation: str, call: Callable[[], Any],
                    error: MT5Error) -> None:
        """After an in-place reconnect, read-only calls are tried once more.

        An order is not: the caller gets ``error`` and decides.
        """
        if operation in _NEVER_RETRIED:
            complete(reply, error)
            return
        started = self._clock.monotonic()
        try:
            result = call()
        except MT5Error as err:
            self._link.report(operation, started, err)
            complete(reply, err)
            return
        self._link.report(operation, started, None)
        complete(reply, result)


class Settable(Protocol):
    """A reply a request carries: a ``Future``, or the direct lane's ``Answer`` or ``Handoff``."""

    def set_result(self, value: Any, /) -> None: ...

    def set_exception(self, error: BaseException, /) -> None: ...


def complete(reply: Settable, outcome: Any) -> None:
    """Answer a request; a caller that gave up (cancelled) is not an error here.

    A typed error goes without its traceback: the frames it was raised through
    on the session's side hold the request, which holds the reply, which would
    hold the error (a cycle only the garbage collector frees, with every frame
    and message in it). The caller's traceback starts where it waited; the
    error's fields say what failed.
    """
    try:
        if isinstance(outcome, BaseException):
            if isinstance(outcome, MT5Error):
                outcome.__traceback__ = None
            reply.set_exception(outcome)
        else:
            reply.set_result(outcome)
    except InvalidStateError:
        pass


def operation_of(message: Any) -> str:
    return {
        "GetPrice": "get_price", "GetAccountInfo": "get_account_info", "GetPositions": "positions",
        "GetOrders": "orders", "PlaceOrder": "place_order", "Connect": "connect",
        "Disconnect": "disconnect", "Reconnect": "reconnect",
    }.get(type(message).__name__, getattr(message, "operation", None) or _change_operation(message))


def _change_operation(message: Any) -> str:
    change = getattr(message, "change", None)
    return change.kind.value if change is not None else type(message).__name__
