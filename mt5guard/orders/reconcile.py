"""Reading an order back from the terminal by its exact client order id.

Every order's MT5 ``comment`` starts with ``mg-<id>;`` (comments are short,
commonly 31 characters, and servers may change their *last* part, so the id
comes first and is closed by ``;``: a comment cut short no longer carries a
complete id and matches nothing). The match is on the exact id, never a
prefix: ``A1`` is not ``A12``.

A record with the id must also agree with the request on symbol, side and
volume; one that does not is reported as a mismatch (an unknown outcome),
never taken as this order's result.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final

import attrs

from mt5guard.orders.journal import OrderIntent
from mt5guard.terminal import constants as c

__all__ = [
    "COMMENT_PREFIX",
    "ID_PATTERN",
    "Finding",
    "Found",
    "TerminalLookups",
    "comment_id",
    "find",
    "id_comment",
]

COMMENT_PREFIX: Final = "mg-"
ID_PATTERN: Final = r"[A-Za-z0-9_-]{1,20}"
_COMMENT = re.compile(rf"{COMMENT_PREFIX}({ID_PATTERN});")
_VOLUME_EPS = 1e-9
_EXECUTED_STATES = (c.ORDER_STATE_FILLED, c.ORDER_STATE_PARTIAL)
_DEAD_STATES = (c.ORDER_STATE_CANCELED, c.ORDER_STATE_REJECTED, c.ORDER_STATE_EXPIRED)


def id_comment(client_order_id: str, text: str = "", limit: int = 31) -> str:
    """``mg-<id>;`` followed by as much of ``text`` as fits in ``limit`` characters."""
    mark = f"{COMMENT_PREFIX}{client_order_id};"
    return f"{mark} {text}"[:limit] if text else mark


def comment_id(comment: object) -> str | None:
    """The client order id a comment carries, or None (exact: the closing ``;`` is required)."""
    if not isinstance(comment, str):
        return None
    match = _COMMENT.match(comment)
    return match.group(1) if match else None


class Found(enum.Enum):
    EXECUTED = "executed"
    PENDING = "pending"
    NOT_EXECUTED = "not_executed"
    """The terminal's history holds the order as cancelled, rejected or expired, unfilled."""
    MISMATCH = "mismatch"
    NOTHING = "nothing"


@attrs.frozen
class Finding:
    """What the terminal holds for one id; ``order``/``deal`` tickets, ``volume`` lots."""

    found: Found
    order: int = 0
    deal: int = 0
    volume: float = 0.0
    price: float = 0.0
    detail: str = ""


@attrs.frozen
class TerminalLookups:
    """The four reads reconciliation uses; each raises an MT5Error if the terminal cannot answer.

    ``history_deals`` and ``history_orders`` take the window's bounds (aware datetimes).
    """

    open_orders: Callable[[], Iterable[Any]]
    positions: Callable[[], Iterable[Any]]
    history_orders: Callable[[datetime, datetime], Iterable[Any]]
    history_deals: Callable[[datetime, datetime], Iterable[Any]]


def find(intent: OrderIntent, lookups: TerminalLookups, since: datetime,
         until: datetime) -> Finding:
    """Look ``intent`` up in deals, positions, history orders and open orders.

    ``since``..``until`` bounds the history searched. Raises what the lookups
    raise; a :class:`Finding` with ``NOTHING`` means the terminal answered
    every read and holds no record with this id.
    """
    cid = intent.client_order_id
    buy = intent.side == "buy"
    deals = [d for d in lookups.history_deals(since, until) if comment_id(d.comment) == cid]
    history = [o for o in lookups.history_orders(since, until) if comment_id(o.comment) == cid]
    if deals:
        return _from_deals(intent, deals, buy, {int(o.ticket): o for o in history})
    positions = [p for p in lookups.positions() if comment_id(p.comment) == cid]
    pending = [o for o in lookups.open_orders() if comment_id(o.comment) == cid]
    for record in positions:
        side_ok = (record.type == c.POSITION_TYPE_BUY) == buy
        if not _agrees(intent, record.symbol, side_ok, float(record.volume), partial=True):
            return _mismatch(intent, "position", record.symbol, side_ok, record.volume)
        return Finding(Found.EXECUTED, int(record.ticket), 0, float(record.volume),
                       float(record.price_open), "read back from open positions")
    for record in (*history, *pending):
        side_ok = (record.type == c.ORDER_TYPE_BUY) == buy
        if not _agrees(intent, record.symbol, side_ok, float(record.volume_initial)):
            return _mismatch(intent, "order", record.symbol, side_ok, record.volume_initial)
    for record in history:
        filled = float(record.volume_initial) - float(record.volume_current)
        if record.state in _EXECUTED_STATES or filled > _VOLUME_EPS:
            return Finding(Found.EXECUTED, int(record.ticket), 0, filled,
                           float(record.price_open), "read back from history orders")
        if record.state in _DEAD_STATES:
            return Finding(Found.NOT_EXECUTED, int(record.ticket), detail=f"order state "
                           f"{record.state} in history, nothing filled")
    if pending:
        record = pending[0]
        return Finding(Found.PENDING, int(record.ticket), 0, float(record.volume_current),
                       float(record.price_open), "read back from open orders")
    return Finding(Found.NOTHING)


def _from_deals(intent: OrderIntent, deals: list[Any], buy: bool,
                orders: dict[int, Any]) -> Finding:
    """Deals with our id are ours only if they all belong to one order of our size.

    A partial fill is told from a foreign record with our id text by its order:
    ours was for exactly the requested volume (its ``volume_initial``); without
    the order record only a full fill is taken as ours.
    """
    volume = sum(float(d.volume) for d in deals)
    tickets = {int(d.order) for d in deals}
    for deal in deals:
        side_ok = (deal.type == c.DEAL_TYPE_BUY) == buy
        if not _agrees(intent, deal.symbol, side_ok, volume, partial=True):
            return _mismatch(intent, "deal", deal.symbol, side_ok, volume)
    order = orders.get(next(iter(tickets)))
    size = volume if order is None else float(order.volume_initial)
    if len(tickets) > 1 or abs(size - intent.volume) > _VOLUME_EPS:
        what = f"{len(tickets)} orders" if len(tickets) > 1 else "an order"
        return Finding(Found.MISMATCH, detail=(
            f"{what} with id {intent.client_order_id!r} filled {volume:g} lots of "
            f"{size:g}, not of the {intent.volume:g} requested; not taken as this "
            "order's outcome"))
    first = deals[0]
    return Finding(Found.EXECUTED, int(first.order), int(first.ticket), volume,
                   float(first.price), "read back from deals")


def _agrees(intent: OrderIntent, symbol: str, side_ok: bool, volume: float, *,
            partial: bool = False) -> bool:
    """Same symbol and side; the volume equal (or, for fills, not above the request)."""
    if symbol != intent.symbol or not side_ok:
        return False
    if partial:
        return _VOLUME_EPS < volume <= intent.volume + _VOLUME_EPS
    return abs(volume - intent.volume) <= _VOLUME_EPS


def _mismatch(intent: OrderIntent, what: str, symbol: str, side_ok: bool,
              volume: float) -> Finding:
    side = intent.side if side_ok else f"not {intent.side}"
    article = "an" if what == "order" else "a"  # a deal, a position, an order
    return Finding(Found.MISMATCH, detail=(
        f"{article} {what} with id {intent.client_order_id!r} does not match the request "
        f"({symbol} {side} {volume:g} lots vs {intent.symbol} {intent.side} "
        f"{intent.volume:g}); it is not taken as this order's outcome"))
