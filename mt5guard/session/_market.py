"""The market-data calls of :class:`~mt5guard.Session` and :class:`~mt5guard.AsyncSession`.

Each call validates its arguments in the caller's thread (a bad timeframe,
range or symbol raises :class:`~mt5guard.errors.MT5ValidationError` before
anything is sent), then makes one guarded hop to the SessionActor, exactly
like ``get_price``. Bars and ticks come back as the numpy structured arrays
the ``MetaTrader5`` module returns (dtypes in :mod:`mt5guard.terminal.rates`),
oldest first. Times are datetimes (naive = UTC) or epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mt5guard.market import data as md
from mt5guard.market.messages import ReadMarketData
from mt5guard.session._account_reads import AccountReadCalls, AsyncAccountReadCalls
from mt5guard.terminal.constants import COPY_TICKS_ALL
from mt5guard.terminal.records import SymbolInfo

if TYPE_CHECKING:
    import numpy as np

    from mt5guard.session.facade import Session

__all__ = ["AsyncMarketDataCalls", "MarketDataCalls"]

When = datetime | int | float
_Pending = tuple[str, "Future[Any]", float]


def _array(value: Any) -> np.ndarray:
    rows: np.ndarray = value
    return rows


def _infos(value: Any) -> tuple[SymbolInfo, ...]:
    infos: tuple[SymbolInfo, ...] = value
    return infos


def _info(value: Any) -> SymbolInfo:
    info: SymbolInfo = value
    return info


class MarketDataCalls(AccountReadCalls):
    """Blocking market-data calls (mixed into Session)."""

    if TYPE_CHECKING:
        def _submit(self, operation: str,
                    make: Callable[[Future[Any], float], Any]) -> _Pending: ...
        def _wait(self, operation: str, reply: Future[Any], started: float) -> Any: ...

    def _read(self, operation: str, args: tuple[Any, ...]) -> _Pending:
        return self._submit(operation, lambda r, d: ReadMarketData(operation, args, reply_to=r,
                                                                    deadline=d))

    def copy_rates_from(self, symbol: str, timeframe: int, date_from: When, count: int) -> np.ndarray:
        """``count`` bars ending with the one open at ``date_from``."""
        return _array(self._wait(*self._read("copy_rates_from",
                                      md.check_rates_from(symbol, timeframe, date_from, count))))

    def copy_rates_from_pos(self, symbol: str, timeframe: int, start_pos: int,
                            count: int) -> np.ndarray:
        """``count`` bars ending ``start_pos`` bars back; 0 is the bar forming now."""
        return _array(self._wait(*self._read("copy_rates_from_pos",
                                      md.check_rates_from_pos(symbol, timeframe, start_pos, count))))

    def copy_rates_range(self, symbol: str, timeframe: int, date_from: When,
                         date_to: When) -> np.ndarray:
        """Bars opened within ``date_from..date_to`` (inclusive)."""
        return _array(self._wait(*self._read("copy_rates_range",
                                      md.check_rates_range(symbol, timeframe, date_from, date_to))))

    def copy_ticks_from(self, symbol: str, date_from: When, count: int,
                        flags: int = COPY_TICKS_ALL) -> np.ndarray:
        """Up to ``count`` ticks from ``date_from`` on (``time_msc`` in ms)."""
        return _array(self._wait(*self._read("copy_ticks_from",
                                      md.check_ticks_from(symbol, date_from, count, flags))))

    def copy_ticks_range(self, symbol: str, date_from: When, date_to: When,
                         flags: int = COPY_TICKS_ALL) -> np.ndarray:
        """The ticks within ``date_from..date_to`` (inclusive)."""
        return _array(self._wait(*self._read("copy_ticks_range",
                                      md.check_ticks_range(symbol, date_from, date_to, flags))))

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...]:
        """Every symbol the terminal knows, or those matching ``group`` (``"*USD*,!EUR*"``)."""
        return _infos(self._wait(*self._read("symbols_get",
                                      md.check_symbols_get(group))))

    def symbol_info(self, symbol: str) -> SymbolInfo:
        """The symbol's specification and prices (selected in Market Watch on demand)."""
        return _info(self._wait(*self._read("symbol_info",
                                      (md.check_symbol("symbol_info", symbol),))))

    def symbol_select(self, symbol: str, enable: bool = True) -> None:
        """Add ``symbol`` to Market Watch (or remove it with ``enable=False``)."""
        self._wait(*self._read("symbol_select", md.check_symbol_select(symbol, enable)))


class AsyncMarketDataCalls(AsyncAccountReadCalls):
    """The same calls as coroutines (mixed into AsyncSession)."""

    if TYPE_CHECKING:
        _s: Session
        async def _await(self, operation: str, reply: Future[Any], started: float) -> Any: ...

    async def copy_rates_from(self, symbol: str, timeframe: int, date_from: When,
                              count: int) -> np.ndarray:
        args = md.check_rates_from(symbol, timeframe, date_from, count)
        return _array(await self._await(*self._s._read("copy_rates_from", args)))

    async def copy_rates_from_pos(self, symbol: str, timeframe: int, start_pos: int,
                                  count: int) -> np.ndarray:
        args = md.check_rates_from_pos(symbol, timeframe, start_pos, count)
        return _array(await self._await(*self._s._read("copy_rates_from_pos", args)))

    async def copy_rates_range(self, symbol: str, timeframe: int, date_from: When,
                               date_to: When) -> np.ndarray:
        args = md.check_rates_range(symbol, timeframe, date_from, date_to)
        return _array(await self._await(*self._s._read("copy_rates_range", args)))

    async def copy_ticks_from(self, symbol: str, date_from: When, count: int,
                              flags: int = COPY_TICKS_ALL) -> np.ndarray:
        args = md.check_ticks_from(symbol, date_from, count, flags)
        return _array(await self._await(*self._s._read("copy_ticks_from", args)))

    async def copy_ticks_range(self, symbol: str, date_from: When, date_to: When,
                               flags: int = COPY_TICKS_ALL) -> np.ndarray:
        args = md.check_ticks_range(symbol, date_from, date_to, flags)
        return _array(await self._await(*self._s._read("copy_ticks_range", args)))

    async def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...]:
        args = md.check_symbols_get(group)
        return _infos(await self._await(*self._s._read("symbols_get", args)))

    async def symbol_info(self, symbol: str) -> SymbolInfo:
        args = (md.check_symbol("symbol_info", symbol),)
        return _info(await self._await(*self._s._read("symbol_info", args)))

    async def symbol_select(self, symbol: str, enable: bool = True) -> None:
        args = md.check_symbol_select(symbol, enable)
        await self._await(*self._s._read("symbol_select", args))
