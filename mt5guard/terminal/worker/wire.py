"""The client half of the worker wire: requests out, replies checked and rebuilt.

Everything on the wire is length-framed JSON (see :mod:`mt5guard.terminal.bridge.server`
for the message shapes), but for the usual reply of a record of ints and floats, which
comes as a binary frame (``bridge/_shapes.py``: ``BINARY_OK``) and is read here as the
JSON frame ``["ok", id, [shape, v1, ...], null]`` it stands for. Records arrive as
positional lists ``[shape, v1, ...]`` whose field names the worker declared once on
this connection (:class:`ShapeTable`; see ``bridge/_shapes.py``), and are rebuilt
here into our own :mod:`~mt5guard.terminal.records` types by those names, chosen by the
function called, never by anything the worker says. A reply that is not
JSON (nor a whole binary frame), not shaped like a reply, or whose record has an undeclared shape, lacks
a field or carries a non-primitive value raises
:class:`~mt5guard.errors.MT5DataError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from mt5guard.errors import MT5DataError
from mt5guard.terminal import rates
from mt5guard.terminal import records as rec
from mt5guard.terminal.bridge._shapes import BINARY_OK, unpack_ok

__all__ = ["Polled", "Reply", "ShapeTable", "decode_answer", "decode_frame", "decode_reply",
           "decode_result", "encode_request"]

_PRIMITIVE = frozenset({bool, int, float, str, type(None)})


class Reply(NamedTuple):
    """A worker's reply: ``tag`` is ok, error, timeout or lost."""

    tag: str
    ident: int | None
    value: Any
    last_error: tuple[int, str] | None


_SCALARS = frozenset({str, int, float, bool, type(None)})
_encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii


class ShapeTable:
    """One connection's record shapes, as the worker declared them (shape -> field names).

    A new link starts a new table; a shape declared again (a bridge that started
    a new worker for the same session) replaces the old one.
    """

    __slots__ = ("names", "plans")

    def __init__(self) -> None:
        self.names: dict[int, tuple[str, ...]] = {}
        #: (shape, kind) -> (where each field sits, None: in order; the shape's width)
        self.plans: dict[tuple[int, type], tuple[tuple[int, ...] | None, int]] = {}

    def declare(self, raw: Any, name: str) -> None:
        if not isinstance(raw, list):
            raise _garbage(name, "shape declarations are not a list")
        for item in raw:
            if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is int
                    and isinstance(item[1], list) and all(type(f) is str for f in item[1])):
                raise _garbage(name, f"bad shape declaration {str(item)[:60]}")
            self.names[item[0]] = tuple(item[1])
            self.plans = {key: plan for key, plan in self.plans.items() if key[0] != item[0]}

    def plan(self, shape: int, kind: type[Any], name: str) -> tuple[tuple[int, ...] | None, int]:
        """Where each of ``kind``'s fields sits in a record of ``shape`` (None: in order),
        and how many values a record of ``shape`` holds."""
        key = (shape, kind)
        if key in self.plans:
            return self.plans[key]
        names = self.names.get(shape)
        if names is None:
            raise _garbage(name, f"a {kind.__name__} of undeclared shape {shape}")
        fields: tuple[str, ...] = kind._fields
        missing = [f for f in fields if f not in names]
        if missing:
            raise _garbage(name, f"{kind.__name__} without field {missing[0]!r}")
        plan = None if names == fields else tuple(names.index(f) + 1 for f in fields)
        self.plans[key] = layout = (plan, len(names))
        return layout


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
    if not kwargs and type(ident) is int and type(deadline) is float and type(budget) is float \
            and math.isfinite(deadline) and math.isfinite(budget):  # symbol_info_tick("EURUSD")...
        # by hand: JSONEncoder.encode builds a new C encoder on every call (issue 21)
        if len(args) == 1 and type(args[0]) is str:
            quoted: str | None = _quote(args[0])
        else:
            quoted = ",".join(map(_quote, args)) if all(type(a) is str for a in args) else None
        if quoted is not None:
            return (f'["call",{ident},{deadline!r},{budget!r},{_quote(name)},[{quoted}],{{}}]'
                    ).encode()
    if not kwargs and all(type(a) in _SCALARS for a in args):
        return _encode(["call", ident, deadline, budget, name, args, kwargs]).encode()
    return _encode(["call", ident, deadline, budget, name, _arg(args), _arg(kwargs)]).encode()


class Polled(NamedTuple):
    """A pushed round of the worker's quote watch (no request id: never a reply).

    ``changed``: symbol -> the :class:`Tick` that changed since the previous
    round; ``failed``: symbol -> ``(code, text)`` of a new failure.
    """

    changed: dict[str, rec.Tick]
    failed: dict[str, tuple[int, str]]


