"""Pending orders: buy/sell limit, stop and stop-limit; placing and modifying them.

Each goes through the account's write-ahead journal like a market order
(:meth:`OrderDesk.send_once`): an id handed to ``order_send`` once is never
sent again. A placement whose reply was lost is read back by its
``mg-<id>;`` comment (:data:`FINDERS`): in the book, or in history in any
state but rejected (an order that was placed and then expired or was
cancelled *was* placed: its id is not free again), or filled (its deals). A
modification is read back from the order's price and stops. Cancelling is
:func:`mt5guard.orders.changes.apply_change` with ``cancel_order``.

:func:`check_pending` and :func:`check_order_change` run in the caller's
thread; the rest on the SessionActor's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from mt5guard.errors import MT5Error, MT5StateError, MT5ValidationError, error_from_retcode
from mt5guard.orders.changes import same_price
from mt5guard.orders.desk import Finder, OrderDesk
from mt5guard.orders.journal import JournalEntry, OrderIntent
from mt5guard.orders.messages import ChangeKind, OrderOutcome, PendingOrderRequest, TradeChange
from mt5guard.orders.reconcile import Finding, Found, TerminalLookups, comment_id
from mt5guard.orders.request import (
    COMMENT_OVERFLOWS,
    EXPIRIES,
    PENDING_KINDS,
    check_client_order_id,
    fit_comment,
    modify_order_request,
    new_client_order_id,
    pending_request,
    same_request,
    symbol_arg,
    utc_date,
)
from mt5guard.terminal import constants as c
from mt5guard.terminal.calls import TerminalOps
from mt5guard.terminal.filling import FILLINGS

__all__ = ["FINDERS", "answer_known", "check_order_change", "check_pending", "modify_order",
           "place_pending"]

_PLACE = "place_pending_order"
_MODIFY = ChangeKind.MODIFY_ORDER.value
_STOP_LIMITS = ("buy_stop_limit", "sell_stop_limit")
_TIMED = ("specified", "specified_day")


def _price(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and \
        math.isfinite(value) and value >= 0


def _expiration(op: str, expiry: str, expiration: object) -> int:
    if expiry not in _TIMED:
        if expiration is not None:
            raise MT5ValidationError(operation=op, field="expiration", detail=(
                f"expiration only applies to expiry 'specified' or 'specified_day', not "
                f"{expiry!r}: leave it None"))
        return 0
    if expiration is None:
        raise MT5ValidationError(operation=op, field="expiration", detail=(
            f"expiry {expiry!r} needs expiration: a datetime (naive = UTC) or epoch seconds"))
    return int(utc_date(expiration, "expiration", op).timestamp())


def check_pending(symbol: object, kind: object, volume: object, price: object, *,
                  stoplimit: object = 0.0, sl: object = 0.0, tp: object = 0.0,
                  expiry: object = "gtc", expiration: object = None, magic: object = 0,
                  comment: object = "", client_order_id: object = None, filling: object = None,
                  comment_overflow: object = "truncate") -> PendingOrderRequest:
    """Validate a pending order before anything is sent; errors name the field and the fix."""

    def bad(field: str, fix: str) -> MT5ValidationError:
        return MT5ValidationError(operation=_PLACE, field=field, detail=fix)

    name = symbol_arg(symbol, _PLACE)
    if kind not in PENDING_KINDS:
        raise bad("kind", f"kind must be one of {', '.join(PENDING_KINDS)}, got {kind!r}")
    if not _price(volume) or volume == 0:
        raise bad("volume", f"volume must be a positive number of lots, got {volume!r}")
    if not _price(price) or price == 0:
        raise bad("price", f"price must be a positive price, got {price!r}")
    for field, value in (("stoplimit", stoplimit), ("sl", sl), ("tp", tp)):
        if not _price(value):
            raise bad(field, f"{field} must be a price >= 0 (0 = none), got {value!r}")
    if (kind in _STOP_LIMITS) != (stoplimit != 0):
        raise bad("stoplimit", "a stop-limit order needs stoplimit (the limit price it places) "
                               "and no other kind takes one")
    if expiry not in EXPIRIES:
        raise bad("expiry", f"expiry must be one of {', '.join(EXPIRIES)}, got {expiry!r}")
    stamp = _expiration(_PLACE, str(expiry), expiration)
    if isinstance(magic, bool) or not isinstance(magic, int) or not 0 <= magic < 2**63:
        raise bad("magic", f"magic must be a whole number from 0 to 2**63-1, got {magic!r}")
    if not isinstance(comment, str) or len(comment) > c.ORDER_COMMENT_MAX_LENGTH:
        raise bad("comment", f"comment must be text of at most {c.ORDER_COMMENT_MAX_LENGTH} "
                             "characters")
    if filling is not None and filling not in FILLINGS:
        raise bad("filling", f"filling must be None or one of {', '.join(FILLINGS)}, "
                             f"got {filling!r}")
    if comment_overflow not in COMMENT_OVERFLOWS:
        raise bad("comment_overflow", "comment_overflow must be 'truncate' or 'refuse'")
    cid = check_client_order_id(
        new_client_order_id() if client_order_id is None else client_order_id, _PLACE)
    if comment_overflow == "refuse":
        fit_comment(cid, comment, overflow="refuse", operation=_PLACE)
    return PendingOrderRequest(cid, name, str(kind), _f(volume), _f(price), _f(stoplimit),
                               _f(sl), _f(tp), str(expiry), stamp, magic, comment,
                               None if filling is None else str(filling))


def check_order_change(ticket: object, *, price: object = None, stoplimit: object = None,
                       sl: object = None, tp: object = None, expiry: object = None,
                       expiration: object = None, client_order_id: object = None) -> TradeChange:
    """Validate a pending order's modification (None keeps a value)."""

    def bad(field: str, fix: str) -> MT5ValidationError:
        return MT5ValidationError(operation=_MODIFY, field=field, detail=fix)

    if isinstance(ticket, bool) or not isinstance(ticket, int) or ticket <= 0:
        raise bad("ticket", f"ticket must be the pending order's ticket (an int > 0), got {ticket!r}")
    for field, value in (("price", price), ("stoplimit", stoplimit), ("sl", sl), ("tp", tp)):
        if value is not None and not _price(value):
            raise bad(field, f"{field} must be a price >= 0, or None to keep it, got {value!r}")
    if price == 0:
        raise bad("price", "price must be positive")
    if expiry is not None and expiry not in EXPIRIES:
        raise bad("expiry", f"expiry must be None or one of {', '.join(EXPIRIES)}, got {expiry!r}")
    if all(v is None for v in (price, stoplimit, sl, tp, expiry, expiration)):
        raise bad("price", "give price, stoplimit, sl, tp, expiry or expiration: a modification "
                           "without any changes nothing")
    stamp = None
    if expiration is not None:
        stamp = int(utc_date(expiration, "expiration", _MODIFY).timestamp())
    cid = check_client_order_id(
        new_client_order_id() if client_order_id is None else client_order_id, _MODIFY)
    return TradeChange(cid, ChangeKind.MODIFY_ORDER, ticket, _num(sl), _num(tp),
                       price=_num(price), stoplimit=_num(stoplimit),
                       expiry=None if expiry is None else str(expiry), expiration=stamp)


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _f(value: object) -> float:
    assert isinstance(value, (int, float)), value  # checked by the caller
    return float(value)


