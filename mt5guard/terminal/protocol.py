"""The Terminal protocol: the MetaTrader5 module's functions, as an object.

The symbol functions take their arguments by position only, as the module
does (it raises TypeError on keywords). Implementations behave exactly like
the real module: a failing call returns
None (or False for the bool calls) and leaves the reason in
:meth:`Terminal.last_error`; nothing raises for an MT5-level failure. After a
successful call ``last_error()`` is ``(1, 'Success')``.

The real module is a process-wide singleton and is not safe to call from two
threads at once: one owner (the SessionActor) makes every call, and
``last_error()`` is read right after the call it explains.

:class:`TerminalCalls` is the part every implementation shares: the calls
that take connection settings or filters, each with its signature and
defaults written once and handed on to one hook.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, Protocol, TypeAlias, TypeVar, runtime_checkable

from mt5guard.terminal import records as rec

__all__ = ["DateArg", "Terminal", "TerminalCalls"]

#: A history bound: an aware datetime (a naive one is read as UTC) or epoch seconds.
DateArg: TypeAlias = datetime | int | float


@runtime_checkable
class Terminal(Protocol):
    """One MetaTrader 5 terminal, reached over IPC."""

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
        """Attach to (or launch) the terminal and log in.

        ``timeout`` is in milliseconds; the call may block that long and then
        fail with ``(-10005, 'IPC timeout')``. ``password`` is the plain text
        (``Secret.reveal()``): pass it straight through, never store or log it.
        """

    def login(self, login: int, *, password: str, server: str, timeout: int = 60000) -> bool:
        """Switch the open connection to another account; ``timeout`` in milliseconds."""

    def shutdown(self) -> bool:
        """Close the IPC connection; the next call needs ``initialize`` again. Always True."""

    def version(self) -> tuple[int, int, str] | None:
        """``(500, build, 'release date')``."""

    def last_error(self) -> tuple[int, str]:
        """``(code, message)`` left by the previous call."""

    def terminal_info(self) -> rec.TerminalInfo | None:
        """Terminal state; ``connected`` is the link to the trade server."""

    def account_info(self) -> rec.AccountInfo | None:
        """Balance, equity, margin and identity of the logged-in account."""

    def symbol_select(self, symbol: str, enable: bool, /) -> bool:
        """Add (or remove) ``symbol`` in Market Watch; needed before its data calls."""

    def symbol_info(self, symbol: str, /) -> rec.SymbolInfo | None:
        """Specification and current prices of a selected symbol."""

    def symbol_info_tick(self, symbol: str, /) -> rec.Tick | None:
        """The last tick of a selected symbol."""

    def order_check(self, request: dict[str, Any]) -> rec.OrderCheckResult | None:
        """Validate a trade request and compute the margin it needs; retcode 0 passes."""

    def order_send(self, request: dict[str, Any]) -> rec.OrderSendResult | None:
        """Send a trade request to the trade server.

        None means the request may not have been delivered, or its reply was
        lost: the order may have executed. Never re-send without reconciling.
        """

    def positions_get(
        self,
        *,
        symbol: str | None = None,
        group: str | None = None,
        ticket: int | None = None,
    ) -> tuple[rec.TradePosition, ...] | None:
        """Open positions, filtered; an empty tuple when there are none."""

    def orders_get(
        self,
        *,
        symbol: str | None = None,
        group: str | None = None,
        ticket: int | None = None,
    ) -> tuple[rec.TradeOrder, ...] | None:
        """Active (pending) orders, filtered; an empty tuple when there are none."""

    def history_deals_get(
        self,
        date_from: DateArg | None = None,
        date_to: DateArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[rec.TradeDeal, ...] | None:
        """Deals between two dates, or those of one order (``ticket``) or position.

        ``ticket`` is the *order* ticket the deals came from (``TradeDeal.order``).
        """

    def history_orders_get(
        self,
        date_from: DateArg | None = None,
        date_to: DateArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[rec.TradeOrder, ...] | None:
        """Done orders (filled, cancelled, rejected, expired) between two dates, or one
        order (``ticket``), or those of a position."""


BookRow = TypeVar("BookRow", rec.TradePosition, rec.TradeOrder)
HistoryRow = TypeVar("HistoryRow", rec.TradeDeal, rec.TradeOrder)


class TerminalCalls(ABC):
    """The Terminal calls whose arguments are settings or filters, for implementations.

    The simulator and the module adapters take these exactly alike (which
    arguments are keywords, their defaults): the signatures live here, and an
    implementation says only what a call does, in three hooks.
    """

    @abstractmethod
    def _initialize(self, path: str | None, login: int, password: str, server: str,
                    timeout: int, portable: bool) -> bool:
        """``initialize`` with every argument given."""

    @abstractmethod
    def _book_query(self, name: str, kind: type[BookRow], symbol: str | None, group: str | None,
                  ticket: int | None) -> tuple[BookRow, ...] | None:
        """``positions_get``/``orders_get`` (``name``): the open rows of ``kind`` that match."""

    @abstractmethod
    def _history_query(self, name: str, kind: type[HistoryRow], date_from: DateArg | None,
                     date_to: DateArg | None, group: str | None, ticket: int | None,
                     position: int | None) -> tuple[HistoryRow, ...] | None:
        """``history_deals_get``/``history_orders_get`` (``name``): the rows of ``kind``
        of an order ``ticket``, of a ``position``, or between two dates."""

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
        """Attach to (or start) the terminal and log in; ``timeout`` in milliseconds."""
        return self._initialize(path, login, password, server, timeout, portable)

    def positions_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[rec.TradePosition, ...] | None:
        """Open positions matching every filter given (``ticket`` is the position's)."""
        return self._book_query("positions_get", rec.TradePosition, symbol, group, ticket)

    def orders_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[rec.TradeOrder, ...] | None:
        """Active (pending) orders matching every filter given."""
        return self._book_query("orders_get", rec.TradeOrder, symbol, group, ticket)

    def history_deals_get(
        self,
        date_from: DateArg | None = None,
        date_to: DateArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[rec.TradeDeal, ...] | None:
        """Deals by order ``ticket``, by ``position``, or between two dates."""
        return self._history_query("history_deals_get", rec.TradeDeal, date_from, date_to, group,
                                 ticket, position)

    def history_orders_get(
        self,
        date_from: DateArg | None = None,
        date_to: DateArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[rec.TradeOrder, ...] | None:
        """Orders that left the book, by ``ticket``, by ``position`` or between two dates."""
        return self._history_query("history_orders_get", rec.TradeOrder, date_from, date_to, group,
                                 ticket, position)
