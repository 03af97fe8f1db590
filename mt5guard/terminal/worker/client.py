"""WorkerTerminal: the Terminal protocol, answered by a worker process.

The owner (the SessionActor) calls :meth:`start` before its first call and
:meth:`close` when it ends. Every call is one request with an id and a
deadline on the injected clock: the owner's request deadline if it set one
(:meth:`set_deadline`), else ``call_timeout`` seconds (``init_timeout`` for
``initialize``/``login``). Past the deadline the worker is killed by its PID
and the call fails like MT5's own IPC timeout: ``None``/``False`` with
``last_error() == (-10005, ...)``. A worker that dies or closes the
connection mid-call fails the call with ``(-10004, ...)``. Either way
:attr:`lost` says why, and the worker stays gone until :meth:`start` (a
bridge link reconnects in ``initialize``). A reply that is not a reply
raises :class:`~mt5guard.errors.MT5DataError`.

Waiting reads the connection in slices of at most ``_SLICE`` real seconds and
re-reads the clock between them, so the deadline is the clock's (on Linux one
``recv(2)`` a slice, its wait bounded by the kernel: see ``links.receiver``).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from typing import Any, cast

from mt5guard.clock import Clock
from mt5guard.errors import MT5ConnectionError
from mt5guard.terminal.adapters._base import ModuleTerminal, Record
from mt5guard.terminal.bridge._channel import KeyRefused, ProtocolRefused
from mt5guard.terminal.records import Tick
from mt5guard.terminal.worker.links import Link, receiver
from mt5guard.terminal.worker.pushed import PushedQuotes
from mt5guard.terminal.worker.wire import (
    Polled,
    Reply,
    ShapeTable,
    decode_answer,
    decode_result,
    encode_request,
)

__all__ = ["WorkerCallError", "WorkerTerminal"]

_log = logging.getLogger("mt5guard.worker")
_SLICE = 0.5
_SHUTDOWN_BUDGET = 2.0  # seconds a graceful shutdown() may take before the worker is killed
_BOOL_CALLS = frozenset({"initialize", "login", "symbol_select"})
_OWN_BUDGET = frozenset({"initialize", "login", "shutdown"})  # not call_timeout (see _budget)
_OK = (1, "Success")


class WorkerCallError(RuntimeError):
    """The worker's terminal raised (a bug or a bad argument), not an MT5 failure."""


