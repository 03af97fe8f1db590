"""The real MetaTrader5 module's argument rules, checked before any call.

Read from the 5.0.6231 wheel (docs/testing.md lists them): symbols are at
most 29 characters (the module counts the terminating zero against 30, in
UTF-16 units), history bounds are aware UTC datetimes (a naive one would be
read as the machine's local time), and counts and positions are 32-bit ints
(a larger one makes the module raise ``SystemError``). Every break of a rule
is an :class:`~mt5guard.errors.MT5ValidationError` naming the field and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mt5guard.errors import MT5ValidationError
from mt5guard.terminal import constants as c

__all__ = ["I32", "count_arg", "given", "history_call", "symbol_arg", "utc_date", "utf16_length"]

I32 = 2**31  # the module's counts and positions are C ints


def utf16_length(text: str) -> int:
    """``text``'s length as the module counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def utc_date(value: object, field: str, operation: str) -> datetime:
    """A history bound as the module must get it: an aware UTC datetime.

    Epoch seconds and aware datetimes are converted; a naive datetime is taken
    as UTC (the module would read it as the machine's local time).
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
            and 0 <= value < 2**31:
        return datetime.fromtimestamp(value, UTC)
    raise MT5ValidationError(operation=operation, field=field, detail=(
        f"{field} must be a datetime or epoch seconds within 1970..2038 (the module's "
        f"32-bit dates), got {value!r}"))


def symbol_arg(symbol: object, operation: str) -> str:
    """A symbol name the module accepts (1..29 characters); MT5ValidationError otherwise."""
    if not isinstance(symbol, str) or not symbol.strip() or utf16_length(symbol) > c.SYMBOL_NAME_MAX_LENGTH:
        raise MT5ValidationError(operation=operation, field="symbol", detail=(
            f"symbol must be a non-empty name like 'EURUSD' of at most "
            f"{c.SYMBOL_NAME_MAX_LENGTH} characters (the module's limit), got {symbol!r}"))
    return symbol


def count_arg(value: object, field: str, operation: str, low: int) -> int:
    """A whole number ``low..2**31-1``: the module takes counts and positions as 32-bit ints
    and raises ``SystemError`` for one that does not fit."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < I32:
        raise MT5ValidationError(operation=operation, field=field, detail=(
            f"{field} must be a whole number from {low} to {I32 - 1}, got {value!r}"))
    return value


def given(**filters: Any) -> dict[str, Any]:
    """The filters that are not None: the module treats a passed None as a value."""
    return {name: value for name, value in filters.items() if value is not None}


def history_call(call: Callable[..., Any], name: str, dates: tuple[Any, ...],
                 group: str | None, ticket: int | None, position: int | None) -> Any:
    """``history_deals_get``/``history_orders_get`` as the module takes it: by order
    ``ticket`` or by ``position`` when either is given, else between the ``dates`` given
    (already as the module wants them) with the ``group`` filter if any."""
    if ticket is not None or position is not None:
        return call(name, **given(ticket=ticket, position=position))
    return call(name, *dates, **given(group=group))
