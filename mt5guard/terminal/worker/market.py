"""Market data through a worker: bars, ticks, the symbol list, counts and the book.

Bars and ticks arrive as rows and are rebuilt into the module's numpy
structured arrays (``RATE_DTYPE`` / ``TICK_DTYPE``) by the wire decoder.
"""

from __future__ import annotations

from typing import Any

from mt5guard.terminal.records import BookInfo, SymbolInfo

__all__ = ["MarketDataCalls"]


class MarketDataCalls:
    """Mixin of WorkerTerminal: each method is one ``_call``."""

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    # market data: numpy structured arrays (RATE_DTYPE / TICK_DTYPE rows), rebuilt here

    def copy_rates_from(self, symbol: str, timeframe: int, date_from: Any, count: int) -> Any:
        return self._call("copy_rates_from", symbol, timeframe, date_from, count)

    def copy_rates_from_pos(self, symbol: str, timeframe: int, start_pos: int, count: int) -> Any:
        return self._call("copy_rates_from_pos", symbol, timeframe, start_pos, count)

    def copy_rates_range(self, symbol: str, timeframe: int, date_from: Any, date_to: Any) -> Any:
        return self._call("copy_rates_range", symbol, timeframe, date_from, date_to)

    def copy_ticks_from(self, symbol: str, date_from: Any, count: int, flags: int) -> Any:
        return self._call("copy_ticks_from", symbol, date_from, count, flags)

    def copy_ticks_range(self, symbol: str, date_from: Any, date_to: Any, flags: int) -> Any:
        return self._call("copy_ticks_range", symbol, date_from, date_to, flags)

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        given = {} if group is None else {"group": group}
        result: tuple[SymbolInfo, ...] | None = self._call("symbols_get", **given)
        return result

    def symbols_total(self) -> int | None:
        result: int | None = self._call("symbols_total")
        return result

    # counts, margin and profit, Depth of Market

    def positions_total(self) -> int | None:
        result: int | None = self._call("positions_total")
        return result

    def orders_total(self) -> int | None:
        result: int | None = self._call("orders_total")
        return result

    def history_orders_total(self, date_from: Any, date_to: Any) -> int | None:
        result: int | None = self._call("history_orders_total", date_from, date_to)
        return result

    def history_deals_total(self, date_from: Any, date_to: Any) -> int | None:
        result: int | None = self._call("history_deals_total", date_from, date_to)
        return result

    def order_calc_margin(self, action: int, symbol: str, volume: float,
                          price: float) -> float | None:
        result: float | None = self._call("order_calc_margin", action, symbol, volume, price)
        return result

    def order_calc_profit(self, action: int, symbol: str, volume: float, price_open: float,
                          price_close: float) -> float | None:
        result: float | None = self._call("order_calc_profit", action, symbol, volume,
                                          price_open, price_close)
        return result

    def market_book_add(self, symbol: str) -> bool:
        return bool(self._call("market_book_add", symbol))

    def market_book_get(self, symbol: str) -> tuple[BookInfo, ...] | None:
        result: tuple[BookInfo, ...] | None = self._call("market_book_get", symbol)
        return result

    def market_book_release(self, symbol: str) -> bool:
        return bool(self._call("market_book_release", symbol))
