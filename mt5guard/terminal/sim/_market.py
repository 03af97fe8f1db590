"""The simulated terminal's market data calls: bars, ticks and the symbol list.

Bars and ticks come from the same :class:`PriceHistory` as the live quotes,
so they are deterministic per seed and agree with ``symbol_info_tick``.
Choices where the real terminal is ambiguous:

- The market never closes (no weekend gaps), so bar positions and times
  convert exactly; history starts ``history_days`` before the terminal was
  created and ends at the current tick.
- A request with no data in range returns an empty array of the right dtype.
- The symbol must be selected, as for the other data calls (-4 otherwise);
  a bad timeframe, count, position or flags value is -2 naming the argument.
- ``COPY_TICKS_TRADE`` returns no ticks: forex quotes carry no trades.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from mt5guard.terminal import rates
from mt5guard.terminal.constants import COPY_TICKS_TRADE, TIMEFRAME_MN1, TIMEFRAME_W1
from mt5guard.terminal.protocol import DateArg
from mt5guard.terminal.rates import COPY_TICKS_FLAGS, TIMEFRAMES, bar_open, shift_bar
from mt5guard.terminal.records import SymbolInfo
from mt5guard.terminal.sim._core import INVALID, OK, TerminalCore, invalid
from mt5guard.terminal.sim._selectors import epoch_seconds, group_matcher
from mt5guard.terminal.sim._snapshots import symbol_record
from mt5guard.terminal.sim.symbols import TICK_MS

if TYPE_CHECKING:  # numpy comes with the first bars or ticks, not with the terminal
    import numpy as np

    from mt5guard.terminal.sim._history import PriceHistory

_R = TypeVar("_R")

__all__ = ["MarketDataCalls"]


def _whole(value: object, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


class MarketDataCalls(TerminalCore):
    """``copy_rates_*``, ``copy_ticks_*``, ``symbols_get``, ``symbols_total`` and the
    history rows the history calls select from."""

    # -- bars -----------------------------------------------------------------

    def copy_rates_from(
        self, symbol: str, timeframe: int, date_from: DateArg, count: int
    ) -> np.ndarray | None:
        """``count`` bars ending with the one open at ``date_from``, oldest first."""
        return self._rates("copy_rates_from", symbol, timeframe, count=count, date=date_from,
                           anchor="from")

    def copy_rates_from_pos(
        self, symbol: str, timeframe: int, start_pos: int, count: int
    ) -> np.ndarray | None:
        """``count`` bars ending ``start_pos`` bars back (0 = the current bar), oldest first."""
        if not _whole(start_pos, 0):
            return self._refuse("copy_rates_from_pos", "start_pos")
        return self._rates("copy_rates_from_pos", symbol, timeframe, count=count,
                           position=start_pos, anchor="pos")

    def copy_rates_range(
        self, symbol: str, timeframe: int, date_from: DateArg, date_to: DateArg
    ) -> np.ndarray | None:
        """Bars whose open time is within ``date_from..date_to`` (inclusive)."""
        return self._rates("copy_rates_range", symbol, timeframe, date=date_from, date_to=date_to,
                           anchor="range")

    def _rates(self, name: str, symbol: str, timeframe: int, *, anchor: str, count: int = 1,
               date: DateArg = 0, date_to: DateArg = 0,
               position: int = 0) -> np.ndarray | None:
        with self._api(name) as hung, self._state_lock:
            if hung or not self._linked() or (spec := self._selected_spec(symbol)) is None:
                return None
            if isinstance(timeframe, bool) or timeframe not in TIMEFRAMES:
                self._last_error = invalid("timeframe")
                return None
            if not _whole(count, 1):
                self._last_error = invalid("count")
                return None
            now_tick = self._quotes.now_tick(self._clock.now())
            current = bar_open(timeframe, now_tick * TICK_MS // 1000)
            try:
                if anchor == "range":
                    first = int(epoch_seconds(date))
                    last = int(epoch_seconds(date_to))
                    first = shift_bar(timeframe, bar_open(timeframe, first), 1) \
                        if bar_open(timeframe, first) < first else first
                    last = bar_open(timeframe, last)
                else:
                    last = current if anchor == "pos" else bar_open(
                        timeframe, int(epoch_seconds(date)))
                    last = shift_bar(timeframe, min(last, current), -position)
                    first = shift_bar(timeframe, last, 1 - count)
            except TypeError:
                self._last_error = invalid("date_from")
                return None
            self._last_error = OK
            return _bars(self._quotes.history(spec.name), timeframe, first, last, now_tick)

    # -- ticks ----------------------------------------------------------------

    def copy_ticks_from(
        self, symbol: str, date_from: DateArg, count: int, flags: int
    ) -> np.ndarray | None:
        """Up to ``count`` ticks from ``date_from`` on, oldest first."""
        return self._ticks("copy_ticks_from", symbol, date_from, None, count, flags)

    def copy_ticks_range(
        self, symbol: str, date_from: DateArg, date_to: DateArg, flags: int
    ) -> np.ndarray | None:
        """The ticks within ``date_from..date_to`` (inclusive), oldest first."""
        return self._ticks("copy_ticks_range", symbol, date_from, date_to, None, flags)

    def _ticks(self, name: str, symbol: str, date_from: DateArg, date_to: DateArg | None,
               count: int | None, flags: int) -> np.ndarray | None:
        with self._api(name) as hung, self._state_lock:
            if hung or not self._linked() or (spec := self._selected_spec(symbol)) is None:
                return None
            if isinstance(flags, bool) or flags not in COPY_TICKS_FLAGS:
                return self._refuse(name, "flags")
            if count is not None and not _whole(count, 1):
                return self._refuse(name, "count")
            try:
                low_ms = int(epoch_seconds(date_from) * 1000)
                high_ms = None if date_to is None else int(epoch_seconds(date_to) * 1000)
            except TypeError:
                return self._refuse(name, "date_from")
            self._last_error = OK
            now_tick = self._quotes.now_tick(self._clock.now())
            first = -(-low_ms // TICK_MS)
            last = now_tick if high_ms is None else min(high_ms // TICK_MS, now_tick)
            if count is not None:
                last = min(last, first + count - 1)
            if flags == COPY_TICKS_TRADE or last < first:
                import numpy as np

                return np.zeros(0, rates.TICK_DTYPE)
            return self._quotes.history(spec.name).ticks(first, last)

    # -- symbols ----------------------------------------------------------------

    def symbols_total(self) -> int | None:
        """How many symbols the terminal knows (selected or not)."""
        with self._api("symbols_total") as hung, self._state_lock:
            if hung or not self._linked():
                return None
            self._last_error = OK
            return len(self._specs)

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        """Every known symbol matching ``group`` (e.g. ``"*USD*,!EUR*"``), selected or not."""
        with self._api("symbols_get") as hung, self._state_lock:
            if hung or not self._linked():
                return None
            if group is not None and not isinstance(group, str):
                self._last_error = invalid("group")
                return None
            matches = group_matcher(group) if group else None
            self._last_error = OK
            return tuple(
                symbol_record(spec, self._tick(name), self._ledger)._replace(
                    select=name in self._selected, visible=name in self._selected)
                for name, spec in self._specs.items() if matches is None or matches(name)
            )

    # -- history: the rows both history calls and both counts select from ---------

    def _history_get(self, name: str, select: Callable[[Iterable[_R], DateArg | None,
                                                        DateArg | None, str | None, int | None,
                                                        int | None], list[_R]],
                     rows: Callable[[], Iterable[_R]], date_from: DateArg | None,
                     date_to: DateArg | None, group: str | None, ticket: int | None,
                     position: int | None) -> tuple[_R, ...] | None:
        """``history_deals_get``/``history_orders_get``: ``select``'s rows of ``rows()``,
        read under the state lock while linked."""
        with self._api(name) as hung, self._state_lock:
            if hung or not self._linked():
                return None
            found = self._history_rows(select, rows(), date_from, date_to, group, ticket,
                                       position)
            return None if found is None else tuple(found)

    def _history_rows(self, select: Callable[[Iterable[_R], DateArg | None, DateArg | None,
                                              str | None, int | None, int | None], list[_R]],
                      rows: Iterable[_R], date_from: DateArg | None, date_to: DateArg | None,
                      group: str | None = None, ticket: int | None = None,
                      position: int | None = None) -> list[_R] | None:
        """``select``'s history rows, or None with INVALID in last_error for a bad argument."""
        try:
            found = select(rows, date_from, date_to, group, ticket, position)
        except TypeError:
            self._last_error = INVALID
            return None
        self._last_error = OK
        return found

    def _refuse(self, name: str, field: str) -> np.ndarray | None:
        """None with (-2, 'Invalid "<field>" argument') left in last_error."""
        self._last_error = invalid(field)
        return None


