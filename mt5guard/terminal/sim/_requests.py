"""Argument-level checks of a trade request dict, exactly as the MetaTrader5 module does them.

Read from the 5.0.6231 wheel's compiled core (docs/testing.md lists them):
the module looks the 17 fields up by name in a fixed order, so an unknown key
is ignored and a missing one becomes 0, 0.0 or ''. The first bad field
makes ``order_check`` / ``order_send`` return None with ``(-2, 'Invalid
"<field>" argument')``:

- ``volume``, ``price``, ``stoplimit``, ``sl``, ``tp`` must be floats (an int
  is refused);
- the integer fields take ints, bools included; ``expiration`` too, and only
  an int (a datetime is refused);
- ``symbol`` and ``comment`` must be str whose length in UTF-16 units plus the
  terminating zero is below 31: 29 characters at most.

A negative or too large value in an unsigned field (``magic``, ``order``,
``deviation``, ``position``, ``position_by``), or an integer that does not
fit its C type, is not refused politely: the module raises
``SystemError('... returned a result with an exception set')``. Business
rules (action, type, volume steps, stops, filling, margin) come later, as
retcodes.
"""

from __future__ import annotations

from typing import Any

from mt5guard.terminal.constants import MT5_SHORT_STRING_MAX
from mt5guard.terminal.records import TradeRequest

#: The longest ``comment`` or ``symbol`` the module accepts (UTF-16 units).
MAX_COMMENT_LENGTH = MT5_SHORT_STRING_MAX

_UNSIGNED = frozenset({"magic", "order", "deviation", "position", "position_by"})
_ENUMS = frozenset({"action", "type", "type_filling", "type_time"})
_FLOATS = frozenset({"volume", "price", "stoplimit", "sl", "tp"})
_STRINGS = frozenset({"symbol", "comment"})
_U64 = 2**64
_I32 = 2**31
_I64 = 2**63


class InvalidArgument(Exception):
    """A request argument the module rejects before sending (code -2)."""

    def __init__(self, field: str | None) -> None:
        self.field = field
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The module's text: ``Invalid "volume" argument`` or ``Invalid arguments``."""
        return "Invalid arguments" if self.field is None else f'Invalid "{self.field}" argument'


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as the module counts it (a character above U+FFFF is 2)."""
    return len(text.encode("utf-16-le")) // 2


def short_string_ok(value: object) -> bool:
    """A str the module accepts for ``symbol`` or ``comment`` (at most 29 UTF-16 units)."""
    return isinstance(value, str) and utf16_length(value) <= MAX_COMMENT_LENGTH


def _system_error(name: str) -> SystemError:
    return SystemError(f"<built-in function order_send> returned a result with an exception set "
                       f"(OverflowError in {name!r})")


def _convert(name: str, raw: Any) -> int | float | str:
    if name in _FLOATS:
        if not isinstance(raw, float):
            raise InvalidArgument(name)
        return raw
    if name in _STRINGS:
        if not short_string_ok(raw):
            raise InvalidArgument(name)
        return str(raw)
    if not isinstance(raw, int):  # bools are ints, and accepted
        raise InvalidArgument(name)
    value = int(raw)
    if name in _UNSIGNED:
        if not 0 <= value < _U64:
            raise _system_error(name)
    elif name in _ENUMS:
        if not -_I32 <= value < _I32:
            raise _system_error(name)
    elif not -_I64 <= value < _I64:  # expiration
        raise _system_error(name)
    return value


def parse_request(request: object) -> TradeRequest:
    """The request as a :class:`TradeRequest` (absent fields are 0, 0.0 or "").

    Raises :class:`InvalidArgument` for a non-dict or the first bad field in
    the module's order, and :class:`SystemError` where the module does.
    """
    if not isinstance(request, dict):
        raise InvalidArgument(None)
    values: dict[str, Any] = {}
    for name in TradeRequest._fields:
        if name in request:
            values[name] = _convert(name, request[name])
        else:
            values[name] = "" if name in _STRINGS else 0.0 if name in _FLOATS else 0
    return TradeRequest(**values)
