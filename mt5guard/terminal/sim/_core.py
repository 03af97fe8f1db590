"""The simulated terminal's state and call plumbing (the API lives in ``simulated``).

Locking: ``_guard`` detects overlapping API calls (see :class:`CallGuard`) and is
only ever taken under ``_state_lock``; ``_state_lock`` protects every piece of state
for short sections and is never held while a call sleeps on the clock, so fault
scripting can always proceed.
"""

from __future__ import annotations

import hmac
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from mt5guard.clock import Clock
from mt5guard.secret import Secret
from mt5guard.terminal import constants as c
from mt5guard.terminal._call_guard import CallGuard
from mt5guard.terminal.records import Tick, TradeOrder, TradePosition
from mt5guard.terminal.sim._faults import FaultPlan, FaultScripting
from mt5guard.terminal.sim._ledger import Ledger
from mt5guard.terminal.sim._pending import sweep
from mt5guard.terminal.sim._persist import Book, load_book, save_book
from mt5guard.terminal.sim._quotes import QuoteBoard
from mt5guard.terminal.sim._requests import parse_request
from mt5guard.terminal.sim._selectors import group_matcher
from mt5guard.terminal.sim._trade_server import TradeServer
from mt5guard.terminal.sim.symbols import DEFAULT_SYMBOLS, SymbolSpec

#: What last_error() answers for each code: the texts of the 5.0.6231 module's core.
LAST_ERROR_TEXTS: Mapping[int, str] = {
    c.RES_S_OK: "Success",
    c.RES_E_FAIL: "Terminal: Call failed",
    c.RES_E_INVALID_PARAMS: "Invalid arguments",
    c.RES_E_NO_MEMORY: "Terminal: Out of memory",
    c.RES_E_NOT_FOUND: "Terminal: Not found",
    c.RES_E_INVALID_VERSION: "Terminal: Incompatible versions, please install the latest "
                             "version of Terminal and Python module",
    c.RES_E_AUTH_FAILED: "Terminal: Authorization failed",
    c.RES_E_UNSUPPORTED: "Terminal: Unsupported function",
    c.RES_E_AUTO_TRADING_DISABLED: "Auto-Trading using Python API disabled in Terminal",
    c.RES_E_INTERNAL_FAIL: "IPC call failed",
    c.RES_E_INTERNAL_FAIL_SEND: "IPC send failed",
    c.RES_E_INTERNAL_FAIL_RECEIVE: "IPC recv failed",
    c.RES_E_INTERNAL_FAIL_INIT: "IPC initialize failed, MetaTrader 5 x64 not found",
    c.RES_E_INTERNAL_FAIL_CONNECT: "No IPC connection",
    c.RES_E_INTERNAL_FAIL_TIMEOUT: "IPC timeout",
}


def error(code: int) -> tuple[int, str]:
    """``(code, text)`` as ``last_error()`` answers it."""
    return code, LAST_ERROR_TEXTS[code]


OK = error(c.RES_S_OK)
INVALID = error(c.RES_E_INVALID_PARAMS)
NOT_FOUND = error(c.RES_E_NOT_FOUND)
AUTH_FAILED = error(c.RES_E_AUTH_FAILED)
NOT_INSTALLED = error(c.RES_E_INTERNAL_FAIL_INIT)
NO_IPC = error(c.RES_E_INTERNAL_FAIL_CONNECT)
IPC_TIMEOUT = error(c.RES_E_INTERNAL_FAIL_TIMEOUT)

_R = TypeVar("_R", TradePosition, TradeOrder)


def invalid(field: str) -> tuple[int, str]:
    """The last_error for a bad argument: (-2, 'Invalid "<field>" argument')."""
    return (c.RES_E_INVALID_PARAMS, f'Invalid "{field}" argument')


