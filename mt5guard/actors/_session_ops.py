"""The terminal calls behind each session request, with MT5's failure conventions.

Runs only on the SessionActor's thread. A call that returns None (or False)
becomes the typed error its ``last_error()`` code maps to; a reply that lacks
the fields we rely on becomes an :class:`MT5DataError`.
"""

from __future__ import annotations

import math
from typing import Any

from mt5guard.actors.orders import (
    JournalEntry,
    OrderJournal,
    find_outcome,
    trade_request,
    unknown_outcome,
)
from mt5guard.bus import EventBus
from mt5guard.clock import Clock
from mt5guard.config import AccountConfig
from mt5guard.errors import (
    MT5ConnectionError,
    MT5DataError,
    MT5Error,
    MT5TimeoutError,
    error_from_last_error,
    error_from_retcode,
)
from mt5guard.messages import OrderOutcome, OrderReconciled, OrderRequest, ProbeResult, Side
from mt5guard.terminal import Terminal
from mt5guard.terminal.constants import TRADE_RETCODE_TIMEOUT
from mt5guard.terminal.hung import TerminalHung

__all__ = ["OrderJournal", "TerminalOps"]

_UNKNOWN_AFTER_SEND = (MT5TimeoutError, MT5ConnectionError)


class TerminalOps:
    def __init__(self, terminal: Terminal, clock: Clock, account: AccountConfig) -> None:
        self._t = terminal
        self._clock = clock
        self._account = account
        self._selected: set[str] = set()

    # plumbing -------------------------------------------------------------

    def _call(self, operation: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        if result is None or result is False:
            code, message = self._t.last_error()
            raise error_from_last_error(code, message, operation)
        return result

    @staticmethod
    def _field(reply: Any, name: str, operation: str) -> Any:
        try:
            return getattr(reply, name)
        except AttributeError:
            raise MT5DataError(
                operation=operation, detail=f"terminal reply has no field {name!r}: {reply!r}"
            ) from None

    # connection -------------------------------------------------------------

    def connect(self) -> None:
        term = self._account.terminal
        password = term.password.reveal() if term.password is not None else ""
        self._selected.clear()
        self._call(
            "initialize", self._t.initialize, term.path, login=term.login, password=password,
            server=term.server, timeout=int(term.timeout * 1000), portable=term.portable,
        )
        for symbol in self._account.symbols:
            self.select(symbol)

    def login(self) -> None:
        """Log the open connection in again with the configured account."""
        term = self._account.terminal
        password = term.password.reveal() if term.password is not None else ""
        self._call("login", self._t.login, term.login, password=password, server=term.server,
                   timeout=int(term.timeout * 1000))

    def select(self, symbol: str) -> None:
        if symbol not in self._selected:
            self._call("symbol_select", self._t.symbol_select, symbol, True)
            self._selected.add(symbol)

    def forget(self, symbol: str) -> None:
        """The symbol was removed from Market Watch: select it again before use."""
        self._selected.discard(symbol)

    # reads ------------------------------------------------------------------

    def price(self, symbol: str) -> Any:
        self.select(symbol)
        tick = self._call("get_price", self._t.symbol_info_tick, symbol)
        bid = self._field(tick, "bid", "get_price")
        ask = self._field(tick, "ask", "get_price")
        if not (_finite(bid) and _finite(ask)) or bid <= 0 or ask < bid:
            raise MT5DataError(operation="get_price",
                               detail=f"implausible quote for {symbol}: bid={bid!r} ask={ask!r}")
        return tick

    def account_info(self) -> Any:
        info = self._call("get_account_info", self._t.account_info)
        self._field(info, "login", "get_account_info")
        return info

    def positions(self, symbol: str | None) -> tuple[Any, ...]:
        if symbol is None:
            return tuple(self._call("positions", self._t.positions_get))
        return tuple(self._call("positions", self._t.positions_get, symbol=symbol))

    def orders(self, symbol: str | None) -> tuple[Any, ...]:
        if symbol is None:
            return tuple(self._call("orders", self._t.orders_get))
        return tuple(self._call("orders", self._t.orders_get, symbol=symbol))

    # probe ------------------------------------------------------------------

    def probe(self, symbol: str, seq: int, max_tick_age: float) -> tuple[ProbeResult, MT5Error | None]:
        """terminal_info, account_info and one tick; the first counted error, if any."""
        started = self._clock.monotonic()
        connection_ok = auth_ok = data_ok = False
        error: MT5Error | None = None
        try:
            info = self._call("probe", self._t.terminal_info)
            connection_ok = bool(self._field(info, "connected", "probe"))
            self._call("probe", self._t.account_info)
            auth_ok = True
            tick = self.price(symbol)
            age = self._clock.now().timestamp() - self._field(tick, "time_msc", "probe") / 1000.0
            data_ok = connection_ok and age <= max_tick_age
        except MT5Error as err:
            error = err
        except (TypeError, ValueError, AttributeError) as exc:  # a reply not shaped like MT5's
            error = MT5DataError(operation="probe", detail=f"malformed terminal reply: {exc}")
        latency_ms = (self._clock.monotonic() - started) * 1000.0
        text = str(error) if error is not None else None
        result = ProbeResult(seq, connection_ok, auth_ok, data_ok, latency_ms, self._clock.now(),
                             text)
        return result, error

    # orders -----------------------------------------------------------------

    def place(self, order: OrderRequest, journal: OrderJournal, bus: EventBus) -> OrderOutcome:
        tick = self.price(order.symbol)
        price = float(tick.ask if order.side is Side.BUY else tick.bid)
        request = trade_request(order, price)
        check = self._call("order_check", self._t.order_check, request)
        rejected = error_from_retcode(int(check.retcode), str(check.comment), "order_check")
        if rejected is not None:
            raise rejected
        entry = journal.record_sending(order, self._clock.now())
        try:
            result = self._call("order_send", self._t.order_send, request)
        except TerminalHung as err:  # no connection left to read the outcome back through
            entry.state, entry.error = "unknown", err
            raise unknown_outcome(order, f"the send hung ({err.detail}); it is reconciled "
                                         "when the session has restarted") from err
        except _UNKNOWN_AFTER_SEND as err:  # the request may have reached the server
            entry.state, entry.error = "unknown", err
            return self._reconcile_or_raise(entry, bus, f"reply lost ({err.terminal_message})")
        except MT5Error as err:
            entry.state, entry.error = "done", err  # refused before execution
            raise
        retcode = int(result.retcode)
        if retcode == TRADE_RETCODE_TIMEOUT:
            entry.state = "unknown"
            return self._reconcile_or_raise(entry, bus, "the trade server timed out (10012)")
        failure = error_from_retcode(retcode, str(result.comment), "order_send")
        entry.state = "done"
        if failure is not None:
            entry.error = failure
            raise failure
        entry.outcome = OrderOutcome(
            order.client_order_id, retcode, int(result.order), int(result.deal),
            float(result.volume), float(result.price), str(result.comment),
        )
        return entry.outcome

    def _reconcile_or_raise(self, entry: JournalEntry, bus: EventBus, why: str) -> OrderOutcome:
        outcome = self.reconcile_entry(entry, bus)
        if outcome is None:
            raise unknown_outcome(entry.order, why)
        return outcome

    def reconcile_entry(self, entry: JournalEntry, bus: EventBus) -> OrderOutcome | None:
        """Read the order back from deals and open orders; publish what was found."""
        try:
            outcome = find_outcome(
                entry.order, entry.sent_at, self._clock.now(),
                lambda a, b: tuple(self._call("history_deals_get", self._t.history_deals_get, a, b)),
                lambda: tuple(self._call("orders_get", self._t.orders_get)),
            )
        except MT5Error:
            outcome = None
            found = "unknown"
        else:
            found = "unknown" if outcome is None else ("executed" if outcome.deal else "pending")
        if outcome is not None:
            entry.state, entry.outcome = "done", outcome
        bus.publish(OrderReconciled(self._account.name, entry.order.client_order_id, found,
                                    self._clock.now()))
        return outcome

    def answer_retry(self, entry: JournalEntry, bus: EventBus) -> OrderOutcome | MT5Error:
        """A second request with a known client order id: answer, never re-send."""
        if entry.outcome is not None:
            return entry.outcome
        if entry.state == "done" and entry.error is not None:
            return entry.error
        outcome = self.reconcile_entry(entry, bus)
        if outcome is not None:
            return outcome
        return unknown_outcome(entry.order, "its first attempt has no known outcome")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)

