"""MetaTrader5Terminal: the Terminal protocol over the real ``MetaTrader5`` module.

The module is imported lazily, in the constructor, so importing mt5guard
never needs it. It ships Windows wheels only.

The real module is one process-wide terminal connection with one global
``last_error``: create at most one MetaTrader5Terminal per process, and call
it from one thread. Overlapping calls raise :class:`ConcurrentCallError`
(the guard is shared by every instance, like the module itself).

Results are copied field by field, by name, into our records (which have
the 5.0.6231 wheel's fields), so a newer module with extra fields still fits.
"""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

from mt5guard.terminal._call_guard import CallGuard, ConcurrentCallError
from mt5guard.terminal.adapters._reads import AccountReads
from mt5guard.terminal.protocol import DateArg
from mt5guard.terminal.records import (
    AccountInfo,
    BookInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)

__all__ = ["ConcurrentCallError", "MetaTrader5Terminal", "TerminalUnavailableError"]

_GUARD = CallGuard()
_Rec = TypeVar(
    "_Rec",
    AccountInfo,
    TerminalInfo,
    Tick,
    SymbolInfo,
    TradePosition,
    TradeOrder,
    TradeDeal,
    TradeRequest,
    BookInfo,
)


class TerminalUnavailableError(RuntimeError):
    """The ``MetaTrader5`` package cannot be imported on this machine."""


def _record(kind: type[_Rec], raw: Any) -> _Rec:
    return kind(**{name: getattr(raw, name) for name in kind._fields})


def _optional(kind: type[_Rec], raw: Any) -> _Rec | None:
    return None if raw is None else _record(kind, raw)


def _records(kind: type[_Rec], raw: Any) -> tuple[_Rec, ...] | None:
    return None if raw is None else tuple(_record(kind, item) for item in raw)


def _request(raw: Any) -> TradeRequest:
    if isinstance(raw, dict):
        return TradeRequest(**{name: raw.get(name, 0) for name in TradeRequest._fields})
    return _record(TradeRequest, raw)


def _given(**filters: Any) -> dict[str, Any]:
    return {name: value for name, value in filters.items() if value is not None}


