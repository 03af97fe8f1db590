"""The worker's half of the compact wire (protocol 3): records as positional lists.

Standard library only, like :mod:`mt5guard.terminal.bridge.server`.

A record (any value with ``_asdict()``: our simulator's named tuples, the
``MetaTrader5`` module's tuple types) travels as ``[shape, v1, v2, ...]``:
``shape`` numbers the record's field names on this connection, and the frame
that first uses a shape declares it, as the frame's last element
``[[shape, [name, ...]], ...]``. The client rebuilds its own record types by
those names (:mod:`mt5guard.terminal.worker.wire`), so a backend whose field
order differs from ours still lands field by field; the names cross the wire
once per connection, not once per call (issue 21: a Tick as a dict of its
fields cost ~13 us per call to encode, ~5 us as a list). Frames are encoded in
the order they are sent, under the connection's send lock, so a declaration
always precedes its first use.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

__all__ = ["Shapes"]

_SCALARS = frozenset({str, int, float, bool, type(None)})
#: record type -> (its field names, whether iterating it yields them in that order)
_KINDS: dict[type, tuple[tuple[str, ...], bool]] = {}


def _dumper() -> Callable[[Any], str]:
    """``json.dumps(value, separators=(",", ":"))``, its C encoder built once.

    ``JSONEncoder.encode`` builds a new C encoder on every call (~1 us of a
    tick's ~2.7); ``_json.make_encoder`` is CPython's, its arguments those
    ``JSONEncoder.iterencode`` passes. Where it is missing or does not encode
    a sample as ``encode`` does, ``encode`` it is.
    """
    encoder = json.JSONEncoder(separators=(",", ":"), check_circular=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    try:
        once = make(None, encoder.default, json.encoder.encode_basestring_ascii, None, ":", ",",
                    False, False, True)
        sample: list[Any] = ["ok", 1, [0, 1.5, "\u00e9", None, True, float("nan")], {"a": [1]}]
        if "".join(once(sample, 0)) != encoder.encode(sample):
            return encoder.encode
    except Exception:  # another interpreter's signature
        return encoder.encode
    return lambda value: "".join(once(value, 0))


class Shapes:
    """One connection's numbering of record shapes, and its frame encoder."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, ...], int] = {}
        self._new: list[list[Any]] = []
        self._dump = _dumper()
        #: record type -> its shape here, for types whose values iterate in field order
        self._declared: dict[type, int] = {}

    def ok(self, ident: int, result: Any) -> bytes | None:
        """``["ok", ident, result, null]`` as :meth:`frame` encodes it, if ``result`` is a
        record of plain values whose shape is declared and nothing waits to be declared;
        else None (:meth:`frame` then). The worker's usual reply, without building the frame."""
        shape = self._declared.get(type(result))
        if shape is None or self._new or not _SCALARS.issuperset(map(type, result)):
            return None
        return self._dump(["ok", ident, [shape, *result], None]).encode()

    def frame(self, frame: list[Any]) -> bytes:
        """``frame`` (records inside it as objects) as bytes, new shapes declared last."""
        if len(frame) == 4 and frame[0] == "ok" and frame[3] is None and not self._new:
            shape = self._declared.get(type(frame[2]))  # a record whose shape is declared
            if shape is not None and type(frame[1]) in _SCALARS and \
                    _SCALARS.issuperset(map(type, frame[2])):  # what _record makes, in one pass
                return self._dump(["ok", frame[1], [shape, *frame[2]], None]).encode()
        encoded = [item if type(item) in _SCALARS else self.plain(item) for item in frame]
        if self._new:
            encoded.append(self._new)
            self._new = []
        return self._dump(encoded).encode()

    def plain(self, value: Any) -> Any:
        """``value`` as JSON-able data: records positional, datetimes ``{"$datetime": s}``."""
        if type(value) in _SCALARS:
            return value
        if hasattr(value, "_asdict"):
            return self._record(value)
        if hasattr(value, "dtype") and hasattr(value, "tolist"):  # numpy: bars and ticks
            rows = value.tolist()
            return {"$rows": rows} if isinstance(rows, list) else rows
        if isinstance(value, tuple | list):
            return [self.plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): self.plain(v) for k, v in value.items()}
        if isinstance(value, datetime):
            return {"$datetime": value.timestamp()}
        if isinstance(value, bool | int | float | str):  # subclasses (IntEnum...) as their base
            return value
        raise TypeError(f"cannot send a {type(value).__name__} over the wire")

    def _record(self, value: Any) -> list[Any]:
        kind = type(value)
        known = _KINDS.get(kind)
        if known is None:
            items = value._asdict()
            ordered = isinstance(value, tuple) and len(value) == len(items) and all(
                a is b for a, b in zip(value, items.values(), strict=True))
            known = _KINDS[kind] = (tuple(items), ordered)
        names, ordered = known
        values = value if ordered else value._asdict().values()
        shape = self._ids.get(names)
        if shape is None:
            shape = self._ids[names] = len(self._ids)
            self._new.append([shape, list(names)])
        if ordered:
            self._declared[kind] = shape
        if ordered and _SCALARS.issuperset(map(type, value)):  # one C-level pass (most records)
            return [shape, *value]
        out: list[Any] = [shape]
        for item in values:
            out.append(item if type(item) in _SCALARS else self.plain(item))
        return out
