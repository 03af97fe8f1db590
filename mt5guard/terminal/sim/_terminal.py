"""SimulatedTerminal: a MetaTrader 5 terminal in simulated time, with scriptable faults.

It answers like the real ``MetaTrader5`` module (None/False plus
``last_error()``, the real codes, messages and record fields) and takes all
of its time from the injected :class:`~mt5guard.clock.Clock`: a blocking call
(a hang, an ``initialize`` timeout, ``call_latency``) sleeps on that clock.

Choices where the real terminal is ambiguous:

- Data calls for a known symbol that is not selected (``symbol_select(s,
  True)``) fail like an unknown one: None with (-4, 'Terminal: Not found').
- ``order_send`` echoes the request as a :class:`TradeRequest` named tuple.
  Its arguments are checked exactly as the module checks them (see
  ``_requests``: floats only for prices and volume, 29 characters for
  symbol and comment, unknown keys ignored). Market orders fill at the
  current ask (buy) or bid (sell) whatever ``price`` says, with the
  ``type_filling`` the symbol allows (10030 otherwise). Pending orders
  trigger and expire at the current tick before each call (``_pending``);
  CLOSE_BY is not simulated (retcode 10013).
- The account is a hedging demo account: a market request opens a new
  position unless it names ``position``, which it then closes (fully or in
  part), realising the profit into the balance.
- While the trade server is offline, initialize and login fail with -6, as
  a real terminal that cannot reach the server does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mt5guard.terminal import records as rec
from mt5guard.terminal._call_guard import ConcurrentCallError
from mt5guard.terminal.constants import (
    TRADE_RETCODE_CLIENT_DISABLES_AT,
    TRADE_RETCODE_CONNECTION,
    TRADE_RETCODE_DONE,
    TRADE_RETCODE_PLACED,
    TRADE_RETCODE_TRADE_DISABLED,
)
from mt5guard.terminal.protocol import BookRow, DateArg, HistoryRow, TerminalCalls
from mt5guard.terminal.sim._core import (
    AUTH_FAILED,
    IPC_TIMEOUT,
    NO_IPC,
    NOT_FOUND,
    OK,
    invalid,
)
from mt5guard.terminal.sim._done_orders import select_orders
from mt5guard.terminal.sim._outside import OutsideTrading
from mt5guard.terminal.sim._requests import InvalidArgument, parse_request
from mt5guard.terminal.sim._selectors import select_deals
from mt5guard.terminal.sim._snapshots import (
    TERMINAL_RECORDS,
    VERSION,
    account_record,
    symbol_record,
)

__all__ = ["ConcurrentCallError", "SimulatedTerminal"]


class SimulatedTerminal(OutsideTrading, TerminalCalls):
    """An in-process MetaTrader 5 terminal with one demo hedging account.

    ``SimulatedTerminal(clock, *, login=5001, password=None,
    server="MetaQuotes-Demo", balance=10_000.0, currency="USD", symbols=None,
    seed=1, call_latency=0.0, leverage=100)``. ``password=None`` accepts any
    password; a password is kept as a :class:`~mt5guard.secret.Secret` and
    never appears in a repr. ``symbols`` defaults to :data:`DEFAULT_SYMBOLS`;
    ``seed`` fixes the quote walks. ``call_latency`` is seconds of clock time
    every call (except ``last_error``) takes; 0 means no sleep.
    ``ledger_path`` (a JSON file) makes the account's book (balance, positions,
    orders, deals, history, ticket counters) outlive the process, as a real
    trade server's does: it is loaded at construction and saved after every
    executed request, before ``order_send`` returns.

    Two threads inside API calls at once raise :class:`ConcurrentCallError`.
    ``calls`` counts every attempted call by function name, failed ones too.
    Fault scripting: see :class:`~mt5guard.terminal.sim._faults.FaultScripting`.
    """

    def prepare_quotes(self, *symbols: str) -> None:
        """Build the price hour each of ``symbols`` is first read from, on this thread.

        Not an API call (not counted, no fault applies); quotes stay the same. An hour
        takes ~25 numpy calls, and numpy lets go of the GIL in each: built by a
        session's first probe while 1,000 accounts start, each call handed the GIL to
        another starting actor and waited to get it back (26 context switches, ~1.2 ms
        of CPU a terminal, against ~0.3 ms where no thread competes; issue 21).
        """
        with self._state_lock:
            for symbol in symbols:
                self._quotes.prepare(symbol)

    # -- connection ----------------------------------------------------------

    def _initialize(self, path: str | None, login: int, password: str, server: str,
                    timeout: int, portable: bool) -> bool:
        """Attach and log in; ``path`` and ``portable`` are ignored.

        With :meth:`initialize_times_out` it sleeps ``timeout`` milliseconds
        of clock time, then fails with -10005.
        """
        with self._api("initialize") as hung:
            if hung:
                return False
            with self._state_lock:
                error = self._initialize_refusal(login, password, server, timeout)
                times_out = self._faults.init_times_out
                self._ipc_connected = self._authorized = False
                if error is not None:
                    self._last_error = error
                    return False
            if times_out:
                self._clock.sleep(timeout / 1000)
                self._set_error(IPC_TIMEOUT)
                return False
            with self._state_lock:
                if not self._credentials_ok(login, password, server):
                    self._last_error = AUTH_FAILED
                    return False
                self._ipc_connected = self._authorized = True
                self._last_error = OK
                return True

    def login(self, login: int, *, password: str, server: str, timeout: int = 60000) -> bool:
        """Log the open connection in again; a failure leaves it logged out (-6)."""
        with self._api("login") as hung, self._state_lock:
            if hung or not self._linked():
                return False
            bad = self._bad_login_args(login, password, server, timeout)
            if bad:
                self._last_error = invalid(bad)
                return False
            self._authorized = self._credentials_ok(login, password, server)
            self._last_error = OK if self._authorized else AUTH_FAILED
            return self._authorized

    def shutdown(self) -> bool:
        """Close the IPC connection; True, as the real module always answers."""
        with self._api("shutdown") as hung, self._state_lock:
            if not hung:
                self._ipc_connected = self._authorized = False
                self._last_error = OK
            return True

    def version(self) -> tuple[int, int, str] | None:
        """``(500, 5120, '20 Jun 2025')``."""
        with self._api("version") as hung, self._state_lock:
            if hung or not self._linked():
                return None
            self._last_error = OK
            return VERSION

    def last_error(self) -> tuple[int, str]:
        """The error left by the previous call; ``(1, 'Success')`` after a success."""
        with self._api("last_error"), self._state_lock:
            return self._last_error

    # The health probe's three calls (every 30 s on every session) go a short way while
    # nothing can make them wait (_calm): their answer under the state lock taken once,
    # as _HeldCall's common call gives it without its context's two frames (__enter__,
    # __exit__). Anything else, or a change meanwhile, is _HeldCall's to count and check
    # afresh. Each answer checks the link itself (_linked, inlined): one frame less.

    def _calm(self, name: str) -> bool:
        """Take the state lock and count call ``name`` if nothing can make it wait (no
        deadline to end, no hang scripted for it, no latency, no pending order to sweep,
        the call guard free): True, the lock kept for the call's answer. Otherwise False,
        the lock given back and nothing counted: the call is _HeldCall's."""
        state = self._state_lock
        state.acquire()
        faults = self._faults
        if (faults.down_until is None and faults.broken_until is None
                and name not in faults.hangs and not self._call_latency
                and not self._ledger.orders and not self._guard.lock.locked()):
            self.calls[name] += 1
            return True
        state.release()
        return False

    def terminal_info(self) -> rec.TerminalInfo | None:
        """``connected`` is False while :meth:`server_offline` is in force."""
        if self._calm("terminal_info"):
            try:
                return self._terminal_answer()
            finally:
                self._state_lock.release()
        with self._terminal_info_call as hung:
            return None if hung else self._terminal_answer()

    def _terminal_answer(self) -> rec.TerminalInfo | None:
        faults = self._faults
        if not (self._ipc_connected and not faults.process_down and not faults.link_broken):
            self._last_error = NO_IPC
            return None
        self._last_error = OK
        return TERMINAL_RECORDS[not faults.server_offline][not faults.autotrading_off]

    def account_info(self) -> rec.AccountInfo | None:
        """Money at current prices: equity = balance + floating profit."""
        if self._calm("account_info"):
            try:
                return self._account_answer()
            finally:
                self._state_lock.release()
        with self._account_info_call as hung:
            return None if hung else self._account_answer()

    def _account_answer(self) -> rec.AccountInfo | None:
        faults = self._faults
        if not (self._ipc_connected and not faults.process_down and not faults.link_broken):
            self._last_error = NO_IPC
            return None
        if faults.auth_revoked or not self._authorized:
            self._last_error = AUTH_FAILED
            return None
        self._last_error = OK
        return account_record(self._ledger, self._login, self._server, not faults.investor)

    # -- symbols -------------------------------------------------------------

    def symbol_select(self, symbol: str, enable: bool, /) -> bool:
        """Select (or deselect) a known symbol; unknown -> False with -4."""
        with self._api("symbol_select") as hung, self._state_lock:
            if hung or not self._linked():
                return False
            if not isinstance(symbol, str):
                self._last_error = invalid("symbol")
                return False
            if symbol not in self._specs:
                self._last_error = NOT_FOUND
                return False
            if enable:
                self._selected.add(symbol)
            else:
                self._selected.discard(symbol)
            self._last_error = OK
            return True

    def symbol_info(self, symbol: str, /) -> rec.SymbolInfo | None:
        """Specification and prices of a selected symbol."""
        with self._api("symbol_info") as hung, self._state_lock:
            if hung or not self._linked() or (spec := self._selected_spec(symbol)) is None:
                return None
            self._last_error = OK
            return symbol_record(spec, self._tick(spec.name), self._ledger)

    def symbol_info_tick(self, symbol: str, /) -> rec.Tick | None:
        """The last tick (a new one every 0.25 s of clock time unless stale)."""
        if self._calm("symbol_info_tick"):
            try:
                return self._tick_answer(symbol)
            finally:
                self._state_lock.release()
        with self._symbol_info_tick_call as hung:
            return None if hung else self._tick_answer(symbol)

    def _tick_answer(self, symbol: object) -> rec.Tick | None:
        faults = self._faults
        if not (self._ipc_connected and not faults.process_down and not faults.link_broken):
            self._last_error = NO_IPC
            return None
        if not (isinstance(symbol, str) and symbol in self._selected):  # _selected_spec's
            self._last_error = NOT_FOUND
            return None
        self._last_error = OK
        name = self._specs[symbol].name  # _tick(name), inlined
        return self._quotes.tick(name, self._clock.now(), faults.server_offline or name in faults.stale)

    # -- trading -------------------------------------------------------------

    def order_check(self, request: dict[str, Any]) -> rec.OrderCheckResult | None:
        """Validate without sending; retcode 0 "Done" passes."""
        with self._api("order_check") as hung, self._state_lock:
            if hung or not self._linked(authorized=True) or (parsed := self._parsed(request)) is None:
                return None
            self._last_error = OK
            return self._trade.check(parsed)

    def order_send(self, request: dict[str, Any]) -> rec.OrderSendResult | None:
        """Send to the simulated trade server.

        After the connection, authorization and argument checks, faults apply
        in this order: server offline (10031), scripted retcodes, a request
        sent late (``send_next_order_late``), a lost reply; otherwise the
        server's own verdict and fill.
        """
        with self._api("order_send") as hung, self._state_lock:
            if hung or not self._linked(authorized=True) or (parsed := self._parsed(request)) is None:
                return None
            faults = self._faults
            self._last_error = OK
            if faults.server_offline:
                return self._trade.refuse(parsed, TRADE_RETCODE_CONNECTION)
            if faults.autotrading_off or faults.investor:
                return self._trade.refuse(parsed, TRADE_RETCODE_CLIENT_DISABLES_AT
                                          if faults.autotrading_off else TRADE_RETCODE_TRADE_DISABLED)
            if faults.order_retcodes:
                return self._trade.refuse(parsed, faults.order_retcodes.popleft())
            if self._book.late_next:  # on its way: executes when it arrives (send_next_order_late)
                self._book.late_next -= 1
                self._book.arriving.append(dict(request))
                self._persist()
                self._last_error = IPC_TIMEOUT
                return None
            lost = faults.lost_replies.popleft() if faults.lost_replies else None
            if lost is not None and not lost.executed:
                result = None
            else:
                result = self._trade.execute(parsed)
                if result.retcode in (TRADE_RETCODE_PLACED, TRADE_RETCODE_DONE):
                    self._book.sent.append(dict(request))
                    self._persist()
            if lost is None:
                return result
            if lost.retcode is None:
                self._last_error = lost.last_error or IPC_TIMEOUT
                return None
            return self._trade.refuse(parsed, lost.retcode)

    def _parsed(self, request: dict[str, Any]) -> rec.TradeRequest | None:
        """The request parsed, or None with ``(-2, why)`` left in last_error, as the module does."""
        try:
            return parse_request(request)
        except InvalidArgument as exc:
            self._last_error = (-2, exc.message)
            return None

    # -- book ----------------------------------------------------------------

    def _book_query(self, name: str, kind: type[BookRow], symbol: str | None, group: str | None,
                    ticket: int | None) -> tuple[BookRow, ...] | None:
        """All filters given must match (``ticket`` = position or order ticket)."""
        rows: Callable[[], list[Any]] = (self._ledger.position_records
                                         if kind is rec.TradePosition else self._ledger.order_records)
        return self._filtered(name, rows, symbol, group, ticket)

    def _history_query(self, name: str, kind: type[HistoryRow], date_from: DateArg | None,
                       date_to: DateArg | None, group: str | None, ticket: int | None,
                       position: int | None) -> tuple[HistoryRow, ...] | None:
        """Deals with date_from <= time <= date_to, orders with date_from <= time_setup <=
        date_to; dates are datetimes (naive = UTC) or epoch seconds, ``group`` filters symbols."""
        select: Callable[..., list[Any]] = select_deals if kind is rec.TradeDeal else select_orders
        rows: Callable[[], list[Any]] = (lambda: self._ledger.deals) if kind is rec.TradeDeal \
            else (lambda: self._ledger.history_orders)
        return self._history_get(name, select, rows, date_from, date_to, group, ticket, position)
