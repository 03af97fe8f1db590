"""Market data through a worker: bars, ticks and the symbol list.

Bars and ticks arrive as rows and are rebuilt into the module's numpy
structured arrays (``RATE_DTYPE`` / ``TICK_DTYPE``) by the wire decoder.
"""

from __future__ import annotations

from typing import Any

from mt5guard.terminal.records import SymbolInfo

__all__ = ["MarketDataCalls"]


class MarketDataCalls:
    """Mixin of WorkerTerminal: each method is one ``_call``."""

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    # market data: numpy structured arrays (RATE_DTYPE / TICK_DTYPE rows), rebuilt here

    def copy_rates_from(self, symbol: str, timeframe: int, date_from: Any, count: int) -> Any:
        return self._call("copy_rates_from", symbol, timeframe, date_from, count)

    def copy_rates_from_pos(self, symbol: str, timeframe: int, start_pos: int, count: int) -> Any:
        return self._call("copy_rates_from_pos", symbol, timeframe, start_pos, count)

    def copy_rates_range(self, symbol: str, timeframe: int, date_from: Any, date_to: Any) -> Any:
        return self._call("copy_rates_range", symbol, timeframe, date_from, date_to)

    def copy_ticks_from(self, symbol: str, date_from: Any, count: int, flags: int) -> Any:
        return self._call("copy_ticks_from", symbol, date_from, count, flags)

    def copy_ticks_range(self, symbol: str, date_from: Any, date_to: Any, flags: int) -> Any:
        return self._call("copy_ticks_range", symbol, date_from, date_to, flags)

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        given = {} if group is None else {"group": group}
        result: tuple[SymbolInfo, ...] | None = self._call("symbols_get", **given)
        return result

    def symbols_total(self) -> int | None:
        result: int | None = self._call("symbols_total")
        return result
