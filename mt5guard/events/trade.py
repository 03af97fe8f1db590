"""Trade events: what changed in the book between two polls, whoever changed it.

:func:`diff` is pure: two :class:`Book` snapshots and the deals that appeared
in between give the :mod:`mt5guard.messages` trade events, in this order:
deals (``OrderFilled`` for buys and sells, ``BalanceOperation`` for every
other deal type: deposits, credits, commissions, dividends... never a fill),
then positions (opened, modified, closed), then pending orders (placed,
cancelled). The SessionActor polls with
:class:`TradeWatch` while anyone watches and publishes the events on the
EventBus, so stops hit on the server and trades made by hand in the terminal
are reported like mt5guard's own (``external=True``: not ``mg-`` comments).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import Any

import attrs

from mt5guard.clock import PollTimer
from mt5guard.events.messages import (
    BalanceOperation,
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
    PollTrades,
    PositionClosed,
    PositionModified,
    PositionOpened,
    TradeEvent,
)
from mt5guard.orders.reconcile import comment_id
from mt5guard.terminal import constants as c

__all__ = ["Book", "TradeWatch", "diff"]

_REASONS = {0: "client", 1: "mobile", 2: "web", 3: "expert", 4: "sl", 5: "tp", 6: "so"}
_ENTRIES = {0: "in", 1: "out", 2: "inout", 3: "out_by"}
_FILLS = frozenset({c.DEAL_TYPE_BUY, c.DEAL_TYPE_SELL})
#: DEAL_TYPE_* values other than buy and sell, by the name BalanceOperation.kind gives them.
NON_TRADE_KINDS: dict[int, str] = {
    c.DEAL_TYPE_BALANCE: "balance", c.DEAL_TYPE_CREDIT: "credit", c.DEAL_TYPE_CHARGE: "charge",
    c.DEAL_TYPE_CORRECTION: "correction", c.DEAL_TYPE_BONUS: "bonus",
    c.DEAL_TYPE_COMMISSION: "commission", c.DEAL_TYPE_COMMISSION_DAILY: "commission_daily",
    c.DEAL_TYPE_COMMISSION_MONTHLY: "commission_monthly",
    c.DEAL_TYPE_COMMISSION_AGENT_DAILY: "commission_agent_daily",
    c.DEAL_TYPE_COMMISSION_AGENT_MONTHLY: "commission_agent_monthly",
    c.DEAL_TYPE_INTEREST: "interest", c.DEAL_TYPE_BUY_CANCELED: "buy_canceled",
    c.DEAL_TYPE_SELL_CANCELED: "sell_canceled", c.DEAL_DIVIDEND: "dividend",
    c.DEAL_DIVIDEND_FRANKED: "dividend_franked", c.DEAL_TAX: "tax",
}
_DEAL_WINDOW = timedelta(minutes=2)  # deals are looked up this far back, by ticket not yet seen


@attrs.frozen
class Book:
    """Positions and pending orders by ticket (the terminal's records)."""

    positions: dict[int, Any] = attrs.field(factory=dict)
    orders: dict[int, Any] = attrs.field(factory=dict)


def _external(comment: object) -> bool:
    return comment_id(comment) is None  # ours carry a complete mg-<id>; at the start


def _expired(order: Any, at: datetime) -> bool:
    """Whether ``order`` had reached its expiry by ``at`` (ORDER_TIME_DAY: the end of its day)."""
    kind, expiration = int(order.type_time), int(order.time_expiration)
    if kind == c.ORDER_TIME_SPECIFIED and expiration > 0:
        return at.timestamp() >= expiration
    day_of = expiration if kind == c.ORDER_TIME_SPECIFIED_DAY else int(order.time_setup)
    if kind in (c.ORDER_TIME_DAY, c.ORDER_TIME_SPECIFIED_DAY) and day_of > 0:
        return at.date() > datetime.fromtimestamp(day_of, at.tzinfo).date()
    return False


def _side(kind: int) -> str:
    return "buy" if int(kind) % 2 == 0 else "sell"


def diff(account: str, before: Book, after: Book, deals: Iterable[Any], at: datetime,
         ours: Callable[[int, float, float], bool] = lambda ticket, sl, tp: False) -> list[TradeEvent]:
    """The events that turn ``before`` into ``after``, given the deals made in between.

    ``ours(ticket, sl, tp)`` tells whether mt5guard set those stops (a stop
    change leaves no deal, so its origin is known only to the sender).
    """
    events: list[TradeEvent] = []
    closing: dict[int, Any] = {}
    filled_orders: set[int] = set()
    for d in deals:
        if int(d.type) not in _FILLS:
            kind = NON_TRADE_KINDS.get(int(d.type), f"type_{int(d.type)}")
            events.append(BalanceOperation(account, int(d.ticket), str(d.symbol), True, at, kind,
                                           float(d.profit), str(d.comment)))
            continue
        filled_orders.add(int(d.order))
        if int(d.entry) != 0:
            closing[int(d.position_id)] = d
        events.append(OrderFilled(
            account, int(d.order), str(d.symbol), _external(d.comment), at, int(d.ticket),
            int(d.position_id), _side(d.type), _ENTRIES.get(int(d.entry), str(d.entry)),
            float(d.volume), float(d.price), float(d.profit),
            _REASONS.get(int(d.reason), "unknown"), str(d.comment)))
    for ticket, p in after.positions.items():
        old = before.positions.get(ticket)
        if old is None:
            events.append(PositionOpened(account, ticket, str(p.symbol), _external(p.comment), at,
                                         _side(p.type), float(p.volume), float(p.price_open),
                                         float(p.sl), float(p.tp), str(p.comment)))
        elif (old.sl, old.tp, old.volume) != (p.sl, p.tp, p.volume):
            deal = closing.get(ticket)
            external = _external(deal.comment) if deal is not None else \
                not ours(ticket, float(p.sl), float(p.tp))
            events.append(PositionModified(account, ticket, str(p.symbol), external, at,
                                           float(old.sl), float(p.sl), float(old.tp), float(p.tp),
                                           float(old.volume), float(p.volume)))
    for ticket, p in before.positions.items():
        if ticket not in after.positions:
            deal = closing.get(ticket)
            events.append(PositionClosed(
                account, ticket, str(p.symbol), True if deal is None else _external(deal.comment), at,
                float(p.volume), 0.0 if deal is None else float(deal.price),
                0.0 if deal is None else float(deal.profit),
                "unknown" if deal is None else _REASONS.get(int(deal.reason), "unknown"),
                0 if deal is None else int(deal.ticket)))
    for ticket, o in after.orders.items():
        if ticket not in before.orders:
            events.append(OrderPlaced(account, ticket, str(o.symbol), _external(o.comment), at,
                                      int(o.type), float(o.volume_current), float(o.price_open),
                                      str(o.comment)))
    for ticket, o in before.orders.items():
        if ticket not in after.orders and ticket not in filled_orders:
            events.append(OrderCancelled(account, ticket, str(o.symbol), _external(o.comment), at,
                                         float(o.volume_current), _expired(o, at)))
    return events


class TradeWatch:
    """One account's watchers and the poll state; the hub outlives session restarts.

    ``interval`` is seconds of clock time between polls while anyone watches.
    """

    def __init__(self, account: str, clock: Any, interval: float = 1.0) -> None:
        self.account = account
        self._clock = clock
        self._lock = threading.Lock()
        self._watchers = 0
        self._timer = PollTimer(clock, interval, lambda: PollTrades(reply_to=Future()))
        self._book: Book | None = None  # None: the next poll only takes a baseline
        self._seen: dict[int, datetime] = {}
        self._our_stops: dict[int, tuple[float, float]] = {}

    def note_stops(self, ticket: int, sl: float, tp: float) -> None:
        """mt5guard set these stops on ``ticket`` (the session's thread only)."""
        self._our_stops[ticket] = (sl, tp)

    def _ours(self, ticket: int, sl: float, tp: float) -> bool:
        return self._our_stops.pop(ticket, None) == (sl, tp)

    def watch(self) -> Callable[[], None]:
        """Count one watcher; returns the function that uncounts it (idempotent)."""
        with self._lock:
            self._watchers += 1
        done = threading.Event()

        def unwatch() -> None:
            if not done.is_set():
                done.set()
                with self._lock:
                    self._watchers -= 1

        return unwatch

    def watched(self) -> bool:
        with self._lock:
            return self._watchers > 0

    def arm(self, actor_ref: Any) -> None:
        if not self.watched():
            self._book = None  # a later watcher starts from a fresh baseline
            return
        self._timer.arm(actor_ref)

    def fired(self) -> None:
        self._timer.fired()

    def cancel(self) -> None:
        self._timer.cancel()

    def poll(self, positions: Callable[[], tuple[Any, ...]], orders: Callable[[], tuple[Any, ...]],
             deals_between: Callable[[datetime, datetime], tuple[Any, ...]]) -> list[TradeEvent]:
        """Read the book and the recent deals; the events since the last poll."""
        now = self._clock.now()
        book = Book({int(p.ticket): p for p in positions()}, {int(o.ticket): o for o in orders()})
        recent = deals_between(now - _DEAL_WINDOW, now + _DEAL_WINDOW)
        fresh = [d for d in recent if int(d.ticket) not in self._seen]
        self._seen = {t: at for t, at in self._seen.items() if at > now - 2 * _DEAL_WINDOW}
        for d in fresh:
            self._seen[int(d.ticket)] = now
        before, self._book = self._book, book
        if before is None:
            return []
        events = diff(self.account, before, book, sorted(fresh, key=lambda d: int(d.ticket)), now,
                      self._ours)
        self._our_stops = {t: s for t, s in self._our_stops.items() if t in book.positions}
        return events
