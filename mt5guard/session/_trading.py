"""Position and order changes, and order/deal history, on Session and AsyncSession.

A change is validated in the caller's thread, then one guarded hop to the
SessionActor. Pass your own ``client_order_id`` to make a retry safe: an id
the session has seen is never sent again (the earlier outcome is returned, or
:class:`~mt5guard.errors.MT5OrderOutcomeUnknown`). History calls take
``date_from..date_to`` (datetimes, naive = UTC, or epoch seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mt5guard.market import data as md
from mt5guard.market.messages import ReadMarketData
from mt5guard.orders.changes import check_change
from mt5guard.orders.messages import (
    ChangeKind,
    ChangeTrade,
    CheckOrder,
    OrderOutcome,
    OrderRequest,
    PendingOrderRequest,
    PlacePendingOrder,
    TradeChange,
)
from mt5guard.orders.pending import check_order_change, check_pending
from mt5guard.session._args import build_order
from mt5guard.terminal.records import OrderCheckResult, TradeDeal, TradeOrder

if TYPE_CHECKING:
    from mt5guard.session.facade import Session

__all__ = ["AsyncTradingCalls", "TradingCalls"]

When = datetime | int | float
_Pending = tuple[str, "Future[Any]", float]


def _outcome(value: Any) -> OrderOutcome:
    outcome: OrderOutcome = value
    return outcome


def _orders(value: Any) -> tuple[TradeOrder, ...]:
    orders: tuple[TradeOrder, ...] = value
    return orders


def _deals(value: Any) -> tuple[TradeDeal, ...]:
    deals: tuple[TradeDeal, ...] = value
    return deals


class TradingCalls:
    """Blocking calls (mixed into Session)."""

    if TYPE_CHECKING:
        def _submit(self, operation: str,
                    make: Callable[[Future[Any], float], Any]) -> _Pending: ...
        def _wait(self, operation: str, reply: Future[Any], started: float) -> Any: ...

    def _change(self, change: TradeChange) -> _Pending:
        return self._submit(change.kind.value,
                            lambda r, d: ChangeTrade(change, reply_to=r, deadline=d))

    def _history(self, operation: str, date_from: When, date_to: When, group: str | None) -> _Pending:
        args = md.check_history(operation, date_from, date_to, group)
        return self._submit(operation, lambda r, d: ReadMarketData(operation, args, reply_to=r,
                                                                    deadline=d))

    def modify_position(self, ticket: int, *, sl: float | None = None, tp: float | None = None,
                        client_order_id: str | None = None) -> OrderOutcome:
        """Set a position's stop loss and/or take profit (prices; 0 removes, None keeps)."""
        change = check_change(ChangeKind.MODIFY, ticket, sl=sl, tp=tp, client_order_id=client_order_id)
        return _outcome(self._wait(*self._change(change)))

    def close_position(self, ticket: int, volume: float | None = None, *, deviation: int = 20,
                       client_order_id: str | None = None) -> OrderOutcome:
        """Close ``volume`` lots of a position (None: all of it) at market; ``deviation`` in points."""
        change = check_change(ChangeKind.CLOSE, ticket, volume=volume, deviation=deviation,
                              client_order_id=client_order_id)
        return _outcome(self._wait(*self._change(change)))

    def cancel_order(self, ticket: int, *, client_order_id: str | None = None) -> OrderOutcome:
        """Remove a pending order."""
        change = check_change(ChangeKind.CANCEL, ticket, client_order_id=client_order_id)
        return _outcome(self._wait(*self._change(change)))

    def place_pending_order(
        self, symbol: str, kind: str, volume: float, price: float, *, stoplimit: float = 0.0,
        sl: float = 0.0, tp: float = 0.0, expiry: str = "gtc", expiration: When | None = None,
        magic: int = 0, comment: str = "", client_order_id: str | None = None,
        filling: str | None = None, comment_overflow: str = "truncate",
    ) -> OrderOutcome:
        """Place a pending order: ``kind`` ``buy_limit``, ``sell_limit``, ``buy_stop``,
        ``sell_stop``, ``buy_stop_limit`` (``stoplimit``: the limit it then places) or
        ``sell_stop_limit``; ``volume`` in lots, prices in the symbol's quote currency.

        ``expiry`` ``gtc``, ``day``, ``specified`` or ``specified_day`` (the last two
        with ``expiration``: a datetime, naive = UTC, or epoch seconds). The outcome's
        ``order`` is the ticket to modify or cancel; retcode 10008 means it is in the
        book. Never sent twice for one ``client_order_id``, like :meth:`place_order`.
        """
        order = check_pending(symbol, kind, volume, price, stoplimit=stoplimit, sl=sl, tp=tp,
                              expiry=expiry, expiration=expiration, magic=magic,
                              comment=comment, client_order_id=client_order_id,
                              filling=filling, comment_overflow=comment_overflow)
        return _outcome(self._wait(*self._pending(order)))

    def _pending(self, order: PendingOrderRequest) -> _Pending:
        return self._submit("place_pending_order",
                            lambda r, d: PlacePendingOrder(order, reply_to=r, deadline=d))

    def order_check(self, symbol: str, side: str, volume: float, *, sl: float = 0.0,
                    tp: float = 0.0, deviation: int = 20, magic: int = 0, comment: str = "",
                    position: int = 0, filling: str | None = None) -> OrderCheckResult:
        """What the terminal's ``order_check`` says of this market order; nothing is sent.

        Retcode 0 ("Done") passes; ``margin``, ``margin_free`` and ``margin_level``
        describe the account as it would be after the trade.
        """
        order = build_order(symbol, side, volume, sl=sl, tp=tp, deviation=deviation, magic=magic,
                            comment=comment, position=position, filling=filling)
        result: OrderCheckResult = self._wait(*self._check(order))
        return result

    def _check(self, order: OrderRequest) -> _Pending:
        return self._submit("order_check", lambda r, d: CheckOrder(order, reply_to=r, deadline=d))

    def modify_order(self, ticket: int, *, price: float | None = None,
                     stoplimit: float | None = None, sl: float | None = None,
                     tp: float | None = None, expiry: str | None = None,
                     expiration: When | None = None,
                     client_order_id: str | None = None) -> OrderOutcome:
        """Change a pending order's price, stop-limit price, stops or expiry (None keeps one)."""
        change = check_order_change(ticket, price=price, stoplimit=stoplimit, sl=sl, tp=tp,
                                    expiry=expiry, expiration=expiration,
                                    client_order_id=client_order_id)
        return _outcome(self._wait(*self._change(change)))

    def history_orders(self, date_from: When, date_to: When,
                       group: str | None = None) -> tuple[TradeOrder, ...]:
        """Orders that left the book (filled, cancelled) set up within the range."""
        return _orders(self._wait(*self._history("history_orders_get", date_from, date_to, group)))

    def history_deals(self, date_from: When, date_to: When,
                      group: str | None = None) -> tuple[TradeDeal, ...]:
        """Deals executed within the range."""
        return _deals(self._wait(*self._history("history_deals_get", date_from, date_to, group)))


