"""The market-data calls of :class:`~mt5guard.Session` and :class:`~mt5guard.AsyncSession`.

Each call validates its arguments in the caller's thread (a bad timeframe,
range or symbol raises :class:`~mt5guard.errors.MT5ValidationError` before
anything is sent), then is handled exactly like ``get_price``: one guarded
hop to the SessionActor, or on the caller's thread (``session._direct``).
Bars and ticks come back as the numpy structured arrays the ``MetaTrader5``
module returns (dtypes in :mod:`mt5guard.terminal.rates`),
oldest first. Times are datetimes (naive = UTC) or epoch seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from mt5guard.market import data as md
from mt5guard.market.messages import ReadMarketData
from mt5guard.session._core import Pending, SessionCore
from mt5guard.terminal.constants import COPY_TICKS_ALL
from mt5guard.terminal.records import SymbolInfo

if TYPE_CHECKING:
    import numpy as np

__all__ = ["copy_rates_from", "copy_rates_from_pos", "copy_rates_range", "copy_ticks_from",
           "copy_ticks_range", "read", "symbol_info", "symbol_select", "symbols_get"]

When = datetime | int | float


def read(core: SessionCore, operation: str, args: tuple[Any, ...]) -> Pending[Any]:
    """One guarded market-data (or history) read of checked ``args``."""
    return core.submit(operation, lambda r, d: ReadMarketData(operation, args, reply_to=r,
                                                               deadline=d), read=True)


def copy_rates_from(core: SessionCore, symbol: str, timeframe: int, date_from: When,
                    count: int) -> Pending[np.ndarray]:
    """``count`` bars ending with the one open at ``date_from``."""
    return read(core, "copy_rates_from", md.check_rates_from(symbol, timeframe, date_from, count))


def copy_rates_from_pos(core: SessionCore, symbol: str, timeframe: int, start_pos: int,
                        count: int) -> Pending[np.ndarray]:
    """``count`` bars ending ``start_pos`` bars back; 0 is the bar forming now."""
    return read(core, "copy_rates_from_pos",
                md.check_rates_from_pos(symbol, timeframe, start_pos, count))


def copy_rates_range(core: SessionCore, symbol: str, timeframe: int, date_from: When,
                     date_to: When) -> Pending[np.ndarray]:
    """Bars opened within ``date_from..date_to`` (inclusive)."""
    return read(core, "copy_rates_range",
                md.check_rates_range(symbol, timeframe, date_from, date_to))


def copy_ticks_from(core: SessionCore, symbol: str, date_from: When, count: int,
                    flags: int = COPY_TICKS_ALL) -> Pending[np.ndarray]:
    """Up to ``count`` ticks from ``date_from`` on (``time_msc`` in ms)."""
    return read(core, "copy_ticks_from", md.check_ticks_from(symbol, date_from, count, flags))


def copy_ticks_range(core: SessionCore, symbol: str, date_from: When, date_to: When,
                     flags: int = COPY_TICKS_ALL) -> Pending[np.ndarray]:
    """The ticks within ``date_from..date_to`` (inclusive)."""
    return read(core, "copy_ticks_range", md.check_ticks_range(symbol, date_from, date_to, flags))


def symbols_get(core: SessionCore, group: str | None = None) -> Pending[tuple[SymbolInfo, ...]]:
    """Every symbol the terminal knows, or those matching ``group`` (``"*USD*,!EUR*"``)."""
    return read(core, "symbols_get", md.check_symbols_get(group))


def symbol_info(core: SessionCore, symbol: str) -> Pending[SymbolInfo]:
    """The symbol's specification and prices (selected in Market Watch on demand)."""
    return read(core, "symbol_info", (md.check_symbol("symbol_info", symbol),))


def symbol_select(core: SessionCore, symbol: str, enable: bool = True) -> Pending[None]:
    """Add ``symbol`` to Market Watch (or remove it with ``enable=False``)."""
    return read(core, "symbol_select", md.check_symbol_select(symbol, enable))
