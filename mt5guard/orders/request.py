"""Requests the real MetaTrader5 module accepts, built in one place.

Every ``order_send`` / ``order_check`` dict mt5guard sends (market orders,
closes, SL/TP changes, cancellations) is built here and passed through
:func:`finished`, which applies the module's calling rules (read from the
5.0.6231 wheel; docs/testing.md lists them) before any call:

- ``volume``, ``price``, ``stoplimit``, ``sl`` and ``tp`` are floats (the
  module refuses an int);
- ``symbol`` and ``comment`` are at most 29 characters (the module counts the
  terminating zero against 30);
- the integer fields are ints within their C range (a negative ``magic``
  makes the module raise ``SystemError`` instead of answering None);
- ``expiration`` is an int of seconds since the epoch (a datetime is refused).

Every order carries its client order id at the start of its MT5 ``comment``
(``mg-<id>;``, see :mod:`mt5guard.orders.reconcile`), always intact; the
caller's text follows in what is left of the 29 characters. By default it is
cut to fit (``comment_overflow="truncate"``); ``"refuse"`` raises
:class:`MT5ValidationError` before anything is sent. The write-ahead journal
(:mod:`mt5guard.orders.journal`) and :class:`~mt5guard.orders.desk.OrderDesk`
make sure an id is never sent twice.

``type_filling`` comes from :func:`mt5guard.terminal.filling.choose_filling`: the symbol's
``filling_mode`` flags and ``trade_exemode`` decide, unless the order or the
account's config names one.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from typing import Any, Final, Literal

import attrs

from mt5guard.errors import MT5IdempotencyConflict, MT5ValidationError
from mt5guard.orders.journal import JournalEntry, OrderIntent
from mt5guard.orders.messages import OrderOutcome, OrderRequest, PendingOrderRequest, Side
from mt5guard.orders.reconcile import COMMENT_PREFIX, ID_PATTERN
from mt5guard.terminal import constants as c
from mt5guard.terminal.args import count_arg, symbol_arg, utc_date, utf16_length
from mt5guard.terminal.filling import FILLINGS, choose_filling

__all__ = [
    "COMMENT_OVERFLOWS",
    "EXPIRIES",
    "FILLINGS",
    "PENDING_KINDS",
    "check_client_order_id",
    "choose_filling",
    "comment_for",
    "comment_room",
    "count_arg",
    "finished",
    "fit_comment",
    "intent_for",
    "modify_order_request",
    "new_client_order_id",
    "outcome_from_result",
    "outcome_to_result",
    "pending_request",
    "remove_request",
    "reply_fields",
    "same_request",
    "sltp_request",
    "symbol_arg",
    "trade_request",
    "utc_date",
]

_ID = re.compile(ID_PATTERN)
CommentOverflow = Literal["truncate", "refuse"]
COMMENT_OVERFLOWS: Final = ("truncate", "refuse")
_FLOATS = ("volume", "price", "stoplimit", "sl", "tp")
_UNSIGNED = ("magic", "order", "deviation", "position", "position_by")
_ENUMS = ("action", "type", "type_filling", "type_time")
_U63 = 2**63  # tickets and magic numbers: unsigned 64-bit in MT5, kept below 2**63 here
_I32 = 2**31
#: Request fields besides kind, symbol, side and volume that a resend must repeat
#: (``asked``: what a modify or close was asked for, before defaults were filled in;
#: ``kind`` .. ``expiration``: a pending order's and its modification's own fields).
_SAME = ("sl", "tp", "magic", "position", "asked", "kind", "price", "stoplimit", "type_time",
         "expiration")


def new_client_order_id() -> str:
    """A fresh random id (12 hex digits) for callers that did not bring one."""
    return uuid.uuid4().hex[:12]


def check_client_order_id(client_order_id: object, operation: str = "place_order") -> str:
    """The id if the comment can carry it exactly; :class:`MT5ValidationError` otherwise."""
    if not isinstance(client_order_id, str) or _ID.fullmatch(client_order_id) is None:
        raise MT5ValidationError(
            operation=operation, field="client_order_id",
            detail=f"client_order_id must be 1-20 characters from A-Z, a-z, 0-9, _ and - "
                   f"(it travels at the start of the {c.ORDER_COMMENT_MAX_LENGTH}-character "
                   f"MT5 comment), got {client_order_id!r}")
    return client_order_id


def comment_room(client_order_id: str) -> int:
    """Characters (UTF-16 units) left for the caller's text after ``mg-<id>;``."""
    return c.ORDER_COMMENT_MAX_LENGTH - len(f"{COMMENT_PREFIX}{client_order_id};")


def fit_comment(client_order_id: str, text: str = "", *,
                overflow: CommentOverflow = "truncate", operation: str = "place_order") -> str:
    """``mg-<id>;`` then as much of ``text`` as fits in 29 characters.

    With ``overflow="refuse"`` a text that does not fit raises
    :class:`MT5ValidationError` instead of being cut.
    """
    mark = f"{COMMENT_PREFIX}{client_order_id};"
    room = comment_room(client_order_id)
    if utf16_length(text) <= room:
        return mark + text
    if overflow == "refuse":
        raise MT5ValidationError(
            operation=operation, field="comment",
            detail=f"{text!r} is {utf16_length(text)} characters; after the client order id "
                   f"({mark!r}) the {c.ORDER_COMMENT_MAX_LENGTH}-character MT5 comment has room "
                   f"for {room}: shorten it, use a shorter client_order_id, or pass "
                   "comment_overflow='truncate'")
    kept = text[:room]
    while utf16_length(kept) > room:  # characters above U+FFFF count twice
        kept = kept[:-1]
    return mark + kept