class MetaTrader5Terminal(AccountReads):
    """The real terminal. ``path`` is the terminal64.exe to start or attach to.

    Raises :class:`TerminalUnavailableError` when the ``MetaTrader5``
    package is not installed (it exists for Windows only).
    """

    def __init__(self, path: str | None = None) -> None:
        try:
            self._mt5: Any = importlib.import_module("MetaTrader5")
        except ImportError as exc:
            raise TerminalUnavailableError(
                "the MetaTrader5 package is not installed; it ships Windows wheels only: "
                "install mt5guard[mt5] on Windows, or use the simulated terminal "
                "(mt5guard.terminal.SimulatedTerminal)"
            ) from exc
        self._path = path

    def __repr__(self) -> str:
        return f"MetaTrader5Terminal(path={self._path!r})"

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with _GUARD.call(name):
            return getattr(self._mt5, name)(*args, **kwargs)

    def initialize(
        self,
        path: str | None = None,
        *,
        login: int,
        password: str,
        server: str,
        timeout: int = 60000,
        portable: bool = False,
    ) -> bool:
        """Start or attach to the terminal and log in; ``timeout`` in milliseconds.

        ``path`` defaults to the one given to the constructor.
        """
        target = path if path is not None else self._path
        args = () if target is None else (target,)
        options = dict(login=login, password=password, server=server, timeout=timeout,
                       portable=portable)
        return bool(self._call("initialize", *args, **options))

    def login(self, login: int, *, password: str, server: str, timeout: int = 60000) -> bool:
        """Switch accounts on the open connection; ``timeout`` in milliseconds."""
        return bool(self._call("login", login, password=password, server=server, timeout=timeout))

    def shutdown(self) -> bool:
        """Close the connection to the terminal (the module always answers True)."""
        return bool(self._call("shutdown"))

    def version(self) -> tuple[int, int, str] | None:
        """``(500, build, 'release date')`` or None."""
        raw = self._call("version")
        return None if raw is None else (int(raw[0]), int(raw[1]), str(raw[2]))

    def last_error(self) -> tuple[int, str]:
        """``(code, message)`` of the previous call."""
        code, message = self._call("last_error")
        return int(code), str(message)

    def terminal_info(self) -> TerminalInfo | None:
        """Terminal state; ``connected`` is the link to the trade server."""
        return _optional(TerminalInfo, self._call("terminal_info"))

    def account_info(self) -> AccountInfo | None:
        """The logged-in account."""
        return _optional(AccountInfo, self._call("account_info"))

    def symbol_select(self, symbol: str, enable: bool) -> bool:
        """Add or remove ``symbol`` in Market Watch (``enable`` always passed)."""
        return bool(self._call("symbol_select", symbol, enable))

    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        """The subset of the symbol's specification in :class:`SymbolInfo`."""
        return _optional(SymbolInfo, self._call("symbol_info", symbol))

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        """The symbol's last tick."""
        return _optional(Tick, self._call("symbol_info_tick", symbol))

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        """Check a trade request; retcode 0 passes."""
        raw = self._call("order_check", request)
        if raw is None:
            return None
        fields = {name: getattr(raw, name) for name in OrderCheckResult._fields}
        fields["request"] = _request(fields["request"])
        return OrderCheckResult(**fields)

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        """Send a trade request; None may mean the order executed but the reply was lost."""
        raw = self._call("order_send", request)
        if raw is None:
            return None
        fields = {name: getattr(raw, name) for name in OrderSendResult._fields}
        fields["request"] = _request(fields["request"])
        return OrderSendResult(**fields)

    def positions_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...] | None:
        """Open positions; only the filters given are passed on."""
        raw = self._call("positions_get", **_given(symbol=symbol, group=group, ticket=ticket))
        return _records(TradePosition, raw)

    def orders_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...] | None:
        """Active orders; only the filters given are passed on."""
        raw = self._call("orders_get", **_given(symbol=symbol, group=group, ticket=ticket))
        return _records(TradeOrder, raw)

    def history_deals_get(
        self,
        date_from: DateArg | None = None,
        date_to: DateArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None:
        """Deals by order ``ticket``, by ``position``, or between two dates.

        Dates are datetimes or epoch seconds (passed on as given).
        """
        if ticket is not None or position is not None:
            raw = self._call("history_deals_get", **_given(ticket=ticket, position=position))
        else:
            dates = tuple(d for d in (date_from, date_to) if d is not None)
            raw = self._call("history_deals_get", *dates, **_given(group=group))
        return _records(TradeDeal, raw)

    # -- market data: numpy structured arrays, passed on as the module returns them --

    def copy_rates_from(self, symbol: str, timeframe: int, date_from: DateArg, count: int) -> Any:
        """``count`` bars ending at ``date_from`` (RATE_DTYPE rows) or None."""
        return self._call("copy_rates_from", symbol, timeframe, date_from, count)

    def copy_rates_from_pos(self, symbol: str, timeframe: int, start_pos: int, count: int) -> Any:
        """``count`` bars ending ``start_pos`` bars back (0 = current) or None."""
        return self._call("copy_rates_from_pos", symbol, timeframe, start_pos, count)

    def copy_rates_range(self, symbol: str, timeframe: int, date_from: DateArg,
                         date_to: DateArg) -> Any:
        """Bars opened within ``date_from..date_to`` or None."""
        return self._call("copy_rates_range", symbol, timeframe, date_from, date_to)

    def copy_ticks_from(self, symbol: str, date_from: DateArg, count: int, flags: int) -> Any:
        """Up to ``count`` ticks from ``date_from`` (TICK_DTYPE rows) or None."""
        return self._call("copy_ticks_from", symbol, date_from, count, flags)

    def copy_ticks_range(self, symbol: str, date_from: DateArg, date_to: DateArg,
                         flags: int) -> Any:
        """The ticks within ``date_from..date_to`` or None."""
        return self._call("copy_ticks_range", symbol, date_from, date_to, flags)

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        """All symbols, or those matching ``group``; the :class:`SymbolInfo` subset of each."""
        return _records(SymbolInfo, self._call("symbols_get", **_given(group=group)))

    def history_orders_get(
        self,
        date_from: DateArg | None = None,
        date_to: DateArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...] | None:
        """Orders that left the book, by ``ticket``, by ``position`` or between two dates."""
        if ticket is not None or position is not None:
            raw = self._call("history_orders_get", **_given(ticket=ticket, position=position))
        else:
            dates = tuple(d for d in (date_from, date_to) if d is not None)
            raw = self._call("history_orders_get", *dates, **_given(group=group))
        return _records(TradeOrder, raw)

    def _book(self, raw: Any) -> tuple[BookInfo, ...] | None:
        return _records(BookInfo, raw)
