"""Argument-level checks of a trade request dict, as the MetaTrader5 module does them.

A request that fails here never reaches the trade server: ``order_check`` and
``order_send`` return None with ``(-2, 'Invalid "<field>" argument')``.
Business rules (volume steps, stops, margin) come later, as retcodes.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from mt5guard.terminal import constants as c
from mt5guard.terminal.records import TradeRequest

#: The longest ``comment`` the terminal accepts (characters).
MAX_COMMENT_LENGTH = 31

_INT_FIELDS = frozenset(
    {
        "action",
        "magic",
        "order",
        "deviation",
        "type",
        "type_filling",
        "type_time",
        "expiration",
        "position",
        "position_by",
    }
)
_FLOAT_FIELDS = frozenset({"volume", "price", "stoplimit", "sl", "tp"})
_ACTIONS = frozenset(
    {
        c.TRADE_ACTION_DEAL,
        c.TRADE_ACTION_PENDING,
        c.TRADE_ACTION_SLTP,
        c.TRADE_ACTION_MODIFY,
        c.TRADE_ACTION_REMOVE,
        c.TRADE_ACTION_CLOSE_BY,
    }
)
_REQUIRED: dict[int, tuple[str, ...]] = {
    c.TRADE_ACTION_DEAL: ("symbol", "volume", "type"),
    c.TRADE_ACTION_PENDING: ("symbol", "volume", "type", "price"),
    c.TRADE_ACTION_SLTP: ("position",),
    c.TRADE_ACTION_MODIFY: ("order", "price"),
    c.TRADE_ACTION_REMOVE: ("order",),
    c.TRADE_ACTION_CLOSE_BY: ("position", "position_by"),
}
_RANGES: dict[str, range] = {
    "type": range(c.ORDER_TYPE_BUY, c.ORDER_TYPE_CLOSE_BY + 1),
    "type_filling": range(c.ORDER_FILLING_FOK, c.ORDER_FILLING_BOC + 1),
    "type_time": range(c.ORDER_TIME_GTC, c.ORDER_TIME_SPECIFIED_DAY + 1),
}


class InvalidArgument(Exception):
    """A request argument the terminal rejects before sending (code -2)."""

    def __init__(self, field: str | None) -> None:
        self.field = field
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The terminal's text: ``Invalid "volume" argument`` or ``Invalid arguments``."""
        return "Invalid arguments" if self.field is None else f'Invalid "{self.field}" argument'


def _convert(name: str, raw: Any) -> int | float | str:
    if name in _INT_FIELDS:
        if isinstance(raw, datetime) and name == "expiration":
            return int(raw.timestamp())
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise InvalidArgument(name)
        return raw
    if name in _FLOAT_FIELDS:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise InvalidArgument(name)
        return float(raw)
    if not isinstance(raw, str) or (name == "comment" and len(raw) > MAX_COMMENT_LENGTH):
        raise InvalidArgument(name)
    return raw


def parse_request(request: object) -> TradeRequest:
    """The request as a :class:`TradeRequest` (absent fields are 0 or "").

    Raises :class:`InvalidArgument` for a non-dict, an unknown key, a value
    of the wrong type, a negative ticket or magic, a comment over 31
    characters, an unknown action, type, filling or time mode, or a field
    the action needs but lacks.
    """
    if not isinstance(request, dict):
        raise InvalidArgument(None)
    values: dict[str, Any] = {}
    for key, raw in request.items():
        if key not in TradeRequest._fields:
            raise InvalidArgument(str(key))
        values[key] = _convert(key, raw)
    action = values.get("action")
    if action not in _ACTIONS:
        raise InvalidArgument("action")
    for name, allowed in _RANGES.items():
        if name in values and values[name] not in allowed:
            raise InvalidArgument(name)
    for name in _REQUIRED[action]:
        if name not in values:
            raise InvalidArgument(name)
    defaults: dict[str, Any] = {
        name: ("" if name in ("symbol", "comment") else 0.0 if name in _FLOAT_FIELDS else 0)
        for name in TradeRequest._fields
    }
    return TradeRequest(**{**defaults, **values})
