"""The simulated terminal's order history: filled market orders and cancelled pending ones."""

from __future__ import annotations

from collections.abc import Iterable

from mt5guard.terminal import constants as c
from mt5guard.terminal.protocol import DateArg
from mt5guard.terminal.records import TradeDeal, TradeOrder, TradeRequest
from mt5guard.terminal.sim._selectors import select_history


def done_order(order: TradeOrder, done_msc: int, state: int, reason: int) -> TradeOrder:
    """``order`` as ``history_orders_get`` shows it once it left the book at ``done_msc``."""
    return order._replace(time_done=done_msc // 1000, time_done_msc=done_msc, state=state,
                          reason=reason, price_current=0.0)


def filled_order(deal: TradeDeal, req: TradeRequest | None = None) -> TradeOrder:
    """The market order behind ``deal``, filled at once and in full."""
    return TradeOrder(
        ticket=deal.order, time_setup=deal.time, time_setup_msc=deal.time_msc,
        time_done=deal.time, time_done_msc=deal.time_msc, time_expiration=0, type=deal.type,
        type_time=c.ORDER_TIME_GTC, type_filling=req.type_filling if req else c.ORDER_FILLING_IOC,
        state=c.ORDER_STATE_FILLED, magic=deal.magic, position_id=deal.position_id,
        position_by_id=0, reason=deal.reason, volume_initial=deal.volume, volume_current=0.0,
        price_open=req.price if req else deal.price, sl=req.sl if req else 0.0,
        tp=req.tp if req else 0.0, price_current=deal.price, price_stoplimit=0.0,
        symbol=deal.symbol, comment=deal.comment, external_id="",
    )


def select_orders(
    orders: Iterable[TradeOrder],
    date_from: DateArg | None,
    date_to: DateArg | None,
    group: str | None,
    ticket: int | None,
    position: int | None,
) -> list[TradeOrder]:
    """``history_orders_get`` semantics (see :func:`select_history`): ``ticket`` is
    the order's own, the dates bound ``time_setup``."""
    return select_history(orders, "history_orders_get", date_from, date_to, group, ticket,
                          position, ticket_of=lambda o: o.ticket, time_of=lambda o: o.time_setup)
