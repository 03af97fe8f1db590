"""``order_check`` as a public read: what the terminal says of a market order, nothing sent.

The request is the one :func:`~mt5guard.orders.request.trade_request` builds
for ``place_order`` (current price, the filling the symbol takes, the comment
with its client id), so a check that passes describes the order that would be
sent. Runs on the SessionActor's thread.
"""

from __future__ import annotations

from typing import Any

from mt5guard.orders.messages import OrderRequest, Side
from mt5guard.orders.request import trade_request
from mt5guard.terminal.calls import TerminalOps

__all__ = ["check_market_order"]


def check_market_order(order: OrderRequest, ops: TerminalOps, terminal: Any) -> Any:
    """The terminal's OrderCheckResult for ``order`` (retcode 0 "Done" passes)."""
    ops.check_symbol(order.symbol, "order_check")
    tick = ops.price(order.symbol)
    filling = ops.filling(order.symbol, order.filling, "order_check")
    request = trade_request(order, float(tick.ask if order.side is Side.BUY else tick.bid),
                            filling)
    return ops.call("order_check", terminal.order_check, request)
