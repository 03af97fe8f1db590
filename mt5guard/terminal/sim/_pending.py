"""Pending orders meeting the market: the simulated server triggers and expires them.

:func:`sweep` runs before every API call of the simulated terminal (except
``last_error``), against each order's symbol's *current* tick: a price the
walk crossed and left between two calls is not seen (a real server watches
every tick; a test that needs a trigger reads the book after the walk got
there). Expiry comes first, then:

- buy limit: ask <= price; sell limit: bid >= price; filled at the ask / bid;
- buy stop: ask >= price; sell stop: bid <= price; filled at the ask / bid;
- buy stop-limit: ask >= price, sell stop-limit: bid <= price; the order then
  becomes a buy / sell limit at its ``stoplimit`` price (same ticket), which
  fills by the limit rule on a later sweep.

A filled order opens a position with the order's ticket, leaves a deal
(entry in, reason expert, the order's comment) and a filled history order;
an expired one leaves a history order in state expired. Times in ms.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mt5guard.terminal import constants as c
from mt5guard.terminal.records import Tick, TradeDeal
from mt5guard.terminal.sim._book import OpenPosition, PendingOrder
from mt5guard.terminal.sim._done_orders import done_order
from mt5guard.terminal.sim._ledger import Ledger

__all__ = ["expires_at", "sweep"]

_DAY_MS = 86_400_000


def _end_of_day_ms(msc: int) -> int:
    day = datetime.fromtimestamp(msc / 1000, UTC).date()
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return int(end.timestamp() * 1000)


def expires_at(order: PendingOrder) -> int | None:
    """Milliseconds since the epoch at which ``order`` expires; None for good-till-cancelled."""
    if order.type_time == c.ORDER_TIME_DAY:
        return _end_of_day_ms(order.time_setup_msc)
    if order.type_time == c.ORDER_TIME_SPECIFIED:
        return order.expiration * 1000
    if order.type_time == c.ORDER_TIME_SPECIFIED_DAY:
        return _end_of_day_ms(order.expiration * 1000)
    return None


def _triggered(order: PendingOrder, tick: Tick) -> bool:
    kind = order.type
    if kind == c.ORDER_TYPE_BUY_LIMIT:
        return tick.ask <= order.price
    if kind == c.ORDER_TYPE_SELL_LIMIT:
        return tick.bid >= order.price
    if kind in (c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT):
        return tick.ask >= order.price
    return tick.bid <= order.price  # sell stop, sell stop-limit


def sweep(ledger: Ledger, now_msc: int, next_deal: Callable[[], int]) -> bool:
    """Expire and trigger what the current ticks reach; True if the book changed."""
    changed = False
    for ticket in list(ledger.orders):
        order = ledger.orders[ticket]
        deadline = expires_at(order)
        if deadline is not None and now_msc >= deadline:
            del ledger.orders[ticket]
            ledger.history_orders.append(done_order(
                order.record(0.0), now_msc, c.ORDER_STATE_EXPIRED, c.ORDER_REASON_EXPERT))
            changed = True
            continue
        tick = ledger.quote(order.symbol)
        if not _triggered(order, tick):
            continue
        changed = True
        if order.type in (c.ORDER_TYPE_BUY_STOP_LIMIT, c.ORDER_TYPE_SELL_STOP_LIMIT):
            order.type = (c.ORDER_TYPE_BUY_LIMIT if order.type == c.ORDER_TYPE_BUY_STOP_LIMIT
                          else c.ORDER_TYPE_SELL_LIMIT)
            order.price, order.stoplimit = order.stoplimit, 0.0
            continue
        _fill(ledger, order, tick, now_msc, next_deal())
    return changed


def _fill(ledger: Ledger, order: PendingOrder, tick: Tick, now_msc: int, deal_ticket: int) -> None:
    buy = order.type in (c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP)
    price = tick.ask if buy else tick.bid
    deal_type = c.DEAL_TYPE_BUY if buy else c.DEAL_TYPE_SELL
    del ledger.orders[order.ticket]
    ledger.open_position(OpenPosition(
        order.ticket, now_msc, now_msc, c.POSITION_TYPE_BUY if buy else c.POSITION_TYPE_SELL,
        order.magic, order.volume, price, order.sl, order.tp, order.symbol, order.comment))
    deal = TradeDeal(deal_ticket, order.ticket, now_msc // 1000, now_msc, deal_type,
                     c.DEAL_ENTRY_IN, order.magic, order.ticket, c.DEAL_REASON_EXPERT,
                     order.volume, price, 0.0, 0.0, 0.0, 0.0, order.symbol, order.comment, "")
    ledger.deals.append(deal)
    filled = done_order(order.record(0.0), now_msc, c.ORDER_STATE_FILLED, c.ORDER_REASON_EXPERT)
    ledger.history_orders.append(filled._replace(volume_current=0.0, position_id=order.ticket,
                                                 price_current=price))