class AsyncTradingCalls:
    """The same calls as coroutines (mixed into AsyncSession)."""

    if TYPE_CHECKING:
        _s: Session
        async def _await(self, operation: str, reply: Future[Any], started: float) -> Any: ...

    async def modify_position(self, ticket: int, *, sl: float | None = None, tp: float | None = None,
                              client_order_id: str | None = None) -> OrderOutcome:
        change = check_change(ChangeKind.MODIFY, ticket, sl=sl, tp=tp, client_order_id=client_order_id)
        return _outcome(await self._await(*self._s._change(change)))

    async def close_position(self, ticket: int, volume: float | None = None, *, deviation: int = 20,
                             client_order_id: str | None = None) -> OrderOutcome:
        change = check_change(ChangeKind.CLOSE, ticket, volume=volume, deviation=deviation,
                              client_order_id=client_order_id)
        return _outcome(await self._await(*self._s._change(change)))

    async def cancel_order(self, ticket: int, *, client_order_id: str | None = None) -> OrderOutcome:
        change = check_change(ChangeKind.CANCEL, ticket, client_order_id=client_order_id)
        return _outcome(await self._await(*self._s._change(change)))

    async def place_pending_order(
        self, symbol: str, kind: str, volume: float, price: float, *, stoplimit: float = 0.0,
        sl: float = 0.0, tp: float = 0.0, expiry: str = "gtc", expiration: When | None = None,
        magic: int = 0, comment: str = "", client_order_id: str | None = None,
        filling: str | None = None, comment_overflow: str = "truncate",
    ) -> OrderOutcome:
        order = check_pending(symbol, kind, volume, price, stoplimit=stoplimit, sl=sl, tp=tp,
                              expiry=expiry, expiration=expiration, magic=magic,
                              comment=comment, client_order_id=client_order_id,
                              filling=filling, comment_overflow=comment_overflow)
        return _outcome(await self._await(*self._s._pending(order)))

    async def order_check(self, symbol: str, side: str, volume: float, *, sl: float = 0.0,
                          tp: float = 0.0, deviation: int = 20, magic: int = 0,
                          comment: str = "", position: int = 0,
                          filling: str | None = None) -> OrderCheckResult:
        order = build_order(symbol, side, volume, sl=sl, tp=tp, deviation=deviation, magic=magic,
                            comment=comment, position=position, filling=filling)
        result: OrderCheckResult = await self._await(*self._s._check(order))
        return result

    async def modify_order(self, ticket: int, *, price: float | None = None,
                           stoplimit: float | None = None, sl: float | None = None,
                           tp: float | None = None, expiry: str | None = None,
                           expiration: When | None = None,
                           client_order_id: str | None = None) -> OrderOutcome:
        change = check_order_change(ticket, price=price, stoplimit=stoplimit, sl=sl, tp=tp,
                                    expiry=expiry, expiration=expiration,
                                    client_order_id=client_order_id)
        return _outcome(await self._await(*self._s._change(change)))

    async def history_orders(self, date_from: When, date_to: When,
                             group: str | None = None) -> tuple[TradeOrder, ...]:
        pending = self._s._history("history_orders_get", date_from, date_to, group)
        return _orders(await self._await(*pending))

    async def history_deals(self, date_from: When, date_to: When,
                            group: str | None = None) -> tuple[TradeDeal, ...]:
        pending = self._s._history("history_deals_get", date_from, date_to, group)
        return _deals(await self._await(*pending))
