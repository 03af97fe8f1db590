"""Market data: bars, ticks and symbols, validated before any call, read on the session thread.

The ``check_*`` functions run in the caller's thread (the facade) and turn
arguments into the ``args`` of a :class:`~mt5guard.messages.ReadMarketData`,
raising :class:`MT5ValidationError` naming the field and the fix. Dates are
aware datetimes (a naive one is read as UTC) or epoch seconds; they reach the
terminal as aware UTC datetimes.

:func:`read` runs in the SessionActor: it selects the symbol in Market Watch
when needed, calls the terminal and checks the reply's shape (the real
``numpy`` dtypes of :mod:`mt5guard.terminal.rates`).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from mt5guard.errors import MT5DataError, MT5StateError, MT5ValidationError, error_from_last_error
from mt5guard.terminal import Terminal, rates
from mt5guard.terminal.args import count_arg, symbol_arg, utc_date
from mt5guard.terminal.constants import ORDER_TYPE_BUY, ORDER_TYPE_SELL
from mt5guard.terminal.rates import COPY_TICKS_FLAGS, TIMEFRAMES

__all__ = [
    "MARKET_DATA_OPERATIONS",
    "check_calc",
    "check_history",
    "check_range",
    "check_rates_from",
    "check_rates_from_pos",
    "check_rates_range",
    "check_symbol",
    "check_symbol_select",
    "check_symbols_get",
    "check_ticks_from",
    "check_ticks_range",
    "read",
]

#: The terminal functions a ReadMarketData may name.
MARKET_DATA_OPERATIONS = frozenset({
    "copy_rates_from", "copy_rates_from_pos", "copy_rates_range", "copy_ticks_from",
    "copy_ticks_range", "symbols_get", "symbol_info", "symbol_select", "history_orders_get",
    "history_deals_get", "terminal_info", "version", "positions_total", "orders_total",
    "history_orders_total", "history_deals_total", "order_calc_margin", "order_calc_profit",
    "market_book_add", "market_book_get", "market_book_release",
})
_NO_SYMBOL = frozenset({"symbols_get", "history_orders_get", "history_deals_get", "terminal_info",
                        "version", "positions_total", "orders_total", "history_orders_total",
                        "history_deals_total", "order_calc_margin", "order_calc_profit"})
_SIDES = {"buy": ORDER_TYPE_BUY, "sell": ORDER_TYPE_SELL}
_RATES = frozenset({"copy_rates_from", "copy_rates_from_pos", "copy_rates_range"})
_TICKS = frozenset({"copy_ticks_from", "copy_ticks_range"})


def _bad(operation: str, field: str, fix: str) -> MT5ValidationError:
    return MT5ValidationError(operation=operation, field=field, detail=fix)


def check_symbol(operation: str, symbol: object) -> str:
    return symbol_arg(symbol, operation)


def _timeframe(operation: str, timeframe: object) -> int:
    if isinstance(timeframe, bool) or not isinstance(timeframe, int) or timeframe not in TIMEFRAMES:
        raise _bad(operation, "timeframe",
                   "timeframe must be a TIMEFRAME_* constant from mt5guard.terminal.constants "
                   f"(TIMEFRAME_H1 is 16385, not 60), got {timeframe!r}")
    return timeframe


def _date(operation: str, field: str, value: object) -> datetime:
    return utc_date(value, field, operation)


def _whole(operation: str, field: str, value: object, low: int) -> int:
    return count_arg(value, field, operation, low)


def _range(operation: str, date_from: object, date_to: object) -> tuple[datetime, datetime]:
    low, high = _date(operation, "date_from", date_from), _date(operation, "date_to", date_to)
    if high < low:
        raise _bad(operation, "date_to", f"date_to ({high.isoformat()}) must not be before "
                                         f"date_from ({low.isoformat()})")
    return low, high


def _flags(operation: str, flags: object) -> int:
    if isinstance(flags, bool) or not isinstance(flags, int) or flags not in COPY_TICKS_FLAGS:
        raise _bad(operation, "flags", "flags must be COPY_TICKS_ALL (-1), COPY_TICKS_INFO (1) or "
                                       f"COPY_TICKS_TRADE (2), got {flags!r}")
    return flags


def check_rates_from(symbol: object, timeframe: object, date_from: object,
                     count: object) -> tuple[Any, ...]:
    op = "copy_rates_from"
    return (check_symbol(op, symbol), _timeframe(op, timeframe), _date(op, "date_from", date_from),
            _whole(op, "count", count, 1))


def check_rates_from_pos(symbol: object, timeframe: object, start_pos: object,
                         count: object) -> tuple[Any, ...]:
    op = "copy_rates_from_pos"
    return (check_symbol(op, symbol), _timeframe(op, timeframe),
            _whole(op, "start_pos", start_pos, 0), _whole(op, "count", count, 1))


def check_rates_range(symbol: object, timeframe: object, date_from: object,
                      date_to: object) -> tuple[Any, ...]:
    op = "copy_rates_range"
    return (check_symbol(op, symbol), _timeframe(op, timeframe), *_range(op, date_from, date_to))


def check_ticks_from(symbol: object, date_from: object, count: object,
                     flags: object) -> tuple[Any, ...]:
    op = "copy_ticks_from"
    return (check_symbol(op, symbol), _date(op, "date_from", date_from),
            _whole(op, "count", count, 1), _flags(op, flags))


def check_ticks_range(symbol: object, date_from: object, date_to: object,
                      flags: object) -> tuple[Any, ...]:
    op = "copy_ticks_range"
    return (check_symbol(op, symbol), *_range(op, date_from, date_to), _flags(op, flags))


def check_symbols_get(group: object) -> tuple[Any, ...]:
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise _bad("symbols_get", "group", "group must be None or a pattern like '*USD*,!EUR*', "
                                           f"got {group!r}")
    return (group,)


def check_history(operation: str, date_from: object, date_to: object,
                  group: object) -> tuple[Any, ...]:
    """``history_orders_get`` / ``history_deals_get`` over ``date_from..date_to``."""
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise _bad(operation, "group", f"group must be None or a pattern like '*USD*', got {group!r}")
    return (*_range(operation, date_from, date_to), group)


def check_range(operation: str, date_from: object, date_to: object) -> tuple[Any, ...]:
    """``history_orders_total`` / ``history_deals_total`` over ``date_from..date_to``."""
    return _range(operation, date_from, date_to)


def check_calc(operation: str, symbol: object, side: object, volume: object,
               *prices: object) -> tuple[Any, ...]:
    """``order_calc_margin`` / ``order_calc_profit``: the module's ``(action, symbol, volume,
    price...)`` with ``action`` ORDER_TYPE_BUY or ORDER_TYPE_SELL and floats for the rest."""
    if not isinstance(side, str) or side.lower() not in _SIDES:
        raise _bad(operation, "side", f"side must be 'buy' or 'sell', got {side!r}")
    checked_symbol = check_symbol(operation, symbol)
    if isinstance(volume, bool) or not isinstance(volume, (int, float)) or \
            not math.isfinite(volume) or volume <= 0:
        raise _bad(operation, "volume", f"volume must be a positive number of lots, got {volume!r}")
    names = ("price",) if len(prices) == 1 else ("price_open", "price_close")
    for name, price in zip(names, prices, strict=True):
        if isinstance(price, bool) or not isinstance(price, (int, float)) or \
                not math.isfinite(price) or price <= 0:
            raise _bad(operation, name, f"{name} must be a positive price, got {price!r}")
    return (_SIDES[side.lower()], checked_symbol, float(volume), *(float(p) for p in prices))  # type: ignore[arg-type]


def check_symbol_select(symbol: object, enable: object) -> tuple[Any, ...]:
    if not isinstance(enable, bool):
        raise _bad("symbol_select", "enable", f"enable must be True or False, got {enable!r}")
    return (check_symbol("symbol_select", symbol), enable)


def read(terminal: Terminal, select: Any, forget: Any, operation: str, args: tuple[Any, ...]) -> Any:
    """One market-data call; ``select(symbol)`` puts a symbol in Market Watch first.

    ``forget(symbol)`` is told when the caller deselects one. Raises the typed
    error ``last_error()`` maps to when the terminal returns None or False,
    and :class:`MT5DataError` for a reply not shaped like MetaTrader 5's.
    """
    call = getattr(terminal, operation, None)
    if operation not in MARKET_DATA_OPERATIONS or call is None:
        raise MT5StateError(operation=operation, detail=f"this terminal does not offer {operation}")
    if operation == "symbol_select":
        symbol, enable = args
        if enable:
            select(symbol)
            return None
        checked(terminal, operation, call(symbol, False))
        forget(symbol)
        return None
    if operation not in _NO_SYMBOL:
        select(args[0])
    elif operation.startswith("order_calc_"):
        select(args[1])
    if operation.endswith("_total") and operation.startswith("history_"):
        return checked(terminal, operation, call(*args))
    if operation.startswith("history_"):
        date_from, date_to, group = args
        filters = {} if group is None else {"group": group}
        return tuple(checked(terminal, operation, call(date_from, date_to, **filters)))
    result = checked(terminal, operation, call(*args))
    if operation in _RATES or operation in _TICKS:
        import numpy as np  # here, not at import: embedding mt5guard must not cost numpy

        expected = rates.RATE_DTYPE if operation in _RATES else rates.TICK_DTYPE
        names = getattr(getattr(result, "dtype", None), "names", None)
        if names != expected.names:
            raise MT5DataError(operation=operation,
                               detail=f"expected a numpy array with fields {expected.names}, got {names}")
        return np.asarray(result, dtype=expected)
    if operation == "symbols_get":
        return tuple(result)
    return result


def checked(terminal: Terminal, operation: str, result: Any) -> Any:
    """``result``, or the typed error ``last_error()`` maps to when it is None or False."""
    if result is None or result is False:
        code, message = terminal.last_error()
        raise error_from_last_error(code, message, operation)
    return result
