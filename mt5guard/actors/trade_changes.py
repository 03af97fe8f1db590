"""Changes to what is already in the book: modify SL/TP, close a position, cancel an order.

Each change carries a client order id and goes through the account's
:class:`~mt5guard.actors.orders.OrderJournal` like an order: an id that was
handed to ``order_send`` once is never sent again (the session answers a
retry from the journal). Closing is an opposite market order naming the
position, so it *is* an order (:meth:`TerminalOps.place`, reconciled from
deals by its ``mg-<id>`` comment). A modification or cancellation whose reply
is lost is read back from the position's stops or the order's absence.

Runs on the SessionActor's thread; :func:`check_change` runs in the caller's.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import Any

from mt5guard.actors._session_ops import TerminalOps
from mt5guard.actors.orders import COMMENT_PREFIX, JournalEntry, OrderJournal
from mt5guard.bus import EventBus
from mt5guard.clock import Clock
from mt5guard.errors import (
    MT5ConnectionError,
    MT5Error,
    MT5OrderOutcomeUnknown,
    MT5StateError,
    MT5TimeoutError,
    MT5ValidationError,
    error_from_last_error,
    error_from_retcode,
)
from mt5guard.messages import ChangeKind, OrderOutcome, OrderRequest, Side, TradeChange
from mt5guard.terminal import Terminal
from mt5guard.terminal.constants import (
    POSITION_TYPE_BUY,
    TRADE_ACTION_REMOVE,
    TRADE_ACTION_SLTP,
    TRADE_RETCODE_DONE,
    TRADE_RETCODE_TIMEOUT,
)

__all__ = ["apply_change", "check_change"]

_UNKNOWN_AFTER_SEND = (MT5TimeoutError, MT5ConnectionError)


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
    if client_order_id is None:
        client_order_id = uuid.uuid4().hex[:12]
    elif not (isinstance(client_order_id, str) and client_order_id.isalnum()) or len(client_order_id) > 20:
        raise bad("client_order_id", "client_order_id must be 1-20 letters or digits")
    return TradeChange(client_order_id, kind, ticket, _num(sl), _num(tp), _num(volume), deviation)


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def apply_change(change: TradeChange, ops: TerminalOps, terminal: Terminal, journal: OrderJournal,
                 bus: EventBus, clock: Clock,
                 stops_set: Callable[[int, float, float], None] | None = None) -> OrderOutcome:
    """Carry out ``change`` once; its id must not be in the journal yet (the session checks).

    ``stops_set(ticket, sl, tp)`` is told the stops a modification asks for before it is sent.
    """
    op = change.kind.value
    if change.kind is ChangeKind.CANCEL:
        order = _one(terminal, op, "orders_get", change.ticket, "pending order")
        side = Side.BUY if int(order.type) % 2 == 0 else Side.SELL
        request: dict[str, Any] = {"action": TRADE_ACTION_REMOVE, "order": change.ticket}
        record = OrderRequest(change.client_order_id, str(order.symbol), side,
                              float(order.volume_current), comment=op, position=0)
        return _send(change, request, record, ops, terminal, journal, clock)
    pos = _one(terminal, op, "positions_get", change.ticket, "open position")
    buy = int(pos.type) == POSITION_TYPE_BUY
    if change.kind is ChangeKind.CLOSE:
        volume = float(pos.volume) if change.volume is None else change.volume
        closing = OrderRequest(change.client_order_id, str(pos.symbol), Side.SELL if buy else Side.BUY,
                               volume, deviation=change.deviation, magic=int(pos.magic),
                               position=change.ticket)
        return ops.place(closing, journal, bus)
    sl = float(pos.sl) if change.sl is None else change.sl
    tp = float(pos.tp) if change.tp is None else change.tp
    request = {"action": TRADE_ACTION_SLTP, "symbol": str(pos.symbol), "position": change.ticket,
               "sl": sl, "tp": tp, "magic": int(pos.magic),
               "comment": f"{COMMENT_PREFIX}{change.client_order_id}"}
    record = OrderRequest(change.client_order_id, str(pos.symbol), Side.BUY if buy else Side.SELL,
                          float(pos.volume), sl, tp, magic=int(pos.magic), comment=op,
                          position=change.ticket)
    if stops_set is not None:
        stops_set(change.ticket, sl, tp)
    return _send(change, request, record, ops, terminal, journal, clock)


def _send(change: TradeChange, request: dict[str, Any], record: OrderRequest, ops: TerminalOps,
          terminal: Terminal, journal: OrderJournal, clock: Clock) -> OrderOutcome:
    op = change.kind.value
    check = _checked(terminal, op, terminal.order_check(request))
    rejected = error_from_retcode(int(check.retcode), str(check.comment), op)
    if rejected is not None:
        raise rejected
    entry = journal.record_sending(record, clock.now())
    try:
        result = _checked(terminal, op, terminal.order_send(request))
    except _UNKNOWN_AFTER_SEND as err:
        entry.state, entry.error = "unknown", err
        return _read_back(change, record, terminal, entry, f"reply lost ({err.terminal_message})")
    except MT5Error as err:
        entry.state, entry.error = "done", err
        raise
    retcode = int(result.retcode)
    if retcode == TRADE_RETCODE_TIMEOUT:
        entry.state = "unknown"
        return _read_back(change, record, terminal, entry, "the trade server timed out (10012)")
    entry.state = "done"
    failure = error_from_retcode(retcode, str(result.comment), op)
    if failure is not None:
        entry.error = failure
        raise failure
    entry.outcome = outcome = OrderOutcome(change.client_order_id, retcode, int(result.order), 0,
                                           record.volume, 0.0, str(result.comment))
    return outcome


def _read_back(change: TradeChange, record: OrderRequest, terminal: Terminal, entry: JournalEntry,
               why: str) -> OrderOutcome:
    """After a lost reply: the stops as asked, or the order gone, mean it was done."""
    try:
        if change.kind is ChangeKind.CANCEL:
            done = not _checked(terminal, "orders_get", terminal.orders_get(ticket=change.ticket))
        else:
            now = _checked(terminal, "positions_get", terminal.positions_get(ticket=change.ticket))
            done = bool(now) and (float(now[0].sl), float(now[0].tp)) == (record.sl, record.tp)
    except MT5Error:
        done = False
    if not done:
        raise MT5OrderOutcomeUnknown(operation=change.kind.value, client_order_id=change.client_order_id,
                                     detail=f"{why}; the change was NOT re-sent")
    entry.state = "done"
    entry.outcome = outcome = OrderOutcome(change.client_order_id, TRADE_RETCODE_DONE, 0, 0,
                                           record.volume, 0.0, "done (read back from the terminal)",
                                           True)
    return outcome


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
