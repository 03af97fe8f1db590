"""Changes to what is already in the book: modify SL/TP, close a position, cancel an order.

Each change carries a client order id and goes through the account's
write-ahead journal like an order (:meth:`OrderDesk.send_once`): an id that
was handed to ``order_send`` once is never sent again. Closing is an opposite
market order naming the position, so it *is* an order (reconciled from deals
by its ``mg-<id>;`` comment). A modification or cancellation whose reply is
lost is read back (:data:`FINDERS`) from the position's stops or the order's
absence, also after a restart.

Runs on the SessionActor's thread; :func:`check_change` runs in the caller's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from mt5guard.errors import (
    MT5Error,
    MT5IdempotencyConflict,
    MT5StateError,
    MT5ValidationError,
    error_from_last_error,
    error_from_retcode,
)
from mt5guard.orders import reconcile
from mt5guard.orders.desk import Finder, OrderDesk
from mt5guard.orders.journal import JournalEntry, OrderIntent
from mt5guard.orders.messages import ChangeKind, OrderOutcome, OrderRequest, Side, TradeChange
from mt5guard.orders.reconcile import Finding, Found, TerminalLookups
from mt5guard.orders.request import (
    check_client_order_id,
    new_client_order_id,
    remove_request,
    sltp_request,
)
from mt5guard.terminal import Terminal
from mt5guard.terminal.constants import ORDER_STATE_CANCELED, POSITION_TYPE_BUY

__all__ = ["FINDERS", "answer_known", "apply_change", "check_change"]


def check_change(kind: ChangeKind, ticket: object, *, sl: object = None, tp: object = None,
                 volume: object = None, deviation: object = 20,
                 client_order_id: object = None) -> TradeChange:
    """Validate a change before anything is sent; errors name the field and the fix."""
    op = kind.value

    def bad(field: str, fix: str) -> MT5ValidationError:
        return MT5ValidationError(operation=op, field=field, detail=fix)

    if isinstance(ticket, bool) or not isinstance(ticket, int) or ticket <= 0:
        raise bad("ticket", f"ticket must be the position's or order's ticket (an int > 0), got {ticket!r}")
    for name, value in (("sl", sl), ("tp", tp), ("volume", volume)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value < 0 or (name == "volume" and value == 0):
            what = "lots > 0, or None for the whole position" if name == "volume" else \
                "a price >= 0 (0 removes it, None keeps it)"
            raise bad(name, f"{name} must be {what}, got {value!r}")
    if kind is ChangeKind.MODIFY and sl is None and tp is None:
        raise bad("sl", "give sl, tp or both: a modification without either changes nothing")
    if isinstance(deviation, bool) or not isinstance(deviation, int) or deviation < 0:
        raise bad("deviation", f"deviation must be a whole number of points >= 0, got {deviation!r}")
    cid = check_client_order_id(
        new_client_order_id() if client_order_id is None else client_order_id, op)
    return TradeChange(cid, kind, ticket, _num(sl), _num(tp), _num(volume), deviation)


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def apply_change(change: TradeChange, desk: OrderDesk, terminal: Terminal,
                 stops_set: Callable[[int, float, float], None] | None = None) -> OrderOutcome:
    """Carry out ``change`` at most once per client order id.

    ``stops_set(ticket, sl, tp)`` is told the stops a modification asks for before it is sent.
    """
    op = change.kind.value
    answered = desk.answer_again(change.client_order_id, lambda known: _same_change(known, change))
    if answered is not None:
        return answered
    if change.kind is ChangeKind.CANCEL:
        order = _one(terminal, op, "orders_get", change.ticket, "pending order")
        side = "buy" if int(order.type) % 2 == 0 else "sell"
        request = remove_request(change.ticket)
        intent = OrderIntent(change.client_order_id, op, str(order.symbol), side,
                             float(order.volume_current),
                             {"ticket": change.ticket, "time_setup": int(order.time_setup),
                              "asked": _asked(change)})
        return desk.send_once(intent, lambda: _checked_request(terminal, op, request))
    pos = _one(terminal, op, "positions_get", change.ticket, "open position")
    buy = int(pos.type) == POSITION_TYPE_BUY
    if change.kind is ChangeKind.CLOSE:
        volume = float(pos.volume) if change.volume is None else change.volume
        closing = OrderRequest(change.client_order_id, str(pos.symbol),
                               Side.SELL if buy else Side.BUY, volume, deviation=change.deviation,
                               magic=int(pos.magic), position=change.ticket)
        return desk.place(closing, kind=op, asked=_asked(change))
    sl = float(pos.sl) if change.sl is None else change.sl
    tp = float(pos.tp) if change.tp is None else change.tp
    request = sltp_request(change.client_order_id, str(pos.symbol), change.ticket, sl, tp,
                           int(pos.magic))
    intent = OrderIntent(change.client_order_id, op, str(pos.symbol), "buy" if buy else "sell",
                         float(pos.volume), {"ticket": change.ticket, "sl": sl, "tp": tp,
                                             "point": _point(terminal, op, str(pos.symbol)),
                                             "asked": _asked(change)})
    if stops_set is not None:
        stops_set(change.ticket, sl, tp)
    return desk.send_once(intent, lambda: _checked_request(terminal, op, request))


def answer_known(desk: OrderDesk, entry: JournalEntry, change: TradeChange) -> OrderOutcome | MT5Error:
    """A retry of a change whose id is final in the journal: answered without a terminal call."""
    try:
        _same_change(entry, change)
    except MT5Error as err:
        return err
    return desk.cached(entry)


def _asked(change: TradeChange) -> dict[str, Any]:
    """What the caller asked for, before the position's values filled in the gaps."""
    return {"sl": change.sl, "tp": change.tp, "volume": change.volume,
            "deviation": change.deviation}


