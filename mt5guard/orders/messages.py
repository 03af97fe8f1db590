"""Orders and trade changes as messages: what the facade asks, what the desk answers."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from mt5guard.plain import PlainData, Request

__all__ = [
    "ChangeKind",
    "ChangeTrade",
    "CheckOrder",
    "OrderOutcome",
    "OrderReconciled",
    "OrderRequest",
    "PendingOrderRequest",
    "PlaceOrder",
    "PlacePendingOrder",
    "Side",
    "TradeChange",
]


class Side(enum.Enum):
    BUY = "buy"
    SELL = "sell"


@attrs.frozen
class OrderRequest(PlainData):
    """A validated market order. ``client_order_id`` makes it idempotent:
    the session never sends two orders with the same id."""

    client_order_id: str
    symbol: str
    side: Side
    volume: float
    """Lots."""
    sl: float = 0.0
    tp: float = 0.0
    deviation: int = 20
    """Points of slippage accepted."""
    magic: int = 0
    comment: str = ""
    position: int = 0
    """Ticket of the position this order closes, 0 to open a new one."""
    filling: str | None = None
    """``fok``, ``ioc`` or ``return`` to force ``type_filling``; None: the account's
    config, else chosen from the symbol (:func:`mt5guard.orders.request.choose_filling`)."""


@attrs.frozen
class PlaceOrder(Request):
    order: OrderRequest


@attrs.frozen
class PendingOrderRequest(PlainData):
    """A validated pending order, idempotent by ``client_order_id`` like an OrderRequest.

    ``kind`` is ``buy_limit``, ``sell_limit``, ``buy_stop``, ``sell_stop``,
    ``buy_stop_limit`` or ``sell_stop_limit``; ``price`` triggers it and
    ``stoplimit`` is the limit a stop-limit then places. ``expiry`` is ``gtc``,
    ``day``, ``specified`` or ``specified_day``; ``expiration`` is seconds since
    the epoch (UTC) for the last two, else 0.
    """

    client_order_id: str
    symbol: str
    kind: str
    volume: float
    """Lots."""
    price: float
    stoplimit: float = 0.0
    sl: float = 0.0
    tp: float = 0.0
    expiry: str = "gtc"
    expiration: int = 0
    magic: int = 0
    comment: str = ""
    filling: str | None = None

    @property
    def side(self) -> str:
        return "buy" if self.kind.startswith("buy") else "sell"


@attrs.frozen
class PlacePendingOrder(Request):
    order: PendingOrderRequest

    @property
    def operation(self) -> str:
        return "place_pending_order"


@attrs.frozen
class CheckOrder(Request):
    """Ask the terminal's ``order_check`` about a market order, sending nothing."""

    order: OrderRequest

    @property
    def operation(self) -> str:
        return "order_check"


class ChangeKind(enum.Enum):
    MODIFY = "modify_position"
    CLOSE = "close_position"
    CANCEL = "cancel_order"
    MODIFY_ORDER = "modify_order"


@attrs.frozen
class TradeChange(PlainData):
    """A validated change to an open position or a pending order, idempotent by
    ``client_order_id`` like an :class:`OrderRequest`.

    ``ticket`` is the position (MODIFY, CLOSE) or the order (CANCEL). ``sl`` /
    ``tp`` are prices, None keeps the current one, 0 removes it (MODIFY,
    MODIFY_ORDER). ``volume`` is the lots to close, None for all of it (CLOSE).
    MODIFY_ORDER also takes a pending order's new ``price``, ``stoplimit``,
    ``expiry`` and ``expiration`` (None keeps each).
    """

    client_order_id: str
    kind: ChangeKind
    ticket: int
    sl: float | None = None
    tp: float | None = None
    volume: float | None = None
    deviation: int = 20
    price: float | None = None
    stoplimit: float | None = None
    expiry: str | None = None
    expiration: int | None = None


@attrs.frozen
class ChangeTrade(Request):
    change: TradeChange


@attrs.frozen
class OrderOutcome(PlainData):
    """What happened to an order, as the terminal reports it."""

    client_order_id: str
    retcode: int
    order: int
    deal: int
    volume: float
    price: float
    comment: str
    reconciled: bool = False
    """True when the reply was lost and this was read back from orders/deals."""


@attrs.frozen
class OrderReconciled(PlainData):
    """An order id looked up in the terminal (a lost reply, a reconnect, a first sight)."""

    account: str
    client_order_id: str
    outcome: str
    """``executed``, ``pending``, ``not_executed`` (history shows it cancelled or
    rejected: the id is free), ``mismatch`` (a record with the id disagrees on
    symbol, side or volume) or ``unknown`` (nothing found, or no answer)."""
    at: datetime
