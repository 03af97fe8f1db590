"""Terminal and account reads as Session calls: counts, margin and profit, the book.

Guarded exactly like ``get_price``: arguments checked in the caller's thread
(MT5ValidationError naming the field), then one hop to the SessionActor.
``order_calc_margin`` / ``order_calc_profit`` take ``side`` ``"buy"`` or
``"sell"`` (the module's ORDER_TYPE_BUY / ORDER_TYPE_SELL) and answer account
money. The Depth of Market needs ``market_book_add(symbol)`` before
``market_book_get(symbol)``.
"""

from __future__ import annotations

from datetime import datetime

from mt5guard.market import data as md
from mt5guard.session._core import Pending, SessionCore
from mt5guard.session._market import read
from mt5guard.terminal.records import BookInfo, TerminalInfo

__all__ = ["history_deals_total", "history_orders_total", "market_book_add", "market_book_get",
           "market_book_release", "order_calc_margin", "order_calc_profit", "orders_total",
           "positions_total", "terminal_info", "version"]

When = datetime | int | float


def terminal_info(core: SessionCore) -> Pending[TerminalInfo]:
    """The terminal's state (``connected``, ``trade_allowed``, ``ping_last`` in µs...)."""
    return read(core, "terminal_info", ())


def version(core: SessionCore) -> Pending[tuple[int, int, str]]:
    """``(500, build, 'release date')`` of the terminal."""
    return read(core, "version", ())


def positions_total(core: SessionCore) -> Pending[int]:
    """How many positions are open."""
    return read(core, "positions_total", ()).shaped(int)


def orders_total(core: SessionCore) -> Pending[int]:
    """How many pending orders are in the book."""
    return read(core, "orders_total", ()).shaped(int)


def history_orders_total(core: SessionCore, date_from: When, date_to: When) -> Pending[int]:
    """How many orders left the book within the range (datetimes, naive = UTC, or epoch s)."""
    return read(core, "history_orders_total",
                md.check_range("history_orders_total", date_from, date_to)).shaped(int)


def history_deals_total(core: SessionCore, date_from: When, date_to: When) -> Pending[int]:
    """How many deals were made within the range."""
    return read(core, "history_deals_total",
                md.check_range("history_deals_total", date_from, date_to)).shaped(int)


def order_calc_margin(core: SessionCore, symbol: str, side: str, volume: float,
                      price: float) -> Pending[float]:
    """Margin in account money ``volume`` lots would take at ``price``."""
    return read(core, "order_calc_margin",
                md.check_calc("order_calc_margin", symbol, side, volume, price)).shaped(float)


def order_calc_profit(core: SessionCore, symbol: str, side: str, volume: float, price_open: float,
                      price_close: float) -> Pending[float]:
    """Profit in account money of ``volume`` lots opened and closed at these prices."""
    return read(core, "order_calc_profit", md.check_calc(
        "order_calc_profit", symbol, side, volume, price_open, price_close)).shaped(float)


def market_book_add(core: SessionCore, symbol: str) -> Pending[None]:
    """Subscribe to ``symbol``'s Depth of Market."""
    return read(core, "market_book_add", (md.check_symbol("market_book_add", symbol),))


def market_book_get(core: SessionCore, symbol: str) -> Pending[tuple[BookInfo, ...]]:
    """The levels of ``symbol``'s book, highest price first (sell levels, then buy)."""
    return read(core, "market_book_get",
                (md.check_symbol("market_book_get", symbol),)).shaped(tuple)


def market_book_release(core: SessionCore, symbol: str) -> Pending[None]:
    """End the Depth of Market subscription."""
    return read(core, "market_book_release", (md.check_symbol("market_book_release", symbol),))
