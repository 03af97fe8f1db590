"""Plain data: any record, event, message or error as JSON-ready dicts and lists.

:func:`plain` turns attrs classes, the terminal's named tuples, enums,
datetimes (ISO 8601), numpy arrays and scalars, errors and containers into
``dict`` / ``list`` / ``str`` / ``int`` / ``float`` / ``bool`` / ``None``
that ``json.dumps`` accepts (non-finite floats become None). Reply channels
(futures, actor refs, callables) are left out, and a
:class:`~mt5guard.secret.Secret` is always masked: plain data never carries
a password.

Every message of the package (``<concept>/messages.py``) is a frozen attrs
class with slots and :class:`PlainData`, compared by value. A reply channel
(``reply_to``, :func:`reply_field`) is a :class:`concurrent.futures.Future`
that the receiver completes with the result or a typed
:class:`~mt5guard.errors.MT5Error`; it is excluded from equality. Times are
the clock's wall time (UTC); ``deadline`` values are the clock's monotonic
seconds; latencies are in milliseconds.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from concurrent.futures import Future
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from mt5guard.secret import Secret

__all__ = ["PlainData", "Request", "plain", "reply_field"]

_MASK = "******"


def _channel(value: object) -> bool:
    return isinstance(value, Future) or hasattr(type(value), "set_exception") or (
        type(value).__name__ == "ActorRef") or (
        callable(value) and not isinstance(value, type) and not attrs.has(type(value)))


def plain(value: Any) -> Any:
    """``value`` as JSON-ready plain data (see the module docstring)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Secret):
        return _MASK
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if attrs.has(type(value)):
        return {f.name: plain(v) for f in attrs.fields(type(value))
                if not _channel(v := getattr(value, f.name))}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, BaseException):
        to_dict = getattr(value, "to_dict", None)
        return plain(to_dict()) if callable(to_dict) else {"error": type(value).__name__,
                                                          "message": str(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if not _channel(v)}
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # numpy arrays and scalars
        names = getattr(value.dtype, "names", None)
        rows = value.tolist()
        if names and isinstance(rows, list):
            return [dict(zip(names, (plain(x) for x in row), strict=True)) for row in rows]
        return plain(rows)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value if not _channel(v)]
    return str(value)


class PlainData:
    """Mixin: ``to_dict()`` gives the instance as plain data ``json.dumps`` accepts."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = plain(self)
        return data


def reply_field() -> Any:
    """A message's ``reply_to``: keyword-only, left out of equality and repr."""
    return attrs.field(eq=False, repr=False, kw_only=True)


@attrs.frozen
class Request(PlainData):
    """A request to an actor: answered through ``reply_to`` (a Future the actor
    completes with the result or a typed MT5Error); a request still queued past
    ``deadline`` (the clock's monotonic seconds; None: none) is answered
    MT5TimeoutError without being handled. Both are keyword-only."""

    reply_to: Future[Any] = attrs.field(eq=False, repr=False, kw_only=True)  # as reply_field()
    deadline: float | None = attrs.field(default=None, kw_only=True)