def _bad_filter(symbol: object, group: object, ticket: object) -> str | None:
    for name, value in (("symbol", symbol), ("group", group)):
        if value is not None and not isinstance(value, str):
            return name
    if ticket is not None and (isinstance(ticket, bool) or not isinstance(ticket, int)):
        return "ticket"
    return None


class _Calls(Counter[str]):
    """``calls``: a Counter whose items dict's own code sets. Counter's ``__delitem__`` (in
    Python) makes CPython look ``__setitem__`` up and call it for every ``calls[name] += 1``
    (~750 instructions more a call); without it, deleting a name never counted is a
    KeyError, as in a dict."""

    __delitem__ = dict.__delitem__  # type: ignore[assignment]  # dict[str, int].__delitem__


class TerminalCore(FaultScripting):
    """State shared by the API methods: connection, account, quotes and faults."""

    def __init__(
        self,
        clock: Clock,
        *,
        login: int = 5001,
        password: str | None = None,
        server: str = "MetaQuotes-Demo",
        balance: float = 10_000.0,
        currency: str = "USD",
        symbols: Mapping[str, SymbolSpec] | None = None,
        seed: int = 1,
        call_latency: float = 0.0,
        leverage: int = 100,
        ledger_path: str | None = None,
    ) -> None:
        specs = dict(DEFAULT_SYMBOLS if symbols is None else symbols)
        for name, spec in specs.items():
            if spec.name != name:
                raise ValueError(f"symbol key {name!r} does not match its spec {spec.name!r}")
        self._clock = clock
        self._login = login
        self._password = None if password is None else Secret(password)
        self._server = server
        self._call_latency = call_latency
        self._specs = specs
        self._symbol_names = frozenset(specs)
        self._guard = CallGuard()
        self._state_lock = threading.RLock()
        self._faults = FaultPlan()
        self._ipc_connected = False
        self._authorized = False
        self._selected: set[str] = set()
        self._books: set[str] = set()  # market_book_add subscriptions
        self._last_error: tuple[int, str] = OK
        self._book = Book()  # the executed requests, and those on their way (ledger_path)
        self.calls: Counter[str] = _Calls()
        self._api_calls: dict[str, _ApiCall] = {}
        # The probe's three calls when one may wait (see SimulatedTerminal.terminal_info):
        # ``with self._terminal_info_call as hung:`` is ``with self._api("terminal_info") as
        # hung, self._state_lock:`` in one context, kept at hand.
        self._terminal_info_call = _HeldCall(self, "terminal_info")
        self._account_info_call = _HeldCall(self, "account_info")
        self._symbol_info_tick_call = _HeldCall(self, "symbol_info_tick")
        self._quotes = QuoteBoard(specs, seed, clock.monotonic(), clock.now())
        self._ledger = Ledger(specs, balance=balance, currency=currency, leverage=leverage,
                              quote=self._tick)
        self._trade = TradeServer(self._ledger, lambda: int(self._clock.now().timestamp() * 1000))
        self._ledger_path = ledger_path
        if ledger_path is not None:
            self._book = load_book(ledger_path, self._ledger, self._trade)
            if self._book.arriving:
                self._arrive()

    def __repr__(self) -> str:
        return (
            f"SimulatedTerminal(login={self._login}, server={self._server!r}, "
            f"connected={self.connected})"
        )

    # -- introspection for tests ---------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the client's IPC connection is up (initialized, nothing dropped since)."""
        with self._state_lock:
            f = self._faults
            f.expire(self._clock.monotonic())
            return self._ipc_connected and not f.process_down and not f.link_broken

    def sent_orders(self) -> list[dict[str, Any]]:
        """Copies of the order_send requests the server executed, in order.

        Includes executions whose reply was lost; excludes rejected requests.
        Two equal entries here are a duplicate order.
        """
        with self._state_lock:
            return [dict(request) for request in self._book.sent]

    # -- plumbing ------------------------------------------------------------

    def _persist(self) -> None:
        """Save the book (with ``ledger_path``) after a request changed it; under the lock."""
        if self._ledger_path is not None:
            save_book(self._ledger_path, self._ledger, self._trade, self._book)

    def _arrive(self) -> None:
        """Requests sent late by a process that died before they arrived reach the server
        now (see ``send_next_order_late``): each executes, or is refused, once."""
        with self._state_lock:
            while self._book.arriving:
                request = self._book.arriving.pop(0)
                result = self._trade.execute(parse_request(dict(request)))
                if result.retcode in (c.TRADE_RETCODE_DONE, c.TRADE_RETCODE_PLACED):
                    self._book.sent.append(dict(request))
            self._persist()

    def _api(self, name: str) -> _ApiCall:
        """Count, guard, hang or delay one call: ``with self._api(name) as hung:``."""
        api = self._api_calls.get(name)  # one per name: it holds no state of a call
        if api is None:
            api = self._api_calls[name] = _ApiCall(self, name)
        return api

    def _sweep_pending(self) -> None:
        """Let the server expire and trigger pending orders at the current ticks."""
        with self._state_lock:
            if self._ledger.orders and sweep(
                    self._ledger, int(self._clock.now().timestamp() * 1000),
                    lambda: next(self._trade._deal_tickets)):
                self._persist()

    def _set_error(self, error: tuple[int, str]) -> None:
        with self._state_lock:
            self._last_error = error

    def _linked(self, *, authorized: bool = False) -> bool:
        """Whether the call may proceed; sets -10004 (or -6) when it may not."""
        f = self._faults  # as connected checks it: this runs on every call
        if not (self._ipc_connected and not f.process_down and not f.link_broken):
            self._last_error = NO_IPC
            return False
        if authorized and (self._faults.auth_revoked or not self._authorized):
            self._last_error = AUTH_FAILED
            return False
        return True

    def _tick(self, symbol: str) -> Tick:
        faults = self._faults  # quotes_frozen(symbol), inlined: every probe reads a tick
        frozen = faults.server_offline or symbol in faults.stale
        return self._quotes.tick(symbol, self._clock.now(), frozen)

    def _credentials_ok(self, login: int, password: str, server: str) -> bool:
        if self._faults.auth_revoked or self._faults.server_offline:
            return False
        if login != self._login or server != self._server:
            return False
        return self._password is None or hmac.compare_digest(
            password.encode(), self._password.reveal().encode()
        )

    @staticmethod
    def _bad_login_args(login: object, password: object, server: object, timeout: object) -> str:
        for name, value, kind in (
            ("login", login, int),
            ("password", password, str),
            ("server", server, str),
            ("timeout", timeout, int),
        ):
            if isinstance(value, bool) or not isinstance(value, kind):
                return name
        return "timeout" if isinstance(timeout, int) and timeout <= 0 else ""

    def _initialize_refusal(
        self, login: object, password: object, server: object, timeout: object
    ) -> tuple[int, str] | None:
        """Why ``initialize`` fails before trying to log in, if it does."""
        bad = self._bad_login_args(login, password, server, timeout)
        if bad:
            return invalid(bad)
        if self._faults.process_down:
            return NOT_INSTALLED
        if self._faults.link_broken:
            return NO_IPC
        return None

    def _selected_spec(self, symbol: object) -> SymbolSpec | None:
        if isinstance(symbol, str) and symbol in self._selected:
            return self._specs[symbol]
        self._last_error = NOT_FOUND
        return None

    def _filtered(
        self,
        name: str,
        records: Callable[[], list[_R]],
        symbol: object,
        group: object,
        ticket: object,
    ) -> tuple[_R, ...] | None:
        with self._api(name) as hung, self._state_lock:
            if hung or not self._linked():
                return None
            bad = _bad_filter(symbol, group, ticket)
            if bad is not None:
                self._last_error = invalid(bad)
                return None
            matches = group_matcher(group) if isinstance(group, str) else None
            self._last_error = OK
            return tuple(
                r
                for r in records()
                if (symbol is None or r.symbol == symbol)
                and (matches is None or matches(r.symbol))
                and (ticket is None or r.ticket == ticket)
            )