_NO_SHAPES = ShapeTable()  # for frames read without a connection's table: no record decodes


def decode_frame(raw: bytes, name: str, shapes: ShapeTable | None = None) -> Reply | Polled:
    """A reply to a request, or a pushed :class:`Polled` round; MT5DataError if neither.

    ``shapes``: the connection's table; the frame's shape declarations go into it first.
    """
    return _frame(_loads(raw, name), name, _NO_SHAPES if shapes is None else shapes)


def _frame(message: Any, name: str, table: ShapeTable) -> Reply | Polled:
    if type(message) is list and len(message) == 4 and message[0] == "ok" \
            and type(message[1]) is int and message[3] is None:  # the usual reply, checked whole
        return Reply("ok", message[1], message[2], None)
    if isinstance(message, list) and message[:2] == ["push", "polled"] and len(message) in (4, 5):
        if len(message) == 5:
            table.declare(message[4], name)
        return _polled(message[2], message[3], table)
    return _reply(message, name, table)


def decode_answer(raw: bytes, name: str, ident: int, shapes: ShapeTable) -> Any:
    """The reply to request ``ident`` of ``name()``, if it is the usual one
    (``["ok", ident, value, null]``): its value rebuilt, as :func:`decode_result` does;
    else what :func:`decode_frame` returns for ``raw`` (a :class:`Reply` or :class:`Polled`:
    never a rebuilt value). MT5DataError as they raise it.

    One call where a reply took two, the frame parsed once either way.
    """
    message = _loads(raw, name)  # a binary reply (protocol 4) read as the JSON one
    if type(message) is list and len(message) == 4 and message[1] == ident \
            and type(message[1]) is int and message[0] == "ok" and message[3] is None:
        return _DECODERS[name](message[2], name, shapes)
    return _frame(message, name, shapes)


def _unpack(raw: bytes, name: str) -> tuple[Any, ...]:
    """A binary ok frame's ``(id, shape, v1, ...)``; MT5DataError if it is not one whole."""
    try:
        return unpack_ok(raw)
    except ValueError as exc:
        raise _garbage(name, str(exc)) from None


_DECODER = json.JSONDecoder()  # built once: what json.loads does, without its checks
# of a str or bytes argument and its encoding sniffing (the worker sends ASCII: UTF-8 only here)
_DECODE = _DECODER.decode
# decode()'s scanner (CPython's C one), called alone: decode() is two Python calls and two
# regex matches more. Not a documented attribute: where it is missing, decode() does it all.
_SCAN: Callable[[str, int], tuple[Any, int]] | None = getattr(_DECODER, "scan_once", None)


def _loads(raw: bytes, name: str) -> Any:
    if raw and raw[0] == BINARY_OK:  # the JSON frame it stands for
        values = _unpack(raw, name)
        return ["ok", values[0], list(values[1:]), None]
    try:
        text = raw.decode()
        if _SCAN is not None:
            try:
                value, end = _SCAN(text, 0)
                if end == len(text):
                    return value
            except StopIteration:
                pass
        return _DECODE(text)  # whitespace around the value, or not JSON: decode() decides
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise _garbage(name, f"not JSON (or nested too deep): {raw[:60]!r}") from None


def _polled(changed: Any, failed: Any, shapes: ShapeTable) -> Polled:
    name = "watch"
    if not isinstance(changed, dict) or not isinstance(failed, dict):
        raise _garbage(name, "a pushed round without its maps")
    ticks = {str(symbol): _record(rec.Tick, raw, name, shapes) for symbol, raw in changed.items()}
    errors = {}
    for symbol, raw in failed.items():
        error = _last_error(raw, name)
        if error is not None:
            errors[str(symbol)] = error
    return Polled(ticks, errors)


def decode_reply(raw: bytes, name: str, shapes: ShapeTable | None = None) -> Reply:
    """Parse a reply frame; :class:`MT5DataError` if it is not one."""
    return _reply(_loads(raw, name), name, _NO_SHAPES if shapes is None else shapes)


def _reply(message: Any, name: str, shapes: ShapeTable) -> Reply:
    if type(message) is list and len(message) == 4 and message[0] == "ok" \
            and type(message[1]) is int and message[3] is None:  # the usual reply, checked whole
        return Reply("ok", message[1], message[2], None)
    if not isinstance(message, list) or len(message) not in (3, 4, 5):
        raise _garbage(name, f"not a reply: {str(message)[:80]}")
    tag, ident = message[0], message[1]
    if not (isinstance(ident, int) or ident is None) or isinstance(ident, bool):
        raise _garbage(name, f"bad request id {ident!r}")
    size = 4 if tag == "ok" else 3
    if len(message) == size + 1:
        shapes.declare(message[size], name)
    elif len(message) != size:
        raise _garbage(name, f"unknown reply {str(tag)[:20]!r}")
    if tag == "ok":
        return Reply("ok", ident, message[2], _last_error(message[3], name))
    if tag in ("error", "timeout", "lost"):
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
_NESTED = {rec.OrderSendResult: rec.OrderSendResult._fields.index("request"),
           rec.OrderCheckResult: rec.OrderCheckResult._fields.index("request")}


