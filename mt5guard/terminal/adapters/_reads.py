"""Counts, margin and profit, and the Depth of Market: one implementation for both adapters.

The module's ``positions_total``, ``orders_total``, ``history_orders_total``,
``history_deals_total``, ``order_calc_margin``, ``order_calc_profit`` and
``market_book_add/get/release``, over whatever ``_call`` reaches the module
(in this process, or on an rpyc server). ``_date`` turns a history bound into
what that path can carry; ``_book`` turns the module's BookInfo tuples into ours.
"""

from __future__ import annotations

from typing import Any

from mt5guard.terminal.protocol import DateArg
from mt5guard.terminal.records import BookInfo

__all__ = ["AccountReads"]


class AccountReads:
    """Mixin of the MetaTrader5 and rpyc adapters."""

    def _call(self, name: str, *args: Any) -> Any:
        raise NotImplementedError

    def _date(self, value: DateArg, upper: bool) -> Any:
        """``value`` as the module should get it (``upper``: the range's end)."""
        return value

    def _book(self, raw: Any) -> tuple[BookInfo, ...] | None:
        raise NotImplementedError

    # -- counts, margin and profit, Depth of Market ----------------------------------

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
        raw = self._call("history_orders_total", self._date(date_from, False),
                         self._date(date_to, True))
        return None if raw is None else int(raw)

    def history_deals_total(self, date_from: DateArg, date_to: DateArg) -> int | None:
        """How many deals were made between the two dates (aware datetimes)."""
        raw = self._call("history_deals_total", self._date(date_from, False),
                         self._date(date_to, True))
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

    def market_book_get(self, symbol: str) -> tuple[BookInfo, ...] | None:
        """The book's levels (highest price first) or None."""
        return self._book(self._call("market_book_get", symbol))

    def market_book_release(self, symbol: str) -> bool:
        """End the Depth of Market subscription."""
        return bool(self._call("market_book_release", symbol))
