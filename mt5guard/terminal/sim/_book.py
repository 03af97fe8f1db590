"""Mutable server-side entries of the simulated account: positions and pending orders.

Times are milliseconds since the epoch; records expose seconds too.
"""

from __future__ import annotations

from dataclasses import dataclass

from mt5guard.terminal import constants as c
from mt5guard.terminal.records import TradeOrder, TradePosition, TradeRequest


@dataclass
class OpenPosition:
    """An open position; its ticket is the ticket of the order that opened it."""

    ticket: int
    time_msc: int
    time_update_msc: int
    type: int
    magic: int
    volume: float
    price_open: float
    sl: float
    tp: float
    symbol: str
    comment: str

    @classmethod
    def from_request(
        cls, ticket: int, time_msc: int, price: float, req: TradeRequest
    ) -> OpenPosition:
        """The position a filled market request opens."""
        kind = c.POSITION_TYPE_BUY if req.type == c.ORDER_TYPE_BUY else c.POSITION_TYPE_SELL
        return cls(
            ticket,
            time_msc,
            time_msc,
            kind,
            req.magic,
            req.volume,
            price,
            req.sl,
            req.tp,
            req.symbol,
            req.comment,
        )

    def set_stops(self, sl: float, tp: float, time_msc: int) -> None:
        """Apply a TRADE_ACTION_SLTP request."""
        self.sl, self.tp, self.time_update_msc = sl, tp, time_msc

    def record(self, price_current: float, profit: float) -> TradePosition:
        """The position as ``positions_get`` returns it."""
        return TradePosition(
            ticket=self.ticket,
            time=self.time_msc // 1000,
            time_msc=self.time_msc,
            time_update=self.time_update_msc // 1000,
            time_update_msc=self.time_update_msc,
            type=self.type,
            magic=self.magic,
            identifier=self.ticket,
            reason=c.POSITION_REASON_EXPERT,
            volume=self.volume,
            price_open=self.price_open,
            sl=self.sl,
            tp=self.tp,
            price_current=price_current,
            swap=0.0,
            profit=profit,
            symbol=self.symbol,
            comment=self.comment,
            external_id="",
        )


@dataclass
class PendingOrder:
    """A pending order waiting in the book (``_pending.sweep`` triggers and expires it)."""

    ticket: int
    time_setup_msc: int
    type: int
    type_time: int
    type_filling: int
    expiration: int
    magic: int
    volume: float
    price: float
    stoplimit: float
    sl: float
    tp: float
    symbol: str
    comment: str

    @classmethod
    def from_request(cls, ticket: int, time_msc: int, req: TradeRequest) -> PendingOrder:
        """The order a TRADE_ACTION_PENDING request places."""
        return cls(
            ticket,
            time_msc,
            req.type,
            req.type_time,
            req.type_filling,
            req.expiration,
            req.magic,
            req.volume,
            req.price,
            req.stoplimit,
            req.sl,
            req.tp,
            req.symbol,
            req.comment,
        )

    def modify(self, req: TradeRequest) -> None:
        """Apply a TRADE_ACTION_MODIFY request (price, stops, expiration)."""
        self.price, self.sl, self.tp = req.price, req.sl, req.tp
        self.stoplimit, self.expiration = req.stoplimit, req.expiration
        self.type_time = req.type_time

    def record(self, price_current: float) -> TradeOrder:
        """The order as ``orders_get`` returns it."""
        return TradeOrder(
            ticket=self.ticket,
            time_setup=self.time_setup_msc // 1000,
            time_setup_msc=self.time_setup_msc,
            time_done=0,
            time_done_msc=0,
            time_expiration=self.expiration,
            type=self.type,
            type_time=self.type_time,
            type_filling=self.type_filling,
            state=c.ORDER_STATE_PLACED,
            magic=self.magic,
            position_id=0,
            position_by_id=0,
            reason=c.ORDER_REASON_EXPERT,
            volume_initial=self.volume,
            volume_current=self.volume,
            price_open=self.price,
            sl=self.sl,
            tp=self.tp,
            price_current=price_current,
            price_stoplimit=self.stoplimit,
            symbol=self.symbol,
            comment=self.comment,
            external_id="",
        )