def _record(kind: type[_Rec], raw: Any, name: str, shapes: ShapeTable) -> _Rec:
    if type(raw) is not list or not raw or type(raw[0]) is not int:
        raise _garbage(name, f"expected a {kind.__name__}, got {type(raw).__name__}")
    plan, width = shapes.plans.get((raw[0], kind)) or shapes.plan(raw[0], kind, name)
    if len(raw) != 1 + width:
        raise _garbage(name, f"a {kind.__name__} of {len(raw) - 1} values for its {width} fields")
    values = raw[1:] if plan is None else [raw[i] for i in plan]
    if _PRIMITIVE.issuperset(map(type, values)):  # every value checked in one C-level pass
        return tuple.__new__(kind, values)  # its width checked above: what _make checks
    for index, value in enumerate(values):
        if type(value) not in _PRIMITIVE:
            if index == _NESTED.get(kind):
                values[index] = _record(rec.TradeRequest, value, name, shapes)
            else:
                raise _garbage(name, f"{kind.__name__}.{kind._fields[index]} is a "
                                     f"{type(value).__name__}")
    return kind._make(values)


def _one(kind: type[_Rec]) -> Callable[[Any, str, ShapeTable], Any]:
    def decode(raw: Any, name: str, shapes: ShapeTable) -> Any:
        if type(raw) is list and raw and type(raw[0]) is int:  # _record's first steps, inline
            layout = shapes.plans.get((raw[0], kind))
            if layout is not None and layout[0] is None and len(raw) == 1 + layout[1]:
                values = raw[1:]
                if _PRIMITIVE.issuperset(map(type, values)):
                    return tuple.__new__(kind, values)
        return None if raw is None else _record(kind, raw, name, shapes)

    return decode


def _many(kind: type[_Rec]) -> Callable[[Any, str, ShapeTable], Any]:
    def decode(raw: Any, name: str, shapes: ShapeTable) -> Any:
        if raw is None:
            return None
        if not isinstance(raw, list):
            raise _garbage(name, f"expected a list of {kind.__name__}")
        return tuple(_record(kind, item, name, shapes) for item in raw)

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


_Decoder = Callable[[Any, str, ShapeTable], Any]


def _bare(decode: Callable[[Any, str], Any]) -> _Decoder:
    return lambda raw, name, shapes: decode(raw, name)


_flag3, _count3, _number3 = _bare(_flag), _bare(_count), _bare(_number)
_DECODERS: dict[str, _Decoder] = {
    "initialize": _flag3, "login": _flag3, "symbol_select": _flag3,
    "shutdown": lambda raw, name, shapes: None,
    "version": _bare(_version),
    "terminal_info": _one(rec.TerminalInfo), "account_info": _one(rec.AccountInfo),
    "symbol_info": _one(rec.SymbolInfo), "symbol_info_tick": _one(rec.Tick),
    "order_check": _one(rec.OrderCheckResult), "order_send": _one(rec.OrderSendResult),
    "positions_get": _many(rec.TradePosition), "orders_get": _many(rec.TradeOrder),
    "history_deals_get": _many(rec.TradeDeal), "history_orders_get": _many(rec.TradeOrder),
    "copy_rates_from": _bare(_rows("RATE_DTYPE")), "copy_rates_from_pos": _bare(_rows("RATE_DTYPE")),
    "copy_rates_range": _bare(_rows("RATE_DTYPE")), "copy_ticks_from": _bare(_rows("TICK_DTYPE")),
    "copy_ticks_range": _bare(_rows("TICK_DTYPE")), "symbols_get": _many(rec.SymbolInfo),
    "symbols_total": _count3, "positions_total": _count3, "orders_total": _count3,
    "history_orders_total": _count3, "history_deals_total": _count3,
    "order_calc_margin": _number3, "order_calc_profit": _number3,
    "market_book_add": _flag3, "market_book_release": _flag3, "market_book_get": _many(rec.BookInfo),
    "ping": lambda raw, name, shapes: raw,
    "watch": lambda raw, name, shapes: raw,
}


def decode_result(name: str, value: Any, shapes: ShapeTable | None = None) -> Any:
    """The plain ``value`` of a ``name()`` reply rebuilt as our record types
    (``shapes``: the connection's table, fed by :func:`decode_frame`)."""
    return _DECODERS[name](value, name, _NO_SHAPES if shapes is None else shapes)
