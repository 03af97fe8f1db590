"""ModuleTerminal: the Terminal protocol over the ``MetaTrader5`` module's calls.

Both real adapters speak to the same module, in this process
(``metatrader5``) or behind an rpyc server (``rpyc``), and the worker client
(:class:`~mt5guard.terminal.worker.WorkerTerminal`) asks its worker for the
module's calls by the same names. What they share is
here: which module call each protocol method makes, which filters it passes
(only those given), and how history is asked for (by ticket, by position, or
between two dates), the counts, margin and profit and the Depth of Market.
What differs is four hooks: how a call reaches the
module (:meth:`_call`), how a reply becomes our records (:meth:`_record`),
how a date bound and a numpy array cross (:meth:`_date`, :meth:`_array`).
"""

from __future__ import annotations

import importlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from mt5guard.terminal import records as rec
from mt5guard.terminal.args import given, history_call
from mt5guard.terminal.protocol import BookRow, DateArg, HistoryRow, TerminalCalls

__all__ = ["ModuleTerminal", "Record", "TerminalUnavailableError", "given", "import_or_explain"]

Record = TypeVar(
    "Record", rec.AccountInfo, rec.TerminalInfo, rec.Tick, rec.SymbolInfo, rec.TradePosition,
    rec.TradeOrder, rec.TradeDeal, rec.OrderCheckResult, rec.OrderSendResult, rec.BookInfo,
)


class TerminalUnavailableError(RuntimeError):
    """The ``MetaTrader5`` package (or rpyc) cannot be imported on this machine."""