def _same_change(entry: JournalEntry, change: TradeChange) -> None:
    """A known id must come back with the same change; anything else is a conflict."""
    known = entry.intent
    asked = known.payload.get("asked")
    if known.kind != change.kind.value or known.payload.get("ticket", known.payload.get(
            "position")) != change.ticket or (asked is not None and asked != _asked(change)):
        raise MT5IdempotencyConflict(
            operation=change.kind.value, client_order_id=change.client_order_id,
            detail=f"{change.client_order_id!r} was already used for {known.kind} of ticket "
                   f"{known.payload.get('ticket', known.payload.get('position'))} "
                   f"({known.symbol} {known.side} {known.volume:g} lots"
                   f"{_shown(asked)}); choose another client_order_id")


def _shown(asked: dict[str, Any] | None) -> str:
    if not asked:
        return ""
    return ", " + ", ".join(f"{k}={v}" for k, v in asked.items() if v is not None)


def _checked_request(terminal: Terminal, op: str, request: dict[str, Any]) -> dict[str, Any]:
    check = _checked(terminal, op, terminal.order_check(request))
    rejected = error_from_retcode(int(check.retcode), str(check.comment), op)
    if rejected is not None:
        raise rejected
    return request


def _point(terminal: Terminal, op: str, symbol: str) -> float:
    """The symbol's price step: the server rounds stops to it."""
    terminal.symbol_select(symbol, True)
    return float(_checked(terminal, op, terminal.symbol_info(symbol)).point)


def same_price(a: float, b: float, point: float) -> bool:
    """Equal at the symbol's precision: within half a point (a server-rounded stop is equal)."""
    return abs(a - b) <= point / 2 + 1e-12 * max(1.0, abs(a), abs(b))


def _modified(intent: OrderIntent, lookups: TerminalLookups, _since: datetime,
              _until: datetime) -> Finding:
    """A modification happened if the position now has the stops it asked for."""
    ticket = intent.payload["ticket"]
    point = float(intent.payload.get("point", 0.0))
    for pos in _with_ticket(lookups.positions(), ticket):
        if same_price(float(pos.sl), intent.payload["sl"], point) and \
                same_price(float(pos.tp), intent.payload["tp"], point):
            return Finding(Found.EXECUTED, ticket, 0, float(pos.volume), 0.0,
                           "the position has the stops asked for")
    return Finding(Found.NOTHING)


def _cancelled(intent: OrderIntent, lookups: TerminalLookups, since: datetime,
               until: datetime) -> Finding:
    """A cancellation happened if the order left the book *cancelled*; one that filled
    (or expired) was not cancelled by us. Still in the book, or nowhere: unknown."""
    ticket = intent.payload["ticket"]
    if _with_ticket(lookups.open_orders(), ticket):
        return Finding(Found.NOTHING)
    setup = intent.payload.get("time_setup")
    if setup is not None:  # the order was set up before the cancel's own window
        since = min(since, datetime.fromtimestamp(float(setup) - 1.0, UTC))
    for order in _with_ticket(lookups.history_orders(since, until), ticket):
        if int(order.state) == ORDER_STATE_CANCELED:
            return Finding(Found.EXECUTED, ticket, 0, intent.volume, 0.0,
                           "the order left the book cancelled")
        filled = float(order.volume_initial) - float(order.volume_current)
        return Finding(Found.NOT_EXECUTED, ticket, detail=(
            f"order {ticket} left the book in state {int(order.state)} with {filled:g} lots "
            "filled: it was not cancelled"))
    return Finding(Found.NOTHING)


def _with_ticket(records: Iterable[Any], ticket: int) -> list[Any]:
    return [r for r in records if int(r.ticket) == ticket]


#: How a change whose reply was lost is read back, by :attr:`OrderIntent.kind`.
FINDERS: dict[str, Finder] = {
    ChangeKind.MODIFY.value: _modified,
    ChangeKind.CANCEL.value: _cancelled,
    ChangeKind.CLOSE.value: reconcile.find,
}


def _one(terminal: Terminal, op: str, getter: str, ticket: int, what: str) -> Any:
    found = _checked(terminal, op, getattr(terminal, getter)(ticket=ticket))
    if not found:
        raise MT5StateError(operation=op, detail=f"no {what} with ticket {ticket} "
                                                 "(closed, filled, or not this account's)")
    return found[0]


def _checked(terminal: Terminal, op: str, result: Any) -> Any:
    if result is None:
        code, message = terminal.last_error()
        raise error_from_last_error(code, message, op)
    return result