class _ApiCall:
    """The context of the calls of one API function (it keeps no state of a call, so
    one serves them all); a plain class because it runs on every call.

    ``__enter__`` counts the call, takes the concurrent-call guard, then
    sleeps out a scripted hang (returning True, with -10005 set) or the
    configured latency; ``__exit__`` releases the guard.
    """

    __slots__ = ("core", "name")

    def __init__(self, core: TerminalCore, name: str) -> None:
        self.core = core
        self.name = name

    def __enter__(self) -> bool:
        core, name = self.core, self.name
        with core._state_lock:  # one section: this runs on every call
            core.calls[name] += 1  # counted even when the guard refuses the call
            core._guard.acquire(name)
            try:
                faults = core._faults
                if faults.down_until is not None or faults.broken_until is not None:
                    faults.expire(core._clock.monotonic())
                hang = faults.take_hang(name) if faults.hangs.get(name) else None
            except BaseException:
                core._guard.release()
                raise
            if hang is None and not core._call_latency and not core._ledger.orders:
                return False  # the common call: nothing to wait for, nothing to sweep
        try:
            return self._wait(hang)
        except BaseException:
            core._guard.release()
            raise

    def _wait(self, hang: float | None) -> bool:
        """Sleep out ``hang`` (True, with -10005 set) or the latency, then let pending
        orders trigger; without the state lock."""
        core, name = self.core, self.name
        if hang is not None:
            core._clock.sleep(hang)
            core._set_error(IPC_TIMEOUT)
            return True
        if core._call_latency > 0 and name != "last_error":
            core._clock.sleep(core._call_latency)
        if name != "last_error":
            core._sweep_pending()
        return False

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self.core._guard.release()


