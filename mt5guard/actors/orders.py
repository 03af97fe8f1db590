"""Order placement that never duplicates: the journal and the reconciliation.

Every order carries a client order id in its MT5 ``comment`` (``mg-<id>``).
The :class:`OrderJournal` outlives SessionActor restarts, so an id that was
ever handed to ``order_send`` is never sent again: a retry with the same id is
answered from the journal or by reading the terminal's orders and deals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs

from mt5guard.errors import MT5Error, MT5OrderOutcomeUnknown
from mt5guard.messages import OrderOutcome, OrderRequest, Side
from mt5guard.terminal.constants import (
    ORDER_COMMENT_MAX_LENGTH,
    ORDER_FILLING_IOC,
    ORDER_TIME_GTC,
    ORDER_TYPE_BUY,
    ORDER_TYPE_SELL,
    TRADE_ACTION_DEAL,
    TRADE_RETCODE_DONE,
    TRADE_RETCODE_PLACED,
)

__all__ = ["OrderJournal", "comment_for", "find_outcome", "trade_request"]

COMMENT_PREFIX = "mg-"


def comment_for(order: OrderRequest) -> str:
    """The MT5 comment: the client order id first, the user's text if it fits."""
    text = f"{COMMENT_PREFIX}{order.client_order_id}"
    if order.comment:
        text = f"{text} {order.comment}"
    return text[:ORDER_COMMENT_MAX_LENGTH]


def trade_request(order: OrderRequest, price: float) -> dict[str, Any]:
    """The ``order_send`` dict for a market order at ``price``."""
    return {
        "action": TRADE_ACTION_DEAL,
        "symbol": order.symbol,
        "volume": order.volume,
        "type": ORDER_TYPE_BUY if order.side is Side.BUY else ORDER_TYPE_SELL,
        "price": price,
        "sl": order.sl,
        "tp": order.tp,
        "deviation": order.deviation,
        "magic": order.magic,
        "comment": comment_for(order),
        "type_time": ORDER_TIME_GTC,
        "type_filling": ORDER_FILLING_IOC,
        "position": order.position,
    }


@attrs.define
class JournalEntry:
    order: OrderRequest
    sent_at: datetime
    state: str = "sending"
    """``sending`` (outcome not known yet), ``done`` or ``unknown``."""
    outcome: OrderOutcome | None = None
    error: MT5Error | None = None


class OrderJournal:
    """Client order ids ever sent by one account, and what became of them.

    Shared by every incarnation of the account's SessionActor (only one runs
    at a time); the lock only guards readers on other threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, JournalEntry] = {}

    def get(self, client_order_id: str) -> JournalEntry | None:
        with self._lock:
            return self._entries.get(client_order_id)

    def record_sending(self, order: OrderRequest, at: datetime) -> JournalEntry:
        with self._lock:
            entry = JournalEntry(order, at)
            self._entries[order.client_order_id] = entry
            return entry

    def unresolved(self) -> list[JournalEntry]:
        with self._lock:
            return [e for e in self._entries.values() if e.state != "done"]


def find_outcome(
    order: OrderRequest,
    sent_at: datetime,
    now: datetime,
    deals_between: Callable[[datetime, datetime], tuple[Any, ...]],
    open_orders: Callable[[], tuple[Any, ...]],
) -> OrderOutcome | None:
    """Look the order up by its comment among deals, then among open orders.

    Raises whatever the lookups raise (an :class:`MT5Error` when the terminal
    cannot answer); returns None when the terminal answered and knows nothing
    of the order.
    """
    mark = comment_for(order).split(" ", 1)[0]
    window_from, window_to = sent_at - timedelta(minutes=5), now + timedelta(minutes=5)
    for deal in deals_between(window_from, window_to):
        if str(deal.comment).startswith(mark):
            return OrderOutcome(
                order.client_order_id, TRADE_RETCODE_DONE, int(deal.order), int(deal.ticket),
                float(deal.volume), float(deal.price), "executed (read back from deals)", True,
            )
    for pending in open_orders():
        if str(pending.comment).startswith(mark):
            return OrderOutcome(
                order.client_order_id, TRADE_RETCODE_PLACED, int(pending.ticket), 0,
                float(pending.volume_current), float(pending.price_open),
                "placed (read back from open orders)", True,
            )
    return None


def unknown_outcome(order: OrderRequest, why: str) -> MT5OrderOutcomeUnknown:
    return MT5OrderOutcomeUnknown(
        operation="place_order",
        client_order_id=order.client_order_id,
        detail=f"{why}; the order was NOT re-sent",
    )