def _verdict(ops: TerminalOps, terminal: Any, op: str, request: dict[str, Any]) -> dict[str, Any]:
    check = ops.call(op, terminal.order_check, request)
    rejected = error_from_retcode(int(check.retcode), str(check.comment), op)
    if rejected is not None:
        raise rejected
    return request


def place_pending(order: PendingOrderRequest, desk: OrderDesk, ops: TerminalOps,
                  terminal: Any) -> OrderOutcome:
    """Place ``order`` at most once per client order id; retcode 10008 when it is in the book."""
    ops.check_symbol(order.symbol, _PLACE)

    def prepare() -> dict[str, Any]:
        filling = ops.filling(order.symbol, order.filling, _PLACE)
        return _verdict(ops, terminal, _PLACE, pending_request(order, filling))

    return desk.send_once(_intent(order), prepare)


def _intent(order: PendingOrderRequest) -> OrderIntent:
    return OrderIntent(order.client_order_id, _PLACE, order.symbol, order.side, order.volume,
                       {"kind": order.kind, "price": order.price, "stoplimit": order.stoplimit,
                        "sl": order.sl, "tp": order.tp, "magic": order.magic,
                        "type_time": EXPIRIES[order.expiry], "expiration": order.expiration})


def answer_known(desk: OrderDesk, entry: JournalEntry,
                 order: PendingOrderRequest) -> OrderOutcome | MT5Error:
    """A retry of a placement whose id is final in the journal: answered without a terminal
    call (or the error of an id reused for another order)."""
    try:
        same_request(entry, _intent(order))
    except MT5Error as err:
        return err
    return desk.cached(entry)


