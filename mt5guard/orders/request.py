"""Market orders as the terminal and the journal see them.

Every order carries its client order id at the start of its MT5 ``comment``
(``mg-<id>;``, see :mod:`mt5guard.orders.reconcile`); the write-ahead journal
(:mod:`mt5guard.orders.journal`) and :class:`~mt5guard.orders.desk.OrderDesk`
make sure an id is never sent twice.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Any

import attrs

from mt5guard.errors import MT5ValidationError
from mt5guard.orders.journal import JournalEntry, OrderIntent
from mt5guard.orders.messages import OrderOutcome, OrderRequest, Side
from mt5guard.orders.reconcile import ID_PATTERN, id_comment
from mt5guard.terminal.constants import (
    ORDER_COMMENT_MAX_LENGTH,
    ORDER_FILLING_IOC,
    ORDER_TIME_GTC,
    ORDER_TYPE_BUY,
    ORDER_TYPE_SELL,
    TRADE_ACTION_DEAL,
)

__all__ = [
    "check_client_order_id",
    "comment_for",
    "intent_for",
    "new_client_order_id",
    "outcome_from_result",
    "outcome_to_result",
    "reply_fields",
    "same_request",
    "trade_request",
]

_ID = re.compile(ID_PATTERN)


def new_client_order_id() -> str:
    """A fresh random id (12 hex digits) for callers that did not bring one."""
    return uuid.uuid4().hex[:12]


def check_client_order_id(client_order_id: object, operation: str = "place_order") -> str:
    """The id if the comment can carry it exactly; :class:`MT5ValidationError` otherwise."""
    if not isinstance(client_order_id, str) or _ID.fullmatch(client_order_id) is None:
        raise MT5ValidationError(
            operation=operation, field="client_order_id",
            detail=f"client_order_id must be 1-20 characters from A-Z, a-z, 0-9, _ and - "
                   f"(it travels at the start of the 31-character MT5 comment), "
                   f"got {client_order_id!r}")
    return client_order_id


def comment_for(order: OrderRequest) -> str:
    """The MT5 comment: ``mg-<id>;`` first, then the user's text as far as it fits."""
    return id_comment(order.client_order_id, order.comment, ORDER_COMMENT_MAX_LENGTH)


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


def intent_for(order: OrderRequest, kind: str = "place") -> OrderIntent:
    """The journal's view of a market order (``kind`` ``close_position`` for a closing one)."""
    payload = attrs.asdict(order)
    payload["side"] = order.side.value
    return OrderIntent(order.client_order_id, kind, order.symbol, order.side.value,
                       order.volume, payload)


def outcome_to_result(outcome: OrderOutcome) -> dict[str, Any]:
    return {"outcome": attrs.asdict(outcome)}


def outcome_from_result(result: dict[str, Any] | None) -> OrderOutcome | None:
    if not result or "outcome" not in result:
        return None
    return OrderOutcome(**result["outcome"])


def same_request(entry: JournalEntry, intent: OrderIntent) -> None:
    """A known id asked for with another symbol, side, volume or kind is a caller's mistake."""
    known = entry.intent
    if (known.kind, known.symbol, known.side) != (intent.kind, intent.symbol, intent.side) or (
            abs(known.volume - intent.volume) > 1e-9):
        raise MT5ValidationError(
            operation="place_order" if intent.kind == "place" else intent.kind, field="client_order_id",
            detail=f"{intent.client_order_id!r} was already used for {known.kind} "
                   f"{known.symbol} {known.side} {known.volume:g} lots; this request does not "
                   "match it: choose another client_order_id")


def reply_fields(reply: Any) -> tuple[int, int, int, float, float, str] | None:
    """The fields of an OrderSendResult we rely on, or None if the reply is not shaped so."""
    try:
        values = (reply.retcode, reply.order, reply.deal, reply.volume, reply.price,
                  reply.comment)
    except AttributeError:
        return None
    retcode, order, deal, volume, price, comment = values
    ints_ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (retcode, order, deal))
    nums_ok = all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                  for v in (volume, price))
    if not (ints_ok and nums_ok and isinstance(comment, str)):
        return None
    return int(retcode), int(order), int(deal), float(volume), float(price), comment
