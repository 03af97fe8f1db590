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

Protocol 4: the usual reply, ``["ok", id, record, null]`` of a declared shape
whose values are all ``int`` (64-bit) or ``float``, travels as a binary frame
instead (:meth:`Shapes.ok`, layout at :data:`BINARY_OK`): no float printed by the worker and parsed again
by the client (issue 21: ~2 us of ~3.5 a Tick cost both sides). Every other
frame is JSON, and a JSON frame always starts with ``[``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from datetime import datetime
from typing import Any

__all__ = ["BINARY_OK", "Shapes", "binary_ident", "binary_layout", "unpack_ok"]

_SCALARS = frozenset({str, int, float, bool, type(None)})
#: record type -> (its field names, whether iterating it yields them in that order)
_KINDS: dict[type, tuple[tuple[str, ...], bool]] = {}

#: The first byte of a binary ``ok`` frame (a JSON frame starts with ``[``). After it:
#: ``n`` (1 byte, the record's values), a bit mask of ``ceil(n / 8)`` bytes (bit ``i``,
#: least significant first: value ``i`` is a float, else a signed 64-bit int), then, big
#: endian, the request id (int64), the record's shape (uint16) and the ``n`` values.
BINARY_OK = 2
_CODES = {int: False, float: True}  # what may travel binary: exactly these types
_PACKERS_CAP = 64  # value-type tuples remembered per connection (a backend has a few)


def binary_layout(n: int, mask: bytes) -> struct.Struct | None:
    """The ``struct`` of a binary ok frame's body (id, shape, values) for ``n`` values and
    ``mask``, or None if ``mask`` is not ``n`` values' (its length, or bits past ``n``)."""
    if len(mask) != (n + 7) // 8 or (n % 8 and mask and mask[-1] >> (n % 8)):
        return None
    codes = "".join("d" if mask[i >> 3] >> (i & 7) & 1 else "q" for i in range(n))
    return struct.Struct(f"!qH{codes}")


def _packer(kinds: tuple[type, ...]) -> Callable[..., bytes] | None:
    """``pack(ident, shape, *values)`` for records whose values have types ``kinds``."""
    if len(kinds) > 255 or not all(kind in _CODES for kind in kinds):
        return None
    mask = bytearray((len(kinds) + 7) // 8)
    for i, kind in enumerate(kinds):
        if _CODES[kind]:
            mask[i >> 3] |= 1 << (i & 7)
    head = bytes([BINARY_OK, len(kinds)]) + bytes(mask)
    body = binary_layout(len(kinds), bytes(mask))
    assert body is not None
    whole = struct.Struct(f"!{len(head)}s{body.format[1:]}")
    pack = whole.pack
    return lambda ident, shape, *values: pack(head, ident, shape, *values)


#: (n, mask) of a binary ok frame -> the struct of its id, shape and values (a few per peer)
_LAYOUTS: dict[bytes, struct.Struct] = {}


def unpack_ok(raw: bytes) -> tuple[Any, ...]:
    """A binary ok frame's ``(id, shape, v1, ...)`` (the client's side); ValueError naming
    what is wrong if ``raw`` is not one whole."""
    head = 2 + (raw[1] + 7) // 8 if len(raw) > 1 else 2
    layout = _LAYOUTS.get(raw[1:head])
    if layout is None:
        layout = binary_layout(raw[1], raw[2:head]) if len(raw) >= head else None
        if layout is None:
            raise ValueError(f"a binary reply with a bad header: {raw[:12]!r}")
        if len(_LAYOUTS) < _PACKERS_CAP:
            _LAYOUTS[raw[1:head]] = layout
    if len(raw) != head + layout.size:
        raise ValueError(f"a binary reply of {len(raw) - head} bytes for its {layout.size}")
    return layout.unpack_from(raw, head)


def binary_ident(raw: bytes) -> int | None:
    """The request id of a binary ok frame, or None if ``raw`` is not one (the bridge's
    relay, which reads no record)."""
    if len(raw) < 2 or raw[0] != BINARY_OK:
        return None
    start = 2 + (raw[1] + 7) // 8
    if len(raw) < start + 8:
        return None
    ident: int = struct.unpack_from("!q", raw, start)[0]
    return ident


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
        #: the types of a record's values -> its binary packer, or None: JSON
        self._packers: dict[tuple[type, ...], Callable[..., bytes] | None] = {}

    def ok(self, ident: int, result: Any) -> bytes | None:
        """``["ok", ident, result, null]`` as :meth:`frame` encodes it, if ``result`` is a
        record of plain values whose shape is declared and nothing waits to be declared;
        else None (:meth:`frame` then). The worker's usual reply, without building the frame."""
        shape = self._declared.get(type(result))
        if shape is None or self._new:
            return None
        kinds = tuple(map(type, result))
        packers = self._packers
        if kinds in packers:
            packer = packers[kinds]
        else:
            packer = _packer(kinds)
            if len(self._packers) < _PACKERS_CAP:
                self._packers[kinds] = packer
        if packer is not None and type(ident) is int:
            try:
                return packer(ident, shape, *result)
            except struct.error:  # an int past 64 bits (the id or a value): JSON carries it
                pass
        if not _SCALARS.issuperset(kinds):
            return None
        return self._dump(["ok", ident, [shape, *result], None]).encode()

    def frame(self, frame: list[Any]) -> bytes:
        """``frame`` (records inside it as objects) as bytes, new shapes declared last."""
        if len(frame) == 4 and frame[0] == "ok" and frame[3] is None and not self._new:
            shape = self._declared.get(type(frame[2]))  # a record whose shape is declared
            if shape is not None and type(frame[1]) in _SCALARS:
                data = self.ok(frame[1], frame[2])
                if data is not None:
                    return data
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
