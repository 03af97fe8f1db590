"""Which ``type_filling`` an order takes: the symbol decides, unless the order or the account does.

MetaTrader 5 executes an order only with a filling policy the symbol allows
(``symbol_info().filling_mode`` flags; a FOK-only symbol answers an IOC order
with 10030 "Unsupported filling mode"), and MQL5 does not allow RETURN under
market execution. :func:`choose_filling` reads both from the symbol's record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from mt5guard.errors import MT5ValidationError
from mt5guard.terminal import constants as c

__all__ = ["FILLINGS", "choose_filling"]

#: ``filling`` names a caller or the config may give, and their ORDER_FILLING_* values.
FILLINGS: Final[Mapping[str, int]] = {"fok": c.ORDER_FILLING_FOK, "ioc": c.ORDER_FILLING_IOC,
                                      "return": c.ORDER_FILLING_RETURN}


def choose_filling(symbol_info: Any, preferred: str | None = None, *, symbol: str = "",
                   operation: str = "place_order") -> int:
    """The ``type_filling`` for an order on a symbol, from its ``symbol_info()``.

    ``preferred`` (``fok``, ``ioc``, ``return``; None or ``auto`` to choose)
    wins when given: the server then judges it (10030 if the symbol does not
    allow it). Otherwise: IOC if the symbol's ``filling_mode`` allows it, then
    FOK, then RETURN unless the symbol uses market execution (where MQL5 does
    not allow RETURN). A symbol that allows none raises MT5ValidationError.
    """
    if preferred not in (None, "auto"):
        try:
            return FILLINGS[str(preferred).lower()]
        except KeyError:
            raise MT5ValidationError(operation=operation, field="filling", detail=(
                f"filling must be one of auto, fok, ioc, return, got {preferred!r}")) from None
    flags = int(symbol_info.filling_mode)
    if flags & c.SYMBOL_FILLING_IOC:
        return c.ORDER_FILLING_IOC
    if flags & c.SYMBOL_FILLING_FOK:
        return c.ORDER_FILLING_FOK
    if int(symbol_info.trade_exemode) != c.SYMBOL_TRADE_EXECUTION_MARKET:
        return c.ORDER_FILLING_RETURN
    raise MT5ValidationError(operation=operation, field="filling", detail=(
        f"symbol {symbol!r} allows neither FOK nor IOC (filling_mode {flags}) and uses market "
        "execution, where RETURN is not allowed: name the filling your broker documents "
        "(filling: fok|ioc|return in the account's config, or filling= on the order)"))
