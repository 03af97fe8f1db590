"""The rpyc side of RpycTerminal: our client service, the server-side helper, the records.

Records cross as ``(name, value)`` pairs and numpy arrays (bars, ticks) as
their dtype description and raw bytes: plain data rpyc sends by value.
Everything here turns rpyc's world into plain data and back; the terminal
logic (deadlines, errors, the connection's life) is in ``rpyc_terminal``.
"""

from __future__ import annotations

import functools
import importlib
from datetime import UTC, datetime
from typing import Any, TypeVar

from mt5guard.terminal.protocol import DateArg
from mt5guard.terminal.records import (
    AccountInfo,
    BookInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)

__all__ = ["HELPER", "array", "client_service", "epoch", "given", "optional", "records"]

_Rec = TypeVar(
    "_Rec", AccountInfo, TerminalInfo, Tick, SymbolInfo, TradePosition, TradeOrder, TradeDeal,
    OrderCheckResult, OrderSendResult, BookInfo,
)

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


def _record(kind: type[_Rec], pairs: Any) -> _Rec:
    fields = dict(pairs)
    missing = [name for name in kind._fields if name not in fields]
    if missing:
        raise ValueError(f"{kind.__name__} reply lacks the fields {missing}")
    values = {name: fields[name] for name in kind._fields}
    if "request" in values and kind in (OrderCheckResult, OrderSendResult):
        request = dict(values["request"])
        values["request"] = TradeRequest(**{n: request.get(n, 0) for n in TradeRequest._fields})
    return kind(**values)


def optional(kind: type[_Rec], raw: Any) -> _Rec | None:
    return None if raw is None else _record(kind, raw)


def records(kind: type[_Rec], raw: Any) -> tuple[_Rec, ...] | None:
    return None if raw is None else tuple(_record(kind, item) for item in raw)


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


def given(**filters: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((name, value) for name, value in filters.items() if value is not None)


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