def import_or_explain(name: str, fix: str) -> Any:
    """The module ``name``, imported now; if it is missing, the error says ``fix``."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise TerminalUnavailableError(fix) from exc


class ModuleTerminal(TerminalCalls, ABC):
    """The Terminal protocol's calls, made through :meth:`_call`."""

    _path: str | None  # the terminal64.exe to start or attach to, on the module's machine

    @abstractmethod
    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """The module's ``name(*args, **kwargs)``; ``request`` dicts are passed as dicts."""

    @abstractmethod
    def _record(self, kind: type[Record], raw: Any) -> Record:
        """One reply of the module as our record ``kind``."""

    def _date(self, value: DateArg, rounding: Callable[[float], int]) -> Any:
        """A date bound as the module is given it; ``rounding`` widens a range outward."""
        return value

    def _array(self, raw: Any) -> Any:
        """A numpy array (bars, ticks) as the module returned it, or None."""
        return raw

    def _optional(self, kind: type[Record], raw: Any) -> Record | None:
        return None if raw is None else self._record(kind, raw)

    def _records(self, kind: type[Record], raw: Any) -> tuple[Record, ...] | None:
        return None if raw is None else tuple(self._record(kind, item) for item in raw)

    def _book_query(self, name: str, kind: type[BookRow], symbol: str | None, group: str | None,
                  ticket: int | None) -> tuple[BookRow, ...] | None:
        """Only the filters given are passed on."""
        return self._records(kind, self._call(name, **given(symbol=symbol, group=group,
                                                            ticket=ticket)))

    def _history_query(self, name: str, kind: type[HistoryRow], date_from: DateArg | None,
                     date_to: DateArg | None, group: str | None, ticket: int | None,
                     position: int | None) -> tuple[HistoryRow, ...] | None:
        """By ``ticket`` or ``position`` when either is given, else between the dates given."""
        dates = tuple(self._date(d, rounding) for d, rounding in
                      ((date_from, math.floor), (date_to, math.ceil)) if d is not None)
        return self._records(kind, history_call(self._call, name, dates, group, ticket, position))

    def _open(self) -> None:  # a hook: in process there is nothing to open
        """Open the way to the module before ``initialize`` (a connection, for rpyc)."""

    def _initialize(self, path: str | None, login: int, password: str, server: str,
                    timeout: int, portable: bool) -> bool:
        """``path`` defaults to the one given to the constructor."""
        self._open()
        target = path if path is not None else self._path
        args = () if target is None else (target,)
        return bool(self._call("initialize", *args, login=login, password=password,
                               server=server, timeout=timeout, portable=portable))

    # the rest of the Terminal protocol (TerminalCalls has initialize and the filtered reads)

    def login(self, login: int, *, password: str, server: str, timeout: int = 60000) -> bool:
        """Switch accounts on the open connection; ``timeout`` in milliseconds."""
        return bool(self._call("login", login, password=password, server=server, timeout=timeout))

    def version(self) -> tuple[int, int, str] | None:
        """``(500, build, 'release date')`` or None."""
        raw = self._call("version")
        return None if raw is None else (int(raw[0]), int(raw[1]), str(raw[2]))

    def last_error(self) -> tuple[int, str]:
        """``(code, message)`` of the previous call."""
        code, message = self._call("last_error")
        return int(code), str(message)

    def terminal_info(self) -> rec.TerminalInfo | None:
        """Terminal state; ``connected`` is the link to the trade server."""
        return self._optional(rec.TerminalInfo, self._call("terminal_info"))

    def account_info(self) -> rec.AccountInfo | None:
        """The logged-in account."""
        return self._optional(rec.AccountInfo, self._call("account_info"))

    def symbol_select(self, symbol: str, enable: bool) -> bool:
        """Add or remove ``symbol`` in Market Watch (``enable`` always passed)."""
        return bool(self._call("symbol_select", symbol, enable))

    def symbol_info(self, symbol: str) -> rec.SymbolInfo | None:
        """The subset of the symbol's specification in :class:`SymbolInfo`."""
        return self._optional(rec.SymbolInfo, self._call("symbol_info", symbol))

    def symbol_info_tick(self, symbol: str) -> rec.Tick | None:
        """The symbol's last tick."""
        return self._optional(rec.Tick, self._call("symbol_info_tick", symbol))

    def order_check(self, request: dict[str, Any]) -> rec.OrderCheckResult | None:
        """Check a trade request; retcode 0 passes."""
        return self._optional(rec.OrderCheckResult, self._call("order_check", request))

    def order_send(self, request: dict[str, Any]) -> rec.OrderSendResult | None:
        """Send a trade request; None (or a hang) may mean it executed with its reply lost."""
        return self._optional(rec.OrderSendResult, self._call("order_send", request))

    # market data: numpy structured arrays (RATE_DTYPE, TICK_DTYPE rows) or None

    def copy_rates_from(self, symbol: str, timeframe: int, date_from: DateArg, count: int) -> Any:
        """``count`` bars ending at ``date_from`` (RATE_DTYPE rows) or None."""
        return self._array(self._call("copy_rates_from", symbol, timeframe,
                                      self._date(date_from, math.floor), count))

    def copy_rates_from_pos(self, symbol: str, timeframe: int, start_pos: int, count: int) -> Any:
        """``count`` bars ending ``start_pos`` bars back (0 = current) or None."""
        return self._array(self._call("copy_rates_from_pos", symbol, timeframe, start_pos, count))

    def copy_rates_range(self, symbol: str, timeframe: int, date_from: DateArg,
                         date_to: DateArg) -> Any:
        """Bars opened within ``date_from..date_to`` or None."""
        return self._array(self._call("copy_rates_range", symbol, timeframe,
                                      self._date(date_from, math.floor),
                                      self._date(date_to, math.ceil)))

    def copy_ticks_from(self, symbol: str, date_from: DateArg, count: int, flags: int) -> Any:
        """Up to ``count`` ticks from ``date_from`` (TICK_DTYPE rows) or None."""
        return self._array(self._call("copy_ticks_from", symbol,
                                      self._date(date_from, math.floor), count, flags))

    def copy_ticks_range(self, symbol: str, date_from: DateArg, date_to: DateArg,
                         flags: int) -> Any:
        """The ticks within ``date_from..date_to`` or None."""
        return self._array(self._call("copy_ticks_range", symbol,
                                      self._date(date_from, math.floor),
                                      self._date(date_to, math.ceil), flags))

    def symbols_get(self, group: str | None = None) -> tuple[rec.SymbolInfo, ...] | None:
        """All symbols, or those matching ``group``; the :class:`SymbolInfo` subset of each."""
        return self._records(rec.SymbolInfo, self._call("symbols_get", **given(group=group)))

    # counts, margin and profit, the Depth of Market

    def positions_total(self) -> int | None:
        """How many positions are open."""
        raw = self._call("positions_total")
        return None if raw is None else int(raw)

    def orders_total(self) -> int | None:
        """How many pending orders are in the book."""
        raw = self._call("orders_total")
        return None if raw is None else int(raw)

    def history_orders_total(self, date_from: DateArg, date_to: DateArg) -> int | None:
        """How many orders left the book between the two dates (aware datetimes)."""
        raw = self._call("history_orders_total", self._date(date_from, math.floor),
                         self._date(date_to, math.ceil))
        return None if raw is None else int(raw)

    def history_deals_total(self, date_from: DateArg, date_to: DateArg) -> int | None:
        """How many deals were made between the two dates (aware datetimes)."""
        raw = self._call("history_deals_total", self._date(date_from, math.floor),
                         self._date(date_to, math.ceil))
        return None if raw is None else int(raw)

    def order_calc_margin(self, action: int, symbol: str, volume: float,
                          price: float) -> float | None:
        """Margin in account money; ``action`` is ORDER_TYPE_BUY or ORDER_TYPE_SELL."""
        raw = self._call("order_calc_margin", action, symbol, float(volume), float(price))
        return None if raw is None else float(raw)

    def order_calc_profit(self, action: int, symbol: str, volume: float, price_open: float,
                          price_close: float) -> float | None:
        """Profit in account money of a trade opened and closed at these prices."""
        raw = self._call("order_calc_profit", action, symbol, float(volume), float(price_open),
                         float(price_close))
        return None if raw is None else float(raw)

    def market_book_add(self, symbol: str) -> bool:
        """Subscribe to the symbol's Depth of Market."""
        return bool(self._call("market_book_add", symbol))

    def market_book_get(self, symbol: str) -> tuple[rec.BookInfo, ...] | None:
        """The book's levels (highest price first) or None."""
        return self._records(rec.BookInfo, self._call("market_book_get", symbol))

    def market_book_release(self, symbol: str) -> bool:
        """End the Depth of Market subscription."""
        return bool(self._call("market_book_release", symbol))
