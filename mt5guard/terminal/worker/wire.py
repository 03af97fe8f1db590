"""The client half of the worker wire: requests out, replies checked and rebuilt.

Everything on the wire is length-framed JSON (see :mod:`mt5guard.terminal.bridge.server`
for the message shapes). Records arrive as dicts of their fields and are
rebuilt here into our own :mod:`~mt5guard.terminal.records` types, chosen by
the function called, never by anything the worker says. A reply that is not
JSON, not shaped like a reply, or whose record lacks a field or carries a
non-primitive value raises :class:`~mt5guard.errors.MT5DataError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from mt5guard.errors import MT5DataError
from mt5guard.terminal import rates
from mt5guard.terminal import records as rec

__all__ = ["Polled", "Reply", "decode_frame", "decode_reply", "decode_result", "encode_request"]

_PRIMITIVE = (bool, int, float, str, type(None))


class Reply(NamedTuple):
    """A worker's reply: ``tag`` is ok, error, timeout or lost."""

    tag: str
    ident: int | None
    value: Any
    last_error: tuple[int, str] | None


_SCALARS = frozenset({str, int, float, bool, type(None)})
_encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _arg(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.timestamp()}
    if isinstance(value, dict):
        return {str(k): _arg(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_arg(v) for v in value]
    return value


def encode_request(ident: int, deadline: float, budget: float, name: str,
                   args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """``["call", id, deadline, budget_s, name, args, kwargs]`` as bytes."""
    if not kwargs and all(type(a) in _SCALARS for a in args):  # symbol_info_tick("EURUSD")...
        return _encode(["call", ident, deadline, budget, name, args, kwargs]).encode()
    return _encode(["call", ident, deadline, budget, name, _arg(args), _arg(kwargs)]).encode()


class Polled(NamedTuple):
    """A pushed round of the worker's quote watch (no request id: never a reply).

    ``changed``: symbol -> the :class:`Tick` that changed since the previous
    round; ``failed``: symbol -> ``(code, text)`` of a new failure.
    """

    changed: dict[str, rec.Tick]
    failed: dict[str, tuple[int, str]]


def decode_frame(raw: bytes, name: str) -> Reply | Polled:
    """A reply to a request, or a pushed :class:`Polled` round; MT5DataError if neither."""
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _garbage(name, f"not JSON (or nested too deep): {raw[:60]!r}") from None
    if isinstance(message, list) and message[:2] == ["push", "polled"] and len(message) == 4:
        return _polled(message[2], message[3])
    return _reply(message, name)


def _polled(changed: Any, failed: Any) -> Polled:
    name = "watch"
    if not isinstance(changed, dict) or not isinstance(failed, dict):
        raise _garbage(name, "a pushed round without its maps")
    ticks = {str(symbol): _record(rec.Tick, raw, name) for symbol, raw in changed.items()}
    errors = {}
    for symbol, raw in failed.items():
        error = _last_error(raw, name)
        if error is not None:
            errors[str(symbol)] = error
    return Polled(ticks, errors)


def decode_reply(raw: bytes, name: str) -> Reply:
    """Parse a reply frame; :class:`MT5DataError` if it is not one."""
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _garbage(name, f"not JSON (or nested too deep): {raw[:60]!r}") from None
    return _reply(message, name)


def _reply(message: Any, name: str) -> Reply:
    if not isinstance(message, list) or len(message) not in (3, 4):
        raise _garbage(name, f"not a reply: {str(message)[:80]}")
    tag, ident = message[0], message[1]
    if not (isinstance(ident, int) or ident is None) or isinstance(ident, bool):
        raise _garbage(name, f"bad request id {ident!r}")
    if tag == "ok" and len(message) == 4:
        return Reply("ok", ident, message[2], _last_error(message[3], name))
    if tag in ("error", "timeout", "lost") and len(message) == 3:
        return Reply(tag, ident, str(message[2]), None)
    raise _garbage(name, f"unknown reply {str(tag)[:20]!r}")


def _last_error(raw: Any, name: str) -> tuple[int, str] | None:
    if raw is None:
        return None
    if (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], int)
            and isinstance(raw[1], str)):
        return int(raw[0]), raw[1]
    raise _garbage(name, f"bad last_error {str(raw)[:40]}")


def _garbage(name: str, detail: str) -> MT5DataError:
    return MT5DataError(operation=name, detail=f"terminal worker sent garbage for {name}(): {detail}")


_Rec = Any