def comment_for(order: OrderRequest) -> str:
    """The MT5 comment of ``order``: ``mg-<id>;`` first, then its text as far as it fits."""
    return fit_comment(order.client_order_id, order.comment)


def finished(request: dict[str, Any], operation: str = "place_order") -> dict[str, Any]:
    """``request`` with every value as the module must get it; MT5ValidationError otherwise.

    Floats become floats, integers are checked against their range, strings
    against 29 characters. Nothing reaches the module that would make it
    answer ``Invalid "<field>" argument`` or raise ``SystemError``.
    """
    out: dict[str, Any] = {}

    def bad(field: str, fix: str) -> MT5ValidationError:
        return MT5ValidationError(operation=operation, field=field, detail=fix)

    for field, value in request.items():
        if field in _FLOATS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                raise bad(field, f"{field} must be a finite number, got {value!r}")
            out[field] = float(value)
        elif field in ("symbol", "comment"):
            if not isinstance(value, str) or utf16_length(value) > c.MT5_SHORT_STRING_MAX:
                raise bad(field, f"{field} must be text of at most {c.MT5_SHORT_STRING_MAX} "
                                 f"characters (the module's limit), got {value!r}")
            out[field] = value
        elif field in _UNSIGNED or field in _ENUMS or field == "expiration":
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad(field, f"{field} must be an int, got {value!r}")
            low, high = (0, _U63) if field in _UNSIGNED or field == "expiration" else (0, _I32)
            if not low <= value < high:
                raise bad(field, f"{field} must be within {low}..{high - 1}, got {value!r}")
            out[field] = int(value)
        else:
            raise bad(field, f"{field!r} is not a field of an MT5 trade request")
    return out


def trade_request(order: OrderRequest, price: float,
                  filling: int = c.ORDER_FILLING_IOC) -> dict[str, Any]:
    """The ``order_send`` dict for a market order at ``price`` with ``filling``."""
    return finished({
        "action": c.TRADE_ACTION_DEAL,
        "symbol": order.symbol,
        "volume": order.volume,
        "type": c.ORDER_TYPE_BUY if order.side is Side.BUY else c.ORDER_TYPE_SELL,
        "price": price,
        "sl": order.sl,
        "tp": order.tp,
        "deviation": order.deviation,
        "magic": order.magic,
        "comment": comment_for(order),
        "type_time": c.ORDER_TIME_GTC,
        "type_filling": filling,
        "position": order.position,
    })


#: Pending order kinds and expiry modes a caller names, and their ORDER_TYPE_* / ORDER_TIME_*.
PENDING_KINDS: Final[Mapping[str, int]] = {
    "buy_limit": c.ORDER_TYPE_BUY_LIMIT, "sell_limit": c.ORDER_TYPE_SELL_LIMIT,
    "buy_stop": c.ORDER_TYPE_BUY_STOP, "sell_stop": c.ORDER_TYPE_SELL_STOP,
    "buy_stop_limit": c.ORDER_TYPE_BUY_STOP_LIMIT, "sell_stop_limit": c.ORDER_TYPE_SELL_STOP_LIMIT}
EXPIRIES: Final[Mapping[str, int]] = {
    "gtc": c.ORDER_TIME_GTC, "day": c.ORDER_TIME_DAY, "specified": c.ORDER_TIME_SPECIFIED,
    "specified_day": c.ORDER_TIME_SPECIFIED_DAY}


def pending_request(order: PendingOrderRequest, filling: int) -> dict[str, Any]:
    """The ``order_send`` dict that places a pending order (``expiration`` an int, as the
    module demands)."""
    return finished({
        "action": c.TRADE_ACTION_PENDING,
        "symbol": order.symbol,
        "volume": order.volume,
        "type": PENDING_KINDS[order.kind],
        "price": order.price,
        "stoplimit": order.stoplimit,
        "sl": order.sl,
        "tp": order.tp,
        "magic": order.magic,
        "comment": fit_comment(order.client_order_id, order.comment,
                               operation="place_pending_order"),
        "type_time": EXPIRIES[order.expiry],
        "expiration": order.expiration,
        "type_filling": filling,
    }, "place_pending_order")


def modify_order_request(client_order_id: str, order: int, price: float, stoplimit: float,
                         sl: float, tp: float, type_time: int, expiration: int) -> dict[str, Any]:
    """The ``order_send`` dict that changes a pending order's price, stops and expiry."""
    return finished({"action": c.TRADE_ACTION_MODIFY, "order": order, "price": price,
                     "stoplimit": stoplimit, "sl": sl, "tp": tp, "type_time": type_time,
                     "expiration": expiration, "comment": fit_comment(client_order_id)},
                    "modify_order")


def sltp_request(client_order_id: str, symbol: str, position: int, sl: float, tp: float,
                 magic: int) -> dict[str, Any]:
    """The ``order_send`` dict that sets a position's stops (prices; 0 removes one)."""
    return finished({"action": c.TRADE_ACTION_SLTP, "symbol": symbol, "position": position,
                     "sl": sl, "tp": tp, "magic": magic,
                     "comment": fit_comment(client_order_id)}, "modify_position")


def remove_request(order: int) -> dict[str, Any]:
    """The ``order_send`` dict that deletes pending order ``order``."""
    return finished({"action": c.TRADE_ACTION_REMOVE, "order": order}, "cancel_order")


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
            abs(known.volume - intent.volume) > 1e-9) or any(
            key in known.payload and key in intent.payload
            and known.payload[key] != intent.payload[key] for key in _SAME):
        raise MT5IdempotencyConflict(
            operation="place_order" if intent.kind == "place" else intent.kind,
            client_order_id=intent.client_order_id,
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
