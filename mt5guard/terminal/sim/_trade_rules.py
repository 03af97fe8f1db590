"""The trade server's business rules for the simulated terminal (pure functions).

Each rule answers with a trade retcode; 0 means the request passes. Distances
such as the stops level are in points of the symbol.
"""

from __future__ import annotations

from mt5guard.terminal import constants as c
from mt5guard.terminal.records import Tick
from mt5guard.terminal.sim.symbols import SymbolSpec

#: The comment the simulated server puts next to each retcode.
RETCODE_COMMENTS: dict[int, str] = {
    0: "Done",
    10004: "Requote",
    10006: "Request rejected",
    10007: "Request canceled by trader",
    10008: "Order placed",
    10009: "Request executed",
    10010: "Request executed partially",
    10011: "Request processing error",
    10012: "Request timed out",
    10013: "Invalid request",
    10014: "Invalid volume",
    10015: "Invalid price",
    10016: "Invalid stops",
    10017: "Trade disabled",
    10018: "Market is closed",
    10019: "No money",
    10020: "Prices changed",
    10021: "No quotes to process request",
    10022: "Invalid expiration",
    10023: "Order state changed",
    10024: "Too many requests",
    10025: "No changes in request",
    10026: "Autotrading disabled by server",
    10027: "Autotrading disabled by client",
    10028: "Request locked for processing",
    10029: "Order or position frozen",
    10030: "Unsupported filling mode",
    10031: "No connection with the trade server",
    10032: "Operation is allowed only for live accounts",
    10033: "Pending orders limit reached",
    10034: "Volume limit reached",
    10035: "Invalid order type",
    10036: "Position already closed",
    10038: "Invalid close volume",
    10039: "Close order already exists",
    10040: "Positions limit reached",
    10041: "Pending order activation rejected",
    10042: "Only long positions allowed",
    10043: "Only short positions allowed",
    10044: "Only position closing allowed",
    10045: "FIFO close required",
}

_BUY_SIDE = frozenset(
    {c.ORDER_TYPE_BUY, c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT}
)
PENDING_TYPES = frozenset(range(c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_SELL_STOP_LIMIT + 1))


def comment_for(retcode: int) -> str:
    """The server comment for ``retcode`` ("Unknown error" when there is none)."""
    return RETCODE_COMMENTS.get(retcode, "Unknown error")


def is_buy(order_type: int) -> bool:
    """True for BUY and the buy pending types."""
    return order_type in _BUY_SIDE


def volume_ok(spec: SymbolSpec, volume: float) -> bool:
    """Within volume_min..volume_max and a whole number of volume_step."""
    eps = spec.volume_step * 1e-6
    if volume < spec.volume_min - eps or volume > spec.volume_max + eps:
        return False
    steps = volume / spec.volume_step
    return abs(steps - round(steps)) < 1e-6


def filling_ok(spec: SymbolSpec, filling: int) -> bool:
    """Whether an order may use ``filling``: FOK and IOC where the symbol's flag is set,
    RETURN except under market execution (MQL5: "not allowed in Market Execution")."""
    if filling == c.ORDER_FILLING_FOK:
        return bool(spec.filling_mode & c.SYMBOL_FILLING_FOK)
    if filling == c.ORDER_FILLING_IOC:
        return bool(spec.filling_mode & c.SYMBOL_FILLING_IOC)
    if filling == c.ORDER_FILLING_RETURN:
        return spec.trade_exemode != c.SYMBOL_TRADE_EXECUTION_MARKET
    return False


def _at_least(spec: SymbolSpec, above: float, below: float) -> bool:
    """``above - below`` is at least the stops level (strictly positive when it is 0)."""
    gap = above - below
    eps = spec.point / 10
    level = spec.stops_level * spec.point
    return gap > eps and gap >= level - eps


def stops_ok(spec: SymbolSpec, buy: bool, reference: float, sl: float, tp: float) -> bool:
    """SL and TP on the right side of ``reference`` and at least the stops level away.

    ``reference`` is the price the position would close at: the bid for a
    buy, the ask for a sell, or the open price of a pending order. 0 = unset.
    """
    if sl < 0 or tp < 0:
        return False
    if buy:
        return (sl == 0 or _at_least(spec, reference, sl)) and (
            tp == 0 or _at_least(spec, tp, reference)
        )
    return (sl == 0 or _at_least(spec, sl, reference)) and (
        tp == 0 or _at_least(spec, reference, tp)
    )


def pending_price_ok(spec: SymbolSpec, order_type: int, price: float, tick: Tick) -> bool:
    """Limits below (buy) / above (sell) the market, stops beyond it, by the stops level."""
    if price <= 0:
        return False
    if order_type == c.ORDER_TYPE_BUY_LIMIT:
        return _at_least(spec, tick.ask, price)
    if order_type == c.ORDER_TYPE_SELL_LIMIT:
        return _at_least(spec, price, tick.bid)
    if order_type in (c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT):
        return _at_least(spec, price, tick.ask)
    return _at_least(spec, tick.bid, price)