def _record(kind: type[_Rec], raw: Any, name: str) -> _Rec:
    if not isinstance(raw, dict):
        raise _garbage(name, f"expected a {kind.__name__}, got {type(raw).__name__}")
    fields: dict[str, Any] = {}
    for field in kind._fields:
        if field not in raw:
            raise _garbage(name, f"{kind.__name__} without field {field!r}")
        value = raw[field]
        if field == "request":
            value = _record(rec.TradeRequest, value, name)
        elif not isinstance(value, _PRIMITIVE):
            raise _garbage(name, f"{kind.__name__}.{field} is a {type(value).__name__}")
        fields[field] = value
    return kind(**fields)


def _one(kind: type[_Rec]) -> Callable[[Any, str], Any]:
    return lambda raw, name: None if raw is None else _record(kind, raw, name)


def _many(kind: type[_Rec]) -> Callable[[Any, str], Any]:
    def decode(raw: Any, name: str) -> Any:
        if raw is None:
            return None
        if not isinstance(raw, list):
            raise _garbage(name, f"expected a list of {kind.__name__}")
        return tuple(_record(kind, item, name) for item in raw)

    return decode


def _flag(raw: Any, name: str) -> bool:
    if not isinstance(raw, bool):
        raise _garbage(name, f"expected true/false, got {str(raw)[:40]}")
    return raw


def _rows(dtype_name: str) -> Callable[[Any, str], Any]:
    """``{"$rows": [[...], ...]}`` back into the module's numpy structured array.

    numpy is imported by the first bars/ticks reply, not by importing this module.
    """
    def decode(raw: Any, name: str) -> Any:
        if raw is None:
            return None
        import numpy as np

        dtype = getattr(rates, dtype_name)
        rows = raw.get("$rows") if isinstance(raw, dict) else None
        if not isinstance(rows, list) or not all(
                isinstance(r, list) and len(r) == len(dtype.names) for r in rows):
            raise _garbage(name, f"expected rows of {len(dtype.names)} fields")
        try:
            return np.array([tuple(r) for r in rows], dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise _garbage(name, f"rows do not fit {dtype.names}: {exc}") from None

    return decode


def _count(raw: Any, name: str) -> int | None:
    if raw is None or (isinstance(raw, int) and not isinstance(raw, bool)):
        return raw
    raise _garbage(name, f"expected a count, got {str(raw)[:40]}")


def _number(raw: Any, name: str) -> float | None:
    if raw is None or (isinstance(raw, int | float) and not isinstance(raw, bool)):
        return None if raw is None else float(raw)
    raise _garbage(name, f"expected a number, got {str(raw)[:40]}")


def _version(raw: Any, name: str) -> tuple[int, int, str] | None:
    if raw is None:
        return None
    if not (isinstance(raw, list) and len(raw) == 3):
        raise _garbage(name, "expected [major, build, date]")
    return int(raw[0]), int(raw[1]), str(raw[2])


_DECODERS: dict[str, Callable[[Any, str], Any]] = {
    "initialize": _flag, "login": _flag, "symbol_select": _flag,
    "shutdown": lambda raw, name: None,
    "version": _version,
    "terminal_info": _one(rec.TerminalInfo), "account_info": _one(rec.AccountInfo),
    "symbol_info": _one(rec.SymbolInfo), "symbol_info_tick": _one(rec.Tick),
    "order_check": _one(rec.OrderCheckResult), "order_send": _one(rec.OrderSendResult),
    "positions_get": _many(rec.TradePosition), "orders_get": _many(rec.TradeOrder),
    "history_deals_get": _many(rec.TradeDeal), "history_orders_get": _many(rec.TradeOrder),
    "copy_rates_from": _rows("RATE_DTYPE"), "copy_rates_from_pos": _rows("RATE_DTYPE"),
    "copy_rates_range": _rows("RATE_DTYPE"), "copy_ticks_from": _rows("TICK_DTYPE"),
    "copy_ticks_range": _rows("TICK_DTYPE"), "symbols_get": _many(rec.SymbolInfo),
    "symbols_total": _count, "positions_total": _count, "orders_total": _count,
    "history_orders_total": _count, "history_deals_total": _count,
    "order_calc_margin": _number, "order_calc_profit": _number,
    "market_book_add": _flag, "market_book_release": _flag, "market_book_get": _many(rec.BookInfo),
    "ping": lambda raw, name: raw,
    "watch": lambda raw, name: raw,
}


def decode_result(name: str, value: Any) -> Any:
    """The plain ``value`` of a ``name()`` reply rebuilt as our record types."""
    return _DECODERS[name](value, name)