class WorkerTerminal(PushedQuotes, ModuleTerminal):
    """A terminal in a worker process, reached through a :class:`Link`.

    Its protocol calls are :class:`~mt5guard.terminal.adapters._base.ModuleTerminal`'s:
    each is one :meth:`_call` by the module's name, and the wire decoder has built
    the records and arrays by the time a reply is returned.
    """

    def __init__(self, opener: Callable[[float], Link], clock: Clock, *, name: str,
                 call_timeout: float = 60.0, init_timeout: float = 70.0,
                 start_timeout: float = 10.0) -> None:
        self._opener = opener
        self._path = None  # the worker side knows its terminal
        self._clock = clock
        self.name = name
        self._call_timeout = call_timeout
        self._init_timeout = init_timeout
        self._start_timeout = start_timeout
        self._link: Link | None = None
        self._receive: Callable[[float], bytes | None] = lambda timeout: None  # set with each link
        self._lock = threading.Lock()  # guards _link/_lost against kill() from other threads
        #: Why the worker is gone since :meth:`start`, or None while it serves (written
        #: under ``_lock``; a plain attribute: every guarded read looks at it twice).
        self.lost: str | None = "not started"
        #: The owner's current request deadline (clock monotonic seconds), or None: what
        #: :meth:`set_deadline` sets (a plain attribute: the hot read sets it twice a call).
        self.deadline: float | None = None
        self._ident = 0
        self._last_error: tuple[int, str] = _OK
        self._shapes = ShapeTable()
        self._init_pushed()
        self.starts = 0  # workers started (or bridge sessions opened) so far

    def __repr__(self) -> str:
        return f"WorkerTerminal({self.name!r}, pid={self.pid})"

    # ownership ----------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """PID of the local worker process (None for a bridge or when stopped)."""
        link = self._link
        return None if link is None else link.pid

    @property
    def requests(self) -> int:
        """Requests sent to workers so far (pushed quotes cost none)."""
        return self._ident

    def start(self) -> None:
        """Spawn (or connect to) a fresh worker, ending any previous one.

        Raises :class:`~mt5guard.errors.MT5ConnectionError` if it cannot.
        """
        self.close()
        try:
            link = self._opener(self._start_timeout)
        except (multiprocessing.AuthenticationError, KeyRefused) as exc:  # no retry fixes a wrong key
            raise MT5ConnectionError(
                operation="start worker", retryable=False,
                detail=f"{self.name}: the terminal server refused terminal.key ({exc}); set it "
                       "to the value of the server's MT5GUARD_BRIDGE_KEY") from exc
        except ProtocolRefused as exc:  # nor another mt5guard version on the other side
            raise MT5ConnectionError(operation="start worker", retryable=False,
                                     detail=f"{self.name}: {exc}") from exc
        except Exception as exc:
            raise MT5ConnectionError(operation="start worker",
                                     detail=f"terminal worker for {self.name} did not start: {exc}"
                                     ) from exc
        with self._lock:
            self._link, self.lost, self._last_error = link, None, _OK
            self._receive = receiver(link.conn, _SLICE)
            self._shapes = ShapeTable()  # record shapes are declared per connection
            self._pushed.clear()
            self.starts += 1
        _log.debug("%s: %s started", self.name, link.describe())

    def close(self) -> None:
        """End the worker (killed by PID) and release the connection. Idempotent."""
        with self._lock:
            link, self._link = self._link, None
            self.lost = self.lost or "closed"
        if link is not None:
            link.close()

    def kill(self, reason: str = "killed") -> None:
        """Kill the worker now, from any thread; the call in flight fails at once."""
        with self._lock:
            link = self._link
            if link is not None and self.lost is None:
                self.lost = reason
        if link is not None:
            link.kill()

    def set_deadline(self, deadline: float | None) -> None:
        """The owner's current request deadline (clock monotonic seconds), or None."""
        self.deadline = deadline

    # the call -----------------------------------------------------------------

    def _budget(self, name: str, kwargs: dict[str, Any]) -> float:
        """Seconds ``initialize``/``login`` (their own timeout) or ``shutdown`` may take."""
        if name == "shutdown":
            return min(self._call_timeout, _SHUTDOWN_BUDGET)
        own = self._init_timeout
        if isinstance(kwargs.get("timeout"), int):
            # a longer initialize (a terminal's first start) keeps the same grace past its timeout
            grace = max(0.0, self._init_timeout - self._call_timeout)
            own = max(own, kwargs["timeout"] / 1000 + grace)
        return own

    def _fail(self, name: str, code: int, text: str, link: Link | None = None) -> Any:
        if link is None or self._link is link:  # a replaced link's call changes nothing now
            self._last_error = (code, text)
        return False if name in _BOOL_CALLS else None

    def _lose(self, name: str, code: int, text: str, link: Link | None = None) -> Any:
        with self._lock:
            if link is None or self._link is link:
                self.lost = self.lost or text
        return self._fail(name, code, text, link)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """One request on the current link, answered on that link only.

        A call still waiting when its link is replaced (an abandoned session
        incarnation, still blocked, while the restarted one starts a new
        worker) ends as lost, and touches neither the new link's ``lost`` nor
        its ``last_error``: one worker client state per incarnation.
        """
        link = self._link
        if link is None or self.lost is not None:
            if not (name == "initialize" and link is not None and link.reconnectable):
                return self._fail(name, -10004, f"No IPC connection: terminal worker {self.lost}")
            self.start()  # a bridge whose connection ended: a new session, in place
            link = self._link
            assert link is not None
        receive, shapes = self._receive, self._shapes
        now = self._clock.monotonic()
        own = self._call_timeout if name not in _OWN_BUDGET else self._budget(name, kwargs)
        deadline, owner = now + own, self.deadline
        if owner is not None and owner < deadline:
            deadline = owner
        budget = deadline - now
        self._ident = ident = self._ident + 1
        try:
            link.conn.send_bytes(encode_request(ident, deadline, budget if budget > 0.0 else 0.0,
                                                name, args, kwargs))
        except (OSError, EOFError, ValueError):
            return self._lose(name, -10004, f"No IPC connection: {link.describe()} is gone", link)
        while True:
            left = deadline - self._clock.monotonic()
            if left <= 0:
                if self._link is link:
                    self.kill(f"killed after its deadline in {name}()")
                return self._fail(name, -10005, f"IPC timeout: no reply to {name}() within "
                                  f"{deadline - now:.3g} s; {link.describe()} killed", link)
            try:
                raw = receive(left if left < _SLICE else _SLICE)
            except (OSError, EOFError, ValueError):
                why = (self.lost if self._link is link else None) or "ended"
                return self._lose(name, -10004, f"No IPC connection: {link.describe()} {why} "
                                  f"during {name}()", link)
            if self._link is not link:
                return self._fail(name, -10004, f"No IPC connection: {link.describe()} was "
                                  f"replaced during {name}()", link)
            if raw is None:
                continue
            reply = decode_answer(raw, name, ident, shapes)
            kind = type(reply)
            if kind is not Reply:
                if kind is Polled:
                    self._keep_pushed(reply)
                    continue
                self._last_error = _OK  # the usual reply to this request, rebuilt
                return reply
            if reply.ident != ident:
                _log.debug("%s: dropped a late reply to request %s", self.name, reply.ident)
                continue
            if reply.tag == "ok":
                result = decode_result(name, reply.value, shapes)
                self._last_error = reply.last_error or _OK
                return result
            return self._settle(name, reply, link)

    def _settle(self, name: str, reply: Any, link: Link) -> Any:
        """A reply that is not ``ok``: the worker's timeout, its lost terminal, or an error."""
        if reply.tag == "timeout":
            return self._lose(name, -10005, f"IPC timeout: {reply.value}", link)
        if reply.tag == "lost":
            return self._lose(name, -10004, f"No IPC connection: {reply.value}", link)
        raise WorkerCallError(f"terminal worker: {name}() raised {reply.value}")

    # the Terminal protocol ------------------------------------------------------

    def shutdown(self) -> bool:
        """Close the worker's terminal connection (the worker keeps running); True, as MT5."""
        if self._link is not None and self.lost is None:
            self._call("shutdown")
        return True

    def last_error(self) -> tuple[int, str]:
        """The error of the previous call, kept on this side: no round trip."""
        return self._last_error

    def ping(self, payload: Any = None) -> Any:
        """A bare round trip through the worker (no terminal call); for benchmarks."""
        return self._call("ping", payload)

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        """The symbol's last tick (the hot read: the wire decoder built the record)."""
        tick: Tick | None = self._call("symbol_info_tick", symbol)
        return tick

    def symbols_total(self) -> int | None:
        """How many symbols the terminal has (not in the Terminal protocol)."""
        result: int | None = self._call("symbols_total")
        return result

    def _record(self, kind: type[Record], raw: Any) -> Record:
        return cast(Record, raw)  # the wire decoder already built the record
