"""Argument checks of the Session facade, run in the caller's thread before anything is sent.

Every check raises :class:`~mt5guard.errors.MT5ValidationError` naming the
field and the fix; values in messages are shortened (a 5,000-digit integer is
described, not printed).
"""

from __future__ import annotations

import math
import reprlib

from mt5guard.errors import MT5ValidationError
from mt5guard.orders.messages import OrderRequest, Side
from mt5guard.orders.request import (
    COMMENT_OVERFLOWS,
    FILLINGS,
    check_client_order_id,
    fit_comment,
    new_client_order_id,
    symbol_arg,
)
from mt5guard.terminal.constants import ORDER_COMMENT_MAX_LENGTH, SYMBOL_NAME_MAX_LENGTH

__all__ = ["MAX_REQUEST_TIMEOUT", "build_order", "finite_number", "require_symbol", "shown"]

MAX_REQUEST_TIMEOUT = 3600.0  # seconds: the config's bound for accounts[].request_timeout
_SURELY_SHORT = SYMBOL_NAME_MAX_LENGTH // 2  # characters that fit in any case


def shown(value: object) -> str:
    """``value`` for an error message, bounded in length."""
    if isinstance(value, int) and value.bit_length() > 64:  # 10**5000 cannot even be printed
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    return reprlib.repr(value)


def finite_number(value: object) -> bool:
    """A real int or float (not bool), finite and small enough to become a float."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value) and abs(value) < 1e15  # 10**400 would overflow a float
    except OverflowError:
        return False


def require_symbol(symbol: object) -> None:
    """Raise unless ``symbol`` is a non-empty name the module accepts (at most 29 characters)."""
    if type(symbol) is str and 0 < len(symbol) <= _SURELY_SHORT and not symbol.isspace():
        return  # at most 2 UTF-16 units a character: within the limit without encoding it
    symbol_arg(symbol, "request")


def build_order(
    symbol: str,
    side: str | Side,
    volume: float,
    *,
    sl: float = 0.0,
    tp: float = 0.0,
    deviation: int = 20,
    magic: int = 0,
    comment: str = "",
    position: int = 0,
    client_order_id: str | None = None,
    filling: str | None = None,
    comment_overflow: str = "truncate",
) -> OrderRequest:
    """Send a market order; ``volume`` in lots, ``deviation`` in points.

    The MT5 comment is ``mg-<client_order_id>;`` then ``comment``, 29
    characters in all (the module's limit): ``comment_overflow="truncate"``
    cuts the text to fit, ``"refuse"`` raises MT5ValidationError instead.
    ``filling`` (``fok``, ``ioc``, ``return``) forces ``type_filling``;
    None takes the account's ``filling`` (default: chosen per symbol).

    Pass your own ``client_order_id`` to make retries safe: an id the
    session has seen is never sent again; the earlier outcome is returned
    (read back from the terminal if its reply was lost), or
    :class:`~mt5guard.errors.MT5OrderOutcomeUnknown`.

    (``build_order`` is where ``place_order``'s arguments are written, once:
    it checks them in the caller's thread, each error naming its field, and
    builds the request that ``place_order`` sends.)
    """
    require_symbol(symbol)

    def bad(field: str, fix: str) -> MT5ValidationError:
        return MT5ValidationError(operation="place_order", field=field, detail=fix)

    try:
        side = Side(side.lower()) if isinstance(side, str) else Side(side)
    except ValueError:
        raise bad("side", f"side must be 'buy' or 'sell', got {side!r}") from None
    if not finite_number(volume) or volume <= 0:
        raise bad("volume", f"volume must be a positive number of lots, got {shown(volume)}")
    for name, value in (("sl", sl), ("tp", tp)):
        if not finite_number(value) or value < 0:
            raise bad(name, f"{name} must be a price >= 0 (0 = none), got {shown(value)}")
    for name, value in (("deviation", deviation), ("magic", magic), ("position", position)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
            raise bad(name, f"{name} must be a whole number from 0 to 2**63-1, got {shown(value)}")
    if not isinstance(comment, str) or len(comment) > ORDER_COMMENT_MAX_LENGTH:
        raise bad("comment", f"comment must be text of at most {ORDER_COMMENT_MAX_LENGTH} characters; "
                  "it is cut to fit after the client order id MT5 keeps in the same field")
    if comment_overflow not in COMMENT_OVERFLOWS:
        raise bad("comment_overflow", f"comment_overflow must be 'truncate' or 'refuse', "
                  f"got {shown(comment_overflow)}")
    if filling is not None and filling not in FILLINGS:
        raise bad("filling", f"filling must be None (the account's choice) or one of "
                  f"{', '.join(FILLINGS)}, got {shown(filling)}")
    if client_order_id is None:
        client_order_id = new_client_order_id()
    check_client_order_id(client_order_id)
    if comment_overflow == "refuse":
        fit_comment(client_order_id, comment, overflow="refuse")
    return OrderRequest(client_order_id, symbol, side, float(volume), float(sl), float(tp),
                        deviation, magic, comment, position, filling)