def _bars(history: PriceHistory, timeframe: int, first: int, last: int, now_tick: int) -> np.ndarray:
    """Bars opened within ``first..last`` (seconds), aggregated from M1 rows."""
    import numpy as np

    rate_dtype = rates.RATE_DTYPE
    if last < first:
        return np.zeros(0, rate_dtype)
    end = shift_bar(timeframe, last, 1)
    minutes = history.minute_bars(first // 60, (end - 1) // 60, now_tick)
    if len(minutes) == 0:
        return np.zeros(0, rate_dtype)
    starts = (minutes[:, 0] * 60).astype(np.int64)
    if timeframe not in (TIMEFRAME_W1, TIMEFRAME_MN1):  # fixed length, epoch aligned
        keys = starts // TIMEFRAMES[timeframe] * TIMEFRAMES[timeframe]
    else:
        keys = np.array([bar_open(timeframe, int(s)) for s in starts], dtype=np.int64)
    opens, index = np.unique(keys, return_index=True)
    ends = np.append(index[1:], len(keys))
    out = np.zeros(len(opens), rate_dtype)
    out["time"] = opens
    out["open"] = minutes[index, 1]
    out["high"] = np.maximum.reduceat(minutes[:, 2], index)
    out["low"] = np.minimum.reduceat(minutes[:, 3], index)
    out["close"] = minutes[ends - 1, 4]
    out["tick_volume"] = np.add.reduceat(minutes[:, 5], index).astype(np.uint64)
    out["spread"] = history.spec.spread
    return out
