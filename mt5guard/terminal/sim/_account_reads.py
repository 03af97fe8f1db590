"""The simulated terminal's counting, calculating and Depth of Market calls.

``positions_total``, ``orders_total``, ``history_orders_total``,
``history_deals_total``, ``order_calc_margin``, ``order_calc_profit`` and
``market_book_add`` / ``market_book_get`` / ``market_book_release``, with the
module's conventions (None or False plus ``last_error()``).

The simulated book is five levels a side around the current tick, one spread
apart: sell levels above the ask, then buy levels below the bid, highest price
first, 10, 20 ... 50 lots deep; it needs ``market_book_add(symbol)`` first.
"""

from __future__ import annotations

from collections.abc import Callable, Sized

from mt5guard.terminal import constants as c
from mt5guard.terminal.protocol import DateArg
from mt5guard.terminal.records import BookInfo
from mt5guard.terminal.sim._core import INVALID, NOT_FOUND, OK, invalid
from mt5guard.terminal.sim._done_orders import select_orders
from mt5guard.terminal.sim._market import MarketDataCalls
from mt5guard.terminal.sim._selectors import select_deals

__all__ = ["AccountReads"]

_LEVELS = 5


class AccountReads(MarketDataCalls):
    """Mixin of SimulatedTerminal: counts, margin and profit, the Depth of Market."""

    _books: set[str]

    def positions_total(self) -> int | None:
        """How many positions are open."""
        return self._count("positions_total", lambda: self._ledger.positions)

    def orders_total(self) -> int | None:
        """How many pending orders are in the book."""
        return self._count("orders_total", lambda: self._ledger.orders)

    def history_orders_total(self, date_from: DateArg, date_to: DateArg) -> int | None:
        """How many orders left the book with date_from <= time_setup <= date_to."""
        return self._count("history_orders_total", lambda: self._history_rows(
            select_orders, self._ledger.history_orders, date_from, date_to))

    def history_deals_total(self, date_from: DateArg, date_to: DateArg) -> int | None:
        """How many deals were made with date_from <= time <= date_to."""
        return self._count("history_deals_total", lambda: self._history_rows(
            select_deals, self._ledger.deals, date_from, date_to))

    def _count(self, name: str, rows: Callable[[], Sized | None]) -> int | None:
        """How many ``rows`` finds, read under the state lock while linked; None when it
        finds None (it left the reason in last_error)."""
        with self._api(name) as hung, self._state_lock:
            if hung or not self._linked():
                return None
            found = rows()
            if found is None:
                return None
            self._last_error = OK
            return len(found)

    def order_calc_margin(self, action: int, symbol: str, volume: float,
                          price: float) -> float | None:
        """Margin in account money of ``volume`` lots bought (``ORDER_TYPE_BUY``) or sold."""
        with self._api("order_calc_margin") as hung, self._state_lock:
            if hung or not self._linked(authorized=True):
                return None
            if self._bad_calc(action, symbol, volume, price):
                return None
            self._last_error = OK
            return round(self._ledger.margin_for(symbol, float(volume)), 2)

    def order_calc_profit(self, action: int, symbol: str, volume: float, price_open: float,
                          price_close: float) -> float | None:
        """Profit in account money of ``volume`` lots opened and closed at these prices."""
        with self._api("order_calc_profit") as hung, self._state_lock:
            if hung or not self._linked(authorized=True):
                return None
            if self._bad_calc(action, symbol, volume, price_open) or \
                    self._bad_calc(action, symbol, volume, price_close):
                return None
            spec = self._specs[symbol]
            diff = float(price_close) - float(price_open)
            if action == c.ORDER_TYPE_SELL:
                diff = -diff
            self._last_error = OK
            return round(diff * float(volume) * spec.contract_size
                         * self._ledger.rate(spec.currency_profit), 2)

    def _bad_calc(self, action: object, symbol: object, volume: object, price: object) -> bool:
        if action not in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL) or isinstance(action, bool):
            self._last_error = invalid("action")
        elif not isinstance(symbol, str) or symbol not in self._specs:
            self._last_error = NOT_FOUND
        elif any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in (volume, price)):
            self._last_error = INVALID
        else:
            return False
        return True

    # -- Depth of Market ----------------------------------------------------------

    def market_book_add(self, symbol: str) -> bool:
        """Subscribe to ``symbol``'s Depth of Market (it must be selected)."""
        with self._api("market_book_add") as hung, self._state_lock:
            if hung or not self._linked() or self._selected_spec(symbol) is None:
                return False
            self._books.add(symbol)
            self._last_error = OK
            return True

    def market_book_release(self, symbol: str) -> bool:
        """End the subscription; False if there was none."""
        with self._api("market_book_release") as hung, self._state_lock:
            if hung or not self._linked() or not self._subscribed(symbol):
                return False
            self._books.discard(symbol)
            self._last_error = OK
            return True

    def market_book_get(self, symbol: str) -> tuple[BookInfo, ...] | None:
        """The levels of a subscribed book, highest price first."""
        with self._api("market_book_get") as hung, self._state_lock:
            if hung or not self._linked() or not self._subscribed(symbol):
                return None
            spec = self._specs[symbol]
            tick = self._tick(symbol)
            step = spec.point * max(spec.spread, 1)
            sells = [BookInfo(c.BOOK_TYPE_SELL, round(tick.ask + i * step, spec.digits),
                              10 * (i + 1), 10.0 * (i + 1)) for i in reversed(range(_LEVELS))]
            buys = [BookInfo(c.BOOK_TYPE_BUY, round(tick.bid - i * step, spec.digits),
                             10 * (i + 1), 10.0 * (i + 1)) for i in range(_LEVELS)]
            self._last_error = OK
            return (*sells, *buys)

    def _subscribed(self, symbol: str) -> bool:
        """Whether ``symbol``'s book was added; if not, NOT_FOUND is left in last_error."""
        if symbol in self._books:
            return True
        self._last_error = NOT_FOUND
        return False