class _HeldCall(_ApiCall):
    """:class:`_ApiCall` that returns from ``__enter__`` holding the state lock, which
    ``__exit__`` releases: the call's block runs under it.

    Its common call (no hang, latency or pending order) takes the state lock once
    and keeps it to the end, and does not take the concurrent-call guard: it only
    checks that the guard is free (raising :class:`ConcurrentCallError` as taking it
    would). Taking it would change nothing another thread can see: the guard is only
    ever taken under the state lock, which the whole call holds, and the call's block
    makes no other API call. A call that waits (a hang or the latency) takes the
    guard, sleeps without the state lock, takes the state lock again, and gives the
    guard back after it; ``__exit__`` tells the two apart by the guard being held
    (under the state lock, only the waiting call's own can be).
    """

    __slots__ = ()

    def __enter__(self) -> bool:
        core, name = self.core, self.name
        state, guard = core._state_lock, core._guard
        state.acquire()
        try:
            core.calls[name] += 1  # counted even when the guard refuses the call
            if guard.lock.locked():  # a waiting call holds it (or held it until just now)
                guard.acquire(name)  # raises ConcurrentCallError, or takes it if freed since
                guard.release()
            faults = core._faults
            if faults.down_until is not None or faults.broken_until is not None:
                faults.expire(core._clock.monotonic())
            hang = faults.take_hang(name) if faults.hangs.get(name) else None
            if hang is None and not core._call_latency and not core._ledger.orders:
                return False  # the common call: nothing to wait for, nothing to sweep
            guard.acquire(name)  # free: checked above, under the state lock held since
        except BaseException:
            state.release()
            raise
        state.release()
        try:
            hung = self._wait(hang)
        except BaseException:
            guard.release()
            raise
        state.acquire()
        return hung

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        core = self.core
        guard = core._guard
        if guard.lock.locked():  # this call waited, holding it (a common call never does)
            core._state_lock.release()
            guard.release()
        else:
            core._state_lock.release()