def modify_order(change: TradeChange, desk: OrderDesk, ops: TerminalOps,
                 terminal: Any) -> OrderOutcome:
    """Change a pending order's price, stops or expiry, at most once per client order id."""
    found = ops.call(_MODIFY, terminal.orders_get, ticket=change.ticket)
    if not found:
        raise MT5StateError(operation=_MODIFY, detail=f"no pending order with ticket "
                            f"{change.ticket} (filled, cancelled, expired, or not this account's)")
    order = found[0]
    price = float(order.price_open) if change.price is None else change.price
    stoplimit = float(order.price_stoplimit) if change.stoplimit is None else change.stoplimit
    sl = float(order.sl) if change.sl is None else change.sl
    tp = float(order.tp) if change.tp is None else change.tp
    type_time = int(order.type_time) if change.expiry is None else EXPIRIES[change.expiry]
    expiration = int(order.time_expiration) if change.expiration is None else change.expiration
    request = modify_order_request(change.client_order_id, change.ticket, price, stoplimit, sl,
                                   tp, type_time, expiration)
    side = "buy" if int(order.type) % 2 == 0 else "sell"
    ops.select(str(order.symbol))
    point = float(ops.call(_MODIFY, terminal.symbol_info, str(order.symbol)).point)
    intent = OrderIntent(change.client_order_id, _MODIFY, str(order.symbol), side,
                         float(order.volume_current),
                         {"ticket": change.ticket, "price": price, "sl": sl, "tp": tp,
                          "stoplimit": stoplimit, "type_time": type_time,
                          "expiration": expiration, "point": point})

    return desk.send_once(intent, lambda: _verdict(ops, terminal, _MODIFY, request))


def _placed(intent: OrderIntent, lookups: TerminalLookups, since: datetime,
            until: datetime) -> Finding:
    """A placement happened if its id is on a deal, in the book, or in history unrejected."""
    cid = intent.client_order_id
    deals = [d for d in lookups.history_deals(since, until) if comment_id(d.comment) == cid]
    if deals:
        volume = sum(float(d.volume) for d in deals)
        return Finding(Found.EXECUTED, int(deals[0].order), int(deals[0].ticket), volume,
                       float(deals[0].price), "placed and filled (read back from deals)")
    orders = [*lookups.open_orders(), *lookups.history_orders(since, until)]
    for order in _with_id(orders, cid):
        side_ok = (int(order.type) % 2 == 0) == (intent.side == "buy")
        if str(order.symbol) != intent.symbol or not side_ok or \
                abs(float(order.volume_initial) - intent.volume) > 1e-9:
            return Finding(Found.MISMATCH, detail=(
                f"an order with id {cid!r} does not match the request ({order.symbol} "
                f"{float(order.volume_initial):g} lots vs {intent.symbol} {intent.volume:g})"))
        if int(order.state) == c.ORDER_STATE_REJECTED:
            return Finding(Found.NOT_EXECUTED, int(order.ticket), detail="rejected")
        return Finding(Found.PENDING, int(order.ticket), 0, float(order.volume_current),
                       float(order.price_open), f"placed (order state {int(order.state)})")
    return Finding(Found.NOTHING)


def _order_modified(intent: OrderIntent, lookups: TerminalLookups, _since: datetime,
                    _until: datetime) -> Finding:
    """A modification happened if the order now has the price, stops, stop-limit and expiry
    it asked for; prices at the symbol's precision (the server rounds them to its digits).
    (Entries written before stoplimit and expiry were kept are compared on the rest.)"""
    payload = intent.payload
    ticket = payload["ticket"]
    point = float(payload.get("point", 0.0))
    prices = [name for name in ("price", "sl", "tp", "stoplimit") if name in payload]
    times = [name for name in ("type_time", "expiration") if name in payload]
    for order in lookups.open_orders():
        held = {"price": float(order.price_open), "sl": float(order.sl), "tp": float(order.tp),
                "stoplimit": float(order.price_stoplimit), "type_time": int(order.type_time),
                "expiration": int(order.time_expiration)}
        if int(order.ticket) == ticket and \
                all(same_price(held[name], payload[name], point) for name in prices) and \
                all(held[name] == payload[name] for name in times):
            return Finding(Found.EXECUTED, ticket, 0, float(order.volume_current),
                           float(order.price_open), "the order has the price and stops asked for")
    return Finding(Found.NOTHING)


def _with_id(records: Iterable[Any], cid: str) -> list[Any]:
    return [r for r in records if comment_id(r.comment) == cid]


#: How a pending placement or modification whose reply was lost is read back.
FINDERS: dict[str, Finder] = {_PLACE: _placed, _MODIFY: _order_modified}
