"""Orders, position and order changes, and order/deal history, as Session calls.

A change is validated in the caller's thread, then one guarded hop to the
SessionActor. Pass your own ``client_order_id`` to make a retry safe: an id
the session has seen is never sent again (the earlier outcome is returned, or
:class:`~mt5guard.errors.MT5OrderOutcomeUnknown`). History calls take
``date_from..date_to`` (datetimes, naive = UTC, or epoch seconds).
"""

from __future__ import annotations

from datetime import datetime

from mt5guard.market import data as md
from mt5guard.orders.changes import check_change
from mt5guard.orders.messages import (
    ChangeKind,
    ChangeTrade,
    CheckOrder,
    OrderOutcome,
    OrderRequest,
    PlaceOrder,
    PlacePendingOrder,
    TradeChange,
)
from mt5guard.orders.pending import check_order_change, check_pending
from mt5guard.session._args import build_order
from mt5guard.session._core import Pending, SessionCore, checked
from mt5guard.session._market import read
from mt5guard.terminal.records import OrderCheckResult, TradeDeal, TradeOrder

__all__ = ["cancel_order", "close_position", "history_deals", "history_orders", "modify_order",
           "modify_position", "order_check", "place_order", "place_pending_order"]

When = datetime | int | float


def _send_order(core: SessionCore, order: OrderRequest) -> Pending[OrderOutcome]:
    return core.submit("place_order", lambda r, d: PlaceOrder(order, reply_to=r, deadline=d),
                       client_order_id=order.client_order_id)


place_order = checked("place_order", build_order, _send_order)  # build_order's arguments and docs


def _change(core: SessionCore, change: TradeChange) -> Pending[OrderOutcome]:
    return core.submit(change.kind.value, lambda r, d: ChangeTrade(change, reply_to=r, deadline=d),
                       client_order_id=change.client_order_id)


def modify_position(core: SessionCore, ticket: int, *, sl: float | None = None,
                    tp: float | None = None,
                    client_order_id: str | None = None) -> Pending[OrderOutcome]:
    """Set a position's stop loss and/or take profit (prices; 0 removes, None keeps)."""
    return _change(core, check_change(ChangeKind.MODIFY, ticket, sl=sl, tp=tp,
                                      client_order_id=client_order_id))


def close_position(core: SessionCore, ticket: int, volume: float | None = None, *,
                   deviation: int = 20,
                   client_order_id: str | None = None) -> Pending[OrderOutcome]:
    """Close ``volume`` lots of a position (None: all of it) at market; ``deviation`` in points."""
    return _change(core, check_change(ChangeKind.CLOSE, ticket, volume=volume,
                                      deviation=deviation, client_order_id=client_order_id))


def cancel_order(core: SessionCore, ticket: int, *,
                 client_order_id: str | None = None) -> Pending[OrderOutcome]:
    """Remove a pending order."""
    return _change(core, check_change(ChangeKind.CANCEL, ticket, client_order_id=client_order_id))


def place_pending_order(
    core: SessionCore, symbol: str, kind: str, volume: float, price: float, *,
    stoplimit: float = 0.0, sl: float = 0.0, tp: float = 0.0, expiry: str = "gtc",
    expiration: When | None = None, magic: int = 0, comment: str = "",
    client_order_id: str | None = None, filling: str | None = None,
    comment_overflow: str = "truncate",
) -> Pending[OrderOutcome]:
    """Place a pending order: ``kind`` ``buy_limit``, ``sell_limit``, ``buy_stop``,
    ``sell_stop``, ``buy_stop_limit`` (``stoplimit``: the limit it then places) or
    ``sell_stop_limit``; ``volume`` in lots, prices in the symbol's quote currency.

    ``expiry`` ``gtc``, ``day``, ``specified`` or ``specified_day`` (the last two
    with ``expiration``: a datetime, naive = UTC, or epoch seconds). The outcome's
    ``order`` is the ticket to modify or cancel; retcode 10008 means it is in the
    book. Never sent twice for one ``client_order_id``, like :meth:`place_order`.
    """
    order = check_pending(symbol, kind, volume, price, stoplimit=stoplimit, sl=sl, tp=tp,
                          expiry=expiry, expiration=expiration, magic=magic, comment=comment,
                          client_order_id=client_order_id, filling=filling,
                          comment_overflow=comment_overflow)
    return core.submit("place_pending_order",
                       lambda r, d: PlacePendingOrder(order, reply_to=r, deadline=d),
                       client_order_id=order.client_order_id)


def order_check(core: SessionCore, symbol: str, side: str, volume: float, *, sl: float = 0.0,
                tp: float = 0.0, deviation: int = 20, magic: int = 0, comment: str = "",
                position: int = 0, filling: str | None = None) -> Pending[OrderCheckResult]:
    """What the terminal's ``order_check`` says of this market order; nothing is sent.

    Retcode 0 ("Done") passes; ``margin``, ``margin_free`` and ``margin_level``
    describe the account as it would be after the trade.
    """
    order = build_order(symbol, side, volume, sl=sl, tp=tp, deviation=deviation, magic=magic,
                        comment=comment, position=position, filling=filling)
    return core.submit("order_check", lambda r, d: CheckOrder(order, reply_to=r, deadline=d))


def modify_order(core: SessionCore, ticket: int, *, price: float | None = None,
                 stoplimit: float | None = None, sl: float | None = None,
                 tp: float | None = None, expiry: str | None = None,
                 expiration: When | None = None,
                 client_order_id: str | None = None) -> Pending[OrderOutcome]:
    """Change a pending order's price, stop-limit price, stops or expiry (None keeps one)."""
    return _change(core, check_order_change(ticket, price=price, stoplimit=stoplimit, sl=sl,
                                            tp=tp, expiry=expiry, expiration=expiration,
                                            client_order_id=client_order_id))


def history_orders(core: SessionCore, date_from: When, date_to: When,
                   group: str | None = None) -> Pending[tuple[TradeOrder, ...]]:
    """Orders that left the book (filled, cancelled) set up within the range."""
    return read(core, "history_orders_get",
                md.check_history("history_orders_get", date_from, date_to, group))


def history_deals(core: SessionCore, date_from: When, date_to: When,
                  group: str | None = None) -> Pending[tuple[TradeDeal, ...]]:
    """Deals executed within the range."""
    return read(core, "history_deals_get",
                md.check_history("history_deals_get", date_from, date_to, group))
