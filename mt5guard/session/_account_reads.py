"""Terminal and account reads of Session and AsyncSession: counts, margin and profit, the book.

Guarded exactly like ``get_price``: arguments checked in the caller's thread
(MT5ValidationError naming the field), then one hop to the SessionActor.
``order_calc_margin`` / ``order_calc_profit`` take ``side`` ``"buy"`` or
``"sell"`` (the module's ORDER_TYPE_BUY / ORDER_TYPE_SELL) and answer account
money. The Depth of Market needs ``market_book_add(symbol)`` before
``market_book_get(symbol)``.
"""

from __future__ import annotations

from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mt5guard.market import data as md
from mt5guard.terminal.records import BookInfo, TerminalInfo

if TYPE_CHECKING:
    from mt5guard.session.facade import Session

__all__ = ["AccountReadCalls", "AsyncAccountReadCalls"]

When = datetime | int | float
_Pending = tuple[str, "Future[Any]", float]


def _int(value: Any) -> int:
    return int(value)


def _float(value: Any) -> float:
    return float(value)


def _book(value: Any) -> tuple[BookInfo, ...]:
    return tuple(value)


class AccountReadCalls:
    """Blocking calls (mixed into Session through MarketDataCalls)."""

    if TYPE_CHECKING:
        def _read(self, operation: str, args: tuple[Any, ...]) -> _Pending: ...
        def _wait(self, operation: str, reply: Future[Any], started: float) -> Any: ...

    def terminal_info(self) -> TerminalInfo:
        """The terminal's state (``connected``, ``trade_allowed``, ``ping_last`` in µs...)."""
        info: TerminalInfo = self._wait(*self._read("terminal_info", ()))
        return info

    def version(self) -> tuple[int, int, str]:
        """``(500, build, 'release date')`` of the terminal."""
        found: tuple[int, int, str] = self._wait(*self._read("version", ()))
        return found

    def positions_total(self) -> int:
        """How many positions are open."""
        return _int(self._wait(*self._read("positions_total", ())))

    def orders_total(self) -> int:
        """How many pending orders are in the book."""
        return _int(self._wait(*self._read("orders_total", ())))

    def history_orders_total(self, date_from: When, date_to: When) -> int:
        """How many orders left the book within the range (datetimes, naive = UTC, or epoch s)."""
        args = md.check_range("history_orders_total", date_from, date_to)
        return _int(self._wait(*self._read("history_orders_total", args)))

    def history_deals_total(self, date_from: When, date_to: When) -> int:
        """How many deals were made within the range."""
        args = md.check_range("history_deals_total", date_from, date_to)
        return _int(self._wait(*self._read("history_deals_total", args)))

    def order_calc_margin(self, symbol: str, side: str, volume: float, price: float) -> float:
        """Margin in account money ``volume`` lots would take at ``price``."""
        args = md.check_calc("order_calc_margin", symbol, side, volume, price)
        return _float(self._wait(*self._read("order_calc_margin", args)))

    def order_calc_profit(self, symbol: str, side: str, volume: float, price_open: float,
                          price_close: float) -> float:
        """Profit in account money of ``volume`` lots opened and closed at these prices."""
        args = md.check_calc("order_calc_profit", symbol, side, volume, price_open, price_close)
        return _float(self._wait(*self._read("order_calc_profit", args)))

    def market_book_add(self, symbol: str) -> None:
        """Subscribe to ``symbol``'s Depth of Market."""
        self._wait(*self._read("market_book_add", (md.check_symbol("market_book_add", symbol),)))

    def market_book_get(self, symbol: str) -> tuple[BookInfo, ...]:
        """The levels of ``symbol``'s book, highest price first (sell levels, then buy)."""
        args = (md.check_symbol("market_book_get", symbol),)
        return _book(self._wait(*self._read("market_book_get", args)))

    def market_book_release(self, symbol: str) -> None:
        """End the Depth of Market subscription."""
        args = (md.check_symbol("market_book_release", symbol),)
        self._wait(*self._read("market_book_release", args))


class AsyncAccountReadCalls:
    """The same calls as coroutines (mixed into AsyncSession through AsyncMarketDataCalls)."""

    if TYPE_CHECKING:
        _s: Session
        async def _await(self, operation: str, reply: Future[Any], started: float) -> Any: ...

    async def terminal_info(self) -> TerminalInfo:
        info: TerminalInfo = await self._await(*self._s._read("terminal_info", ()))
        return info

    async def version(self) -> tuple[int, int, str]:
        found: tuple[int, int, str] = await self._await(*self._s._read("version", ()))
        return found

    async def positions_total(self) -> int:
        return _int(await self._await(*self._s._read("positions_total", ())))

    async def orders_total(self) -> int:
        return _int(await self._await(*self._s._read("orders_total", ())))

    async def history_orders_total(self, date_from: When, date_to: When) -> int:
        args = md.check_range("history_orders_total", date_from, date_to)
        return _int(await self._await(*self._s._read("history_orders_total", args)))

    async def history_deals_total(self, date_from: When, date_to: When) -> int:
        args = md.check_range("history_deals_total", date_from, date_to)
        return _int(await self._await(*self._s._read("history_deals_total", args)))

    async def order_calc_margin(self, symbol: str, side: str, volume: float,
                                price: float) -> float:
        args = md.check_calc("order_calc_margin", symbol, side, volume, price)
        return _float(await self._await(*self._s._read("order_calc_margin", args)))

    async def order_calc_profit(self, symbol: str, side: str, volume: float, price_open: float,
                                price_close: float) -> float:
        args = md.check_calc("order_calc_profit", symbol, side, volume, price_open, price_close)
        return _float(await self._await(*self._s._read("order_calc_profit", args)))

    async def market_book_add(self, symbol: str) -> None:
        args = (md.check_symbol("market_book_add", symbol),)
        await self._await(*self._s._read("market_book_add", args))

    async def market_book_get(self, symbol: str) -> tuple[BookInfo, ...]:
        args = (md.check_symbol("market_book_get", symbol),)
        return _book(await self._await(*self._s._read("market_book_get", args)))

    async def market_book_release(self, symbol: str) -> None:
        args = (md.check_symbol("market_book_release", symbol),)
        await self._await(*self._s._read("market_book_release", args))
