"""Bars and ticks as the ``MetaTrader5`` module returns them: numpy structured arrays.

``copy_rates_*`` return :data:`RATE_DTYPE` rows and ``copy_ticks_*`` return
:data:`TICK_DTYPE` rows, oldest first; the dtypes are the ones the real module
reports (``time`` in seconds, ``time_msc`` in milliseconds since the epoch,
``spread`` in points). :func:`bar_open` gives the open time of the bar a
moment falls in: bars of a day or less are aligned to multiples of their
length since the epoch, W1 bars open on Sunday 00:00 and MN1 bars on the
first of the month (UTC), as the terminal's server time does.

The dtypes are built on first use (module ``__getattr__``): importing this
module, and so ``import mt5guard``, does not import numpy (~80 ms), which an
engine embedding us and every terminal worker would otherwise pay at start.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from mt5guard.terminal import constants as c

if TYPE_CHECKING:
    import numpy as np

    #: ``copy_rates_*`` rows: time int64 (s), prices float64, tick_volume uint64,
    #: spread int32 (points), real_volume uint64.
    RATE_DTYPE: np.dtype[np.void]
    #: ``copy_ticks_*`` rows: time int64 (s), bid/ask/last float64, volume uint64,
    #: time_msc int64 (ms), flags uint32 (TICK_FLAG_*), volume_real float64.
    TICK_DTYPE: np.dtype[np.void]

__all__ = [
    "COPY_TICKS_FLAGS",
    "RATE_DTYPE",
    "TICK_DTYPE",
    "TIMEFRAMES",
    "bar_open",
    "next_bar_open",
    "shift_bar",
    "timeframe_name",
]

_FIELDS: Final = {
    "RATE_DTYPE": [
        ("time", "<i8"), ("open", "<f8"), ("high", "<f8"), ("low", "<f8"), ("close", "<f8"),
        ("tick_volume", "<u8"), ("spread", "<i4"), ("real_volume", "<u8"),
    ],
    "TICK_DTYPE": [
        ("time", "<i8"), ("bid", "<f8"), ("ask", "<f8"), ("last", "<f8"), ("volume", "<u8"),
        ("time_msc", "<i8"), ("flags", "<u4"), ("volume_real", "<f8"),
    ],
}


@cache
def _dtype(name: str) -> Any:
    import numpy as np

    return np.dtype(_FIELDS[name])


def __getattr__(name: str) -> Any:
    if name in _FIELDS:
        return _dtype(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_WEEK: Final = 7 * 86400
_SUNDAY_OFFSET: Final = 3 * 86400  # 1970-01-04, the first Sunday after the epoch
_MONTH: Final = -1  # marker: calendar months

#: Every timeframe constant -> its bar length in seconds (MN1: -1, calendar months).
TIMEFRAMES: Final[dict[int, int]] = {
    c.TIMEFRAME_M1: 60, c.TIMEFRAME_M2: 120, c.TIMEFRAME_M3: 180, c.TIMEFRAME_M4: 240,
    c.TIMEFRAME_M5: 300, c.TIMEFRAME_M6: 360, c.TIMEFRAME_M10: 600, c.TIMEFRAME_M12: 720,
    c.TIMEFRAME_M15: 900, c.TIMEFRAME_M20: 1200, c.TIMEFRAME_M30: 1800,
    c.TIMEFRAME_H1: 3600, c.TIMEFRAME_H2: 7200, c.TIMEFRAME_H3: 10800, c.TIMEFRAME_H4: 14400,
    c.TIMEFRAME_H6: 21600, c.TIMEFRAME_H8: 28800, c.TIMEFRAME_H12: 43200,
    c.TIMEFRAME_D1: 86400, c.TIMEFRAME_W1: _WEEK, c.TIMEFRAME_MN1: _MONTH,
}

#: The ``flags`` copy_ticks_* accepts.
COPY_TICKS_FLAGS: Final = frozenset({c.COPY_TICKS_ALL, c.COPY_TICKS_INFO, c.COPY_TICKS_TRADE})

_NAMES: Final = {
    value: name for name, value in vars(c).items() if name.startswith("TIMEFRAME_")
}


def timeframe_name(timeframe: int) -> str:
    """``'TIMEFRAME_H1'`` for 16385; raises KeyError for anything else."""
    return _NAMES[timeframe]


def bar_open(timeframe: int, at: int) -> int:
    """The open time (epoch seconds) of the ``timeframe`` bar containing ``at`` (seconds)."""
    length = TIMEFRAMES[timeframe]
    if length == _MONTH:
        moment = datetime.fromtimestamp(at, UTC)
        return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp())
    if length == _WEEK:
        return (at - _SUNDAY_OFFSET) // _WEEK * _WEEK + _SUNDAY_OFFSET
    return at // length * length


def next_bar_open(timeframe: int, opened: int) -> int:
    """The open time of the bar after the one opened at ``opened`` (seconds)."""
    return shift_bar(timeframe, opened, 1)


def shift_bar(timeframe: int, opened: int, bars: int) -> int:
    """The open time ``bars`` bars after (negative: before) the bar opened at ``opened``."""
    length = TIMEFRAMES[timeframe]
    if length != _MONTH:
        return opened + bars * length
    moment = datetime.fromtimestamp(opened, UTC)
    months = moment.year * 12 + moment.month - 1 + bars
    return int(datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC).timestamp())
