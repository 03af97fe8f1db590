"""The simulated terminal's order history: filled market orders and cancelled pending ones."""

from __future__ import annotations

from collections.abc import Iterable

from mt5guard.terminal import constants as c
from mt5guard.terminal.protocol import DateArg
from mt5guard.terminal.records import TradeDeal, TradeOrder, TradeRequest
from mt5guard.terminal.sim._selectors import epoch_seconds, group_matcher


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
    """``history_orders_get`` semantics: by ``ticket``, else by ``position``, else
    ``date_from <= time_setup <= date_to`` (seconds); then by ``group``.

    Raises TypeError when no selector is given or one has the wrong type.
    """
    for name, value in (("ticket", ticket), ("position", position)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"{name} must be an int")
    if group is not None and not isinstance(group, str):
        raise TypeError("group must be a str")
    if ticket is not None:
        found = [o for o in orders if o.ticket == ticket]
    elif position is not None:
        found = [o for o in orders if o.position_id == position]
    elif date_from is None or date_to is None:
        raise TypeError("history_orders_get needs date_from and date_to, ticket or position")
    else:
        low, high = epoch_seconds(date_from), epoch_seconds(date_to)
        found = [o for o in orders if low <= o.time_setup <= high]
    if group is not None:
        matches = group_matcher(group)
        found = [o for o in found if matches(o.symbol)]
    return found
