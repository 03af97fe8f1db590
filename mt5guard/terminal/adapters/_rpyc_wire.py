"""The rpyc side of RpycTerminal: our client service, the server-side helper, the records.

Records cross as ``(name, value)`` pairs and numpy arrays (bars, ticks) as
their dtype description and raw bytes: plain data rpyc sends by value.
Everything here turns rpyc's world into plain data and back; the terminal
logic (deadlines, errors, the connection's life) is in ``rpyc``.
"""

from __future__ import annotations

import functools
import importlib
from datetime import UTC, datetime
from typing import Any

from mt5guard.terminal.adapters._base import Record
from mt5guard.terminal.protocol import DateArg
from mt5guard.terminal.records import OrderCheckResult, OrderSendResult, TradeRequest

__all__ = ["HELPER", "array", "client_service", "epoch", "record"]

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


def record(kind: type[Record], pairs: Any) -> Record:
    """A record sent as ``(name, value)`` pairs, rebuilt; a missing field is a ValueError."""
    fields = dict(pairs)
    missing = [name for name in kind._fields if name not in fields]
    if missing:
        raise ValueError(f"{kind.__name__} reply lacks the fields {missing}")
    values = {name: fields[name] for name in kind._fields}
    if "request" in values and kind in (OrderCheckResult, OrderSendResult):
        request = dict(values["request"])
        values["request"] = TradeRequest(**{n: request.get(n, 0) for n in TradeRequest._fields})
    return kind(**values)


def array(raw: Any) -> Any:
    """A numpy array sent as ``("ndarray", dtype descr, bytes)``, rebuilt (None stays None)."""
    if raw is None:
        return None
    if not (isinstance(raw, tuple) and len(raw) == 3 and raw[0] == "ndarray"):
        raise ValueError(f"expected a numpy array from the server, got {type(raw).__name__}")
    import numpy as np

    dtype = np.dtype([tuple(part) for part in raw[1]])
    return np.frombuffer(raw[2], dtype=dtype).copy()


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
