"""Trade events: what changed in the book between two polls, whoever changed it."""

from __future__ import annotations

from datetime import datetime

import attrs

from mt5guard.plain import PlainData, Request

__all__ = [
    "BalanceOperation",
    "OrderCancelled",
    "OrderFilled",
    "OrderPlaced",
    "PollTrades",
    "PositionClosed",
    "PositionModified",
    "PositionOpened",
    "TradeEvent",
]


@attrs.frozen
class TradeEvent(PlainData):
    """Base of the trade events; ``at`` is the clock's wall time of the poll that saw it."""

    account: str
    ticket: int
    symbol: str
    external: bool
    at: datetime


@attrs.frozen
class PositionOpened(TradeEvent):
    side: str
    volume: float
    price_open: float
    sl: float
    tp: float
    comment: str


@attrs.frozen
class PositionModified(TradeEvent):
    """Stops moved or volume reduced (a partial close); ``*_before`` are the old values."""

    sl_before: float
    sl: float
    tp_before: float
    tp: float
    volume_before: float
    volume: float


@attrs.frozen
class PositionClosed(TradeEvent):
    """``reason`` of the closing deal: client, mobile, web, expert, sl, tp, so (or unknown)."""

    volume: float
    price: float
    profit: float
    reason: str
    deal: int


@attrs.frozen
class OrderPlaced(TradeEvent):
    type: int
    volume: float
    price_open: float
    comment: str


@attrs.frozen
class OrderFilled(TradeEvent):
    """A deal: ``ticket`` is the order, ``entry`` is in, out, inout or out_by."""

    deal: int
    position: int
    side: str
    entry: str
    volume: float
    price: float
    profit: float
    reason: str
    comment: str


@attrs.frozen
class BalanceOperation(TradeEvent):
    """A deal that is not a trade: a deposit or withdrawal, credit, charge, bonus,
    commission, interest, dividend, tax... (``DEAL_TYPE_*`` other than buy and sell).

    ``ticket`` is the deal; ``symbol`` is usually empty. ``kind`` names the deal
    type (``balance``, ``credit``, ``charge``, ``correction``, ``bonus``,
    ``commission``, ``commission_daily``, ``commission_monthly``,
    ``commission_agent_daily``, ``commission_agent_monthly``, ``interest``,
    ``buy_canceled``, ``sell_canceled``, ``dividend``, ``dividend_franked``,
    ``tax``, or ``type_<n>`` for one the module does not name); ``amount`` is
    its money in the account currency (negative for a withdrawal or a charge).
    """

    kind: str
    amount: float
    comment: str


@attrs.frozen
class OrderCancelled(TradeEvent):
    """A pending order left the book without a deal: cancelled, or ``expired`` (its
    expiry time had passed when it left: ``specified`` / ``specified_day`` past their
    ``time_expiration``, ``day`` past the end of its day, UTC)."""

    volume: float
    expired: bool = False


@attrs.frozen
class PollTrades(Request):
    """Timer message: read positions, orders and new deals and publish the differences."""

