"""The book of one simulated hedging account: money, positions, orders and deals.

It belongs to the trade server, so it survives terminal restarts. Every
method runs under the terminal's state lock.

The money of a book is a function of its balance, its positions and the prices
it is valued at, and nothing else; a book changes far less often than it is
valued (every account_info of every health probe), and prices come back to
values seen before. So the ledger keeps the money of its current book by the
prices it was valued at, and forgets it when the book changes: the balance and
the positions change through :meth:`Ledger.open_position`,
:meth:`Ledger.close_position`, :meth:`Ledger.book_to_balance`, or by hand
followed by :meth:`Ledger.forget_values`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from operator import itemgetter
from typing import NamedTuple

from mt5guard.terminal import constants as c
from mt5guard.terminal.records import AccountInfo, Tick, TradeDeal, TradeOrder, TradePosition
from mt5guard.terminal.sim import _trade_rules as rules
from mt5guard.terminal.sim._book import OpenPosition, PendingOrder
from mt5guard.terminal.sim._rounding import rounded
from mt5guard.terminal.sim.symbols import SymbolSpec

_BUY, _SELL = c.POSITION_TYPE_BUY, c.POSITION_TYPE_SELL
_snapshot = tuple.__new__  # AccountSnapshot(*fields) without its Python-level __new__
_prices = itemgetter(1, 2)  # a Tick's (bid, ask): all a valuation reads of it
_VALUES_KEPT = 512  # a book's valuations kept (~0.9 KB each, record too): a day's prices, mostly
VOLUME_EPS = 1e-9  # a position with no more volume than this is closed


class AccountSnapshot(NamedTuple):
    """Money of the account right now, in the account currency."""

    balance: float
    profit: float
    equity: float
    margin: float
    margin_free: float
    margin_level: float


class Kept:
    """The current book's money at one set of prices, and the account record the terminal
    last made of it (None until one is asked for; see ``_snapshots.account_record``):
    both go with the money when the book changes."""

    __slots__ = ("money", "record")

    def __init__(self, money: AccountSnapshot) -> None:
        self.money = money
        self.record: AccountInfo | None = None


def _level(equity: float, margin: float) -> float:
    return rounded(equity / margin * 100, 2) if margin > 0 else 0.0


def idle_snapshot(balance: float, extra_margin: float = 0.0) -> AccountSnapshot:
    """The money of an account without positions (``extra_margin``: a prospective trade's)."""
    margin = round(extra_margin, 2)
    return AccountSnapshot(balance, 0.0, balance, margin, round(balance - margin, 2),
                           _level(balance, margin))


class Ledger:
    """Balance, open positions, pending orders and deals, valued at current quotes."""

    def __init__(
        self,
        specs: Mapping[str, SymbolSpec],
        *,
        balance: float,
        currency: str,
        leverage: int,
        quote: Callable[[str], Tick],
    ) -> None:
        self.specs = specs
        self.balance = round(balance, 2)
        self.currency = currency
        self.leverage = leverage
        self.quote = quote
        self.positions: dict[int, OpenPosition] = {}
        self.orders: dict[int, PendingOrder] = {}
        self.deals: list[TradeDeal] = []
        self.history_orders: list[TradeOrder] = []  # filled and cancelled, oldest first
        # symbol -> (contract size, the routes of its profit and base currencies' rates)
        self._plans: dict[str, tuple[float, tuple[str, bool], tuple[str, bool]]] = {}
        # The current book's money by the (bid, ask) of its one symbol, or by the tuple of
        # each one's (bid, ask) when it reads more (``_reads``: fixed until the book changes,
        # so a book's keys all have one shape).
        self._values: dict[tuple[float, float] | tuple[tuple[float, float], ...], Kept] = {}
        self._reads: tuple[str, ...] | None = None  # the symbols valuing the book reads

    # -- changes -------------------------------------------------------------

    def open_position(self, position: OpenPosition) -> None:
        """Add ``position`` to the book."""
        self.positions[position.ticket] = position
        self.forget_values()

    def close_position(self, position: OpenPosition, volume: float, close: float) -> float:
        """Close ``volume`` lots of ``position`` at ``close``: its profit (returned) goes to
        the balance, and the position goes when no volume is left."""
        profit = self.profit(position, close, volume)
        self.balance = round(self.balance + profit, 2)
        position.volume = round(position.volume - volume, 8)
        if position.volume <= VOLUME_EPS:
            del self.positions[position.ticket]
        self.forget_values()
        return profit

    def book_to_balance(self, amount: float) -> None:
        """Add ``amount`` (negative takes money out) to the balance."""
        self.balance = round(self.balance + amount, 2)
        self.forget_values()

    def forget_values(self) -> None:
        """The balance or the positions changed: value the book afresh from now on."""
        self._values.clear()
        self._reads = None

    # -- money ---------------------------------------------------------------

    def rate(self, currency: str) -> float:
        """Account-currency value of one unit of ``currency`` (1.0 when unknown)."""
        if currency == self.currency:
            return 1.0
        for name, invert in ((currency + self.currency, False), (self.currency + currency, True)):
            if name in self.specs:
                tick = self.quote(name)
                mid = (tick.bid + tick.ask) / 2
                return 1 / mid if invert else mid
        return 1.0

    def margin_for(self, symbol: str, volume: float) -> float:
        """Margin of ``volume`` lots: contract value in the base currency / leverage."""
        spec = self.specs[symbol]
        return volume * spec.contract_size / self.leverage * self.rate(spec.currency_base)

    def close_price(self, position: OpenPosition) -> float:
        """The price ``position`` would close at now: bid for a buy, ask for a sell."""
        tick = self.quote(position.symbol)
        return tick.bid if position.type == c.POSITION_TYPE_BUY else tick.ask

    def profit(self, position: OpenPosition, close: float, volume: float) -> float:
        """Profit of closing ``volume`` lots at ``close``, in account money (2 decimals)."""
        spec = self.specs[position.symbol]
        diff = close - position.price_open
        if position.type == c.POSITION_TYPE_SELL:
            diff = -diff
        return round(diff * volume * spec.contract_size * self.rate(spec.currency_profit), 2)

    @contextmanager
    def _one_instant(self) -> Iterator[None]:
        """Read each symbol's quote once while valuing the book (one instant, under the lock)."""
        live = self.quote
        self.quote = _read_once(live)
        try:
            yield
        finally:
            self.quote = live

    def snapshot(self, extra_margin: float = 0.0) -> AccountSnapshot:
        """Current money; ``extra_margin`` adds a prospective trade's margin.

        Without ``extra_margin``, the book's money at prices it was valued at before
        (since it last changed) is the snapshot made then: the quotes are read (as
        valuing the book reads them) and their prices looked up.
        """
        if not self.positions:
            return idle_snapshot(self.balance, extra_margin)
        if extra_margin:
            return self._valued(extra_margin, {})
        return self.kept().money

    def kept(self) -> Kept:
        """The book's money at the current prices (the book has positions): kept since the
        book last changed, or valued now and kept."""
        reads = self._reads
        if reads is None:
            reads = self._reads = self._read_symbols()
        quote = self.quote
        if len(reads) == 1:  # most books: one symbol, in the account currency
            symbol = reads[0]
            tick = quote(symbol)
            prices: tuple[float, float] | tuple[tuple[float, float], ...] = _prices(tick)
            kept = self._values.get(prices)
            if kept is None:
                kept = self._keep(prices, {symbol: tick})
            return kept
        ticks = [quote(symbol) for symbol in reads]
        prices = tuple(map(_prices, ticks))
        kept = self._values.get(prices)
        if kept is None:
            kept = self._keep(prices, dict(zip(reads, ticks, strict=True)))
        return kept

    def _keep(self, prices: tuple[float, float] | tuple[tuple[float, float], ...],
              ticks: dict[str, Tick]) -> Kept:
        """The book valued at ``ticks`` (each symbol it reads), kept by their ``prices``."""
        values = self._values
        if len(values) >= _VALUES_KEPT:
            del values[next(iter(values))]  # the oldest
        kept = values[prices] = Kept(self._valued(0.0, ticks))
        return kept

    def _read_symbols(self) -> tuple[str, ...]:
        """The symbols whose quotes valuing the book reads (:meth:`_valued`), each once."""
        reads: dict[str, None] = {}
        for p in self.positions.values():
            reads[p.symbol] = None
            for route in (self._route(self.specs[p.symbol].currency_profit),
                          self._route(self.specs[p.symbol].currency_base)):
                if route[0]:
                    reads[route[0]] = None
        return tuple(reads)

    def _valued(self, extra_margin: float, ticks: dict[str, Tick]) -> AccountSnapshot:
        """The book at one instant, in one pass: each symbol's quote (from ``ticks``, filled
        as read) and each currency's rate read once. The same arithmetic, in the same
        order, as :meth:`profit` and :meth:`margin_for` summed over the positions (so the
        same floats)."""
        leverage = self.leverage
        # per symbol: (bid, ask, contract size, profit currency's rate, base currency's rate)
        terms: dict[str, tuple[float, float, float, float, float]] = {}
        profits: list[float] = []
        margins: list[float] = []
        symbol: str | None = None
        for p in self.positions.values():
            if p.symbol != symbol:  # a book's positions are mostly of one symbol, in a row
                symbol = p.symbol
                term = terms.get(symbol)
                if term is None:
                    term = terms[symbol] = self._terms(symbol, ticks)
                bid, ask, size, for_profit, for_margin = term
            kind = p.type
            if kind == _BUY:
                diff = bid - p.price_open
            else:
                diff = ask - p.price_open
                if kind == _SELL:
                    diff = -diff
            volume = p.volume
            profits.append(rounded(diff * volume * size * for_profit, 2))
            margins.append(volume * size / leverage * for_margin)
        # sum(), not += in the loop: sum() adds floats differently from Python 3.12 on
        # (compensated), and the book must be worth what sum() always made it.
        balance = self.balance
        profit = rounded(sum(profits, 0.0), 2)
        equity = rounded(balance + profit, 2)
        margin = rounded(sum(margins, 0.0) + extra_margin, 2)
        return _snapshot(AccountSnapshot, (balance, profit, equity, margin,
                                           rounded(equity - margin, 2), _level(equity, margin)))

    def _terms(self, symbol: str, ticks: dict[str, Tick]
               ) -> tuple[float, float, float, float, float]:
        """What valuing a position on ``symbol`` needs, its quotes read from ``ticks``
        (filled as read)."""
        plan = self._plans.get(symbol)
        if plan is None:
            spec = self.specs[symbol]
            plan = self._plans[symbol] = (spec.contract_size, self._route(spec.currency_profit),
                                          self._route(spec.currency_base))
        size, for_profit, for_margin = plan
        tick = ticks.get(symbol)
        if tick is None:
            tick = ticks[symbol] = self.quote(symbol)
        return (tick.bid, tick.ask, size,
                self._rate_at(*for_profit, ticks) if for_profit[0] else 1.0,
                self._rate_at(*for_margin, ticks) if for_margin[0] else 1.0)

    def _rate_at(self, name: str, invert: bool, ticks: dict[str, Tick]) -> float:
        """:meth:`rate` by its route (:meth:`_route`), its quote read from ``ticks`` (filled
        as read)."""
        tick = ticks.get(name)
        if tick is None:
            tick = ticks[name] = self.quote(name)
        mid = (tick.bid + tick.ask) / 2
        return 1 / mid if invert else mid

    def _route(self, currency: str) -> tuple[str, bool]:
        """The symbol :meth:`rate` reads for ``currency`` and whether it inverts its mid
        (``""``: none, the rate is 1.0)."""
        if currency == self.currency:
            return "", False
        for name, invert in ((currency + self.currency, False), (self.currency + currency, True)):
            if name in self.specs:
                return name, invert
        return "", False

    # -- records -------------------------------------------------------------

    def position_records(self) -> list[TradePosition]:
        """Open positions with current price and floating profit."""
        out = []
        with self._one_instant():
            for pos in self.positions.values():
                close = self.close_price(pos)
                out.append(pos.record(close, self.profit(pos, close, pos.volume)))
        return out

    def order_records(self) -> list[TradeOrder]:
        """Active pending orders with the current price."""
        out = []
        for order in self.orders.values():
            tick = self.quote(order.symbol)
            out.append(order.record(tick.ask if rules.is_buy(order.type) else tick.bid))
        return out


def _read_once(live: Callable[[str], Tick]) -> Callable[[str], Tick]:
    """``live``, reading each symbol's quote once: the book valued at one instant."""
    ticks: dict[str, Tick] = {}

    def quote(symbol: str) -> Tick:
        tick = ticks.get(symbol)
        if tick is None:
            tick = ticks[symbol] = live(symbol)
        return tick

    return quote
