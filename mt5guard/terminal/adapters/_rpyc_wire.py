"""The rpyc side of RpycTerminal: our client service, the server-side helper, the records.

Records cross as ``(name, value)`` pairs and numpy arrays (bars, ticks) as
their dtype description and raw bytes: plain data rpyc sends by value.
Everything here turns rpyc's world into plain data and back; the terminal
logic is in ``rpyc.py`` and the connection's life in ``_rpyc_link.py``.
"""

from __future__ import annotations

import functools
import importlib
from datetime import UTC, datetime
from typing import Any

from mt5guard.errors import MT5DataError
from mt5guard.terminal import records as rec
from mt5guard.terminal.adapters._base import Record
from mt5guard.terminal.protocol import DateArg

__all__ = ["HELPER", "array", "client_service", "epoch", "plain", "record"]

#: The exact types a reply may hold (``type(x) is``, not isinstance: a netref
#: answers isinstance with its remote object's class).
_PLAIN = frozenset({type(None), bool, int, float, str, bytes})
_MAX_ITEMS = 1_000_000  # values in one reply; bars and ticks cross as bytes, not items


# Runs on the server, in this connection's namespace. Names are prefixed so
# they never shadow anything a user keeps there.
HELPER = '''
import MetaTrader5 as _mt5guard_mt5

def _mt5guard_plain(value):
    if hasattr(value, "dtype") and hasattr(value, "tobytes"):
        return ("ndarray", tuple(tuple(part) for part in value.dtype.descr), value.tobytes())
    if hasattr(value, "_asdict"):
        return tuple((k, _mt5guard_plain(v)) for k, v in value._asdict().items())
    if isinstance(value, (tuple, list)):
        return tuple(_mt5guard_plain(v) for v in value)
    return value

def _mt5guard_call(name, args, kwargs, dict_arg):
    if dict_arg:
        args = (dict(args[0]),) + tuple(args[1:])
    return _mt5guard_plain(getattr(_mt5guard_mt5, name)(*args, **dict(kwargs)))
'''


def plain(value: Any, name: str, where: str) -> Any:
    """``value`` copied as exact builtin types (tuples of them); MT5DataError otherwise.

    Iterates without recursion and never touches an attribute of a value that
    is not one of those types: a netref is refused by its type alone.
    """
    if type(value) in _PLAIN:
        return value
    if type(value) is not tuple:
        raise _foreign(value, name, where)
    root: list[Any] = []
    stack: list[tuple[Any, list[Any]]] = [(value, root)]
    count = 0
    while stack:
        item, into = stack.pop()
        if type(item) in _PLAIN:
            into.append(item)
        elif type(item) is tuple:
            count += len(item)
            if count > _MAX_ITEMS:
                raise MT5DataError(operation=name, detail=f"{where} sent more than "
                                   f"{_MAX_ITEMS} values in one reply")
            children: list[Any] = []
            into.append(children)
            stack.extend((child, children) for child in reversed(item))
        else:
            raise _foreign(item, name, where)
    return _tuples(root[0])


def _tuples(built: Any) -> Any:
    if type(built) is not list:
        return built
    return tuple(_tuples(child) for child in built)


def _foreign(value: Any, name: str, where: str) -> MT5DataError:
    kind = type(value)
    return MT5DataError(operation=name, detail=f"{where} returned a {kind.__module__}."
                        f"{kind.__qualname__} in {name}(): only plain values (numbers, text, "
                        "tuples) are accepted from an rpyc server; a remote object is refused")


def record(kind: type[Record], pairs: Any) -> Record:
    """A record sent as ``(name, value)`` pairs, checked and rebuilt; MT5DataError if not."""
    if type(pairs) is not tuple or not all(
            type(p) is tuple and len(p) == 2 and type(p[0]) is str for p in pairs):
        raise _bad(f"a {kind.__name__} reply is not (name, value) pairs")
    fields = dict(pairs)
    missing = [name for name in kind._fields if name not in fields]
    if missing:
        raise _bad(f"a {kind.__name__} reply lacks the fields {missing}")
    values = {name: fields[name] for name in kind._fields}
    if "request" in values and kind in (rec.OrderCheckResult, rec.OrderSendResult):
        if type(values["request"]) is not tuple or not all(
                type(p) is tuple and len(p) == 2 for p in values["request"]):
            raise _bad(f"{kind.__name__}.request is not (name, value) pairs")
        request = dict(values["request"])
        values["request"] = rec.TradeRequest(**{n: request.get(n, 0) for n in rec.TradeRequest._fields})
    return kind(**values)


def _bad(detail: str) -> MT5DataError:
    return MT5DataError(operation="rpyc reply", detail=f"the rpyc server sent garbage: {detail}")


def array(raw: Any) -> Any:
    """A numpy array sent as ``("ndarray", dtype descr, bytes)``, rebuilt (None stays None)."""
    if raw is None:
        return None
    if not (isinstance(raw, tuple) and len(raw) == 3 and raw[0] == "ndarray"
            and type(raw[2]) is bytes):
        raise _bad(f"expected a numpy array, got {type(raw).__name__}")
    import numpy as np

    try:
        dtype = np.dtype([tuple(part) for part in raw[1]])
        if dtype.hasobject:
            raise ValueError("an array of objects")
        return np.frombuffer(raw[2], dtype=dtype).copy()
    except (TypeError, ValueError) as exc:
        raise _bad(f"an array that does not fit its dtype ({exc})") from None


def epoch(value: DateArg, rounding: Any) -> int:
    """A bound as whole epoch seconds, widened by ``rounding`` (floor or ceil).

    Datetimes cannot cross as values (brine has none); a naive one is UTC.
    """
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int(rounding(aware.timestamp()))
    return int(rounding(value))


@functools.cache
def client_service() -> Any:
    """Our side of a classic connection: a master that lends the server nothing.

    rpyc 6's classic server asks its peer for modules as it connects (it
    expects a slave, as ``rpyc.classic.connect`` makes one) and drops a
    peer that refuses, so rpyc's own ``ClassicClient`` cannot connect. This
    one answers every module request with None: the server gets no access
    to our process, and never needs any.
    """
    service = importlib.import_module("rpyc.core.service")
    master: Any = service.MasterService
    lends_nothing: Any = service.FakeSlaveService

    class LendsNothing(master, lends_nothing):  # type: ignore[misc]
        __slots__ = ()

        def exposed_getmodule(self, name: str) -> None:
            return None

    return LendsNothing
