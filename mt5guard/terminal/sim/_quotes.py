"""Deterministic quotes for the simulated terminal: a seeded random walk per symbol.

The walk itself lives in :mod:`._history` as a function of time, so the live
tick, ``copy_ticks_*`` and ``copy_rates_*`` always agree. That module needs
numpy; it is imported by the first quote, not when a terminal is built, so a
simulated tree (and a simulated worker process) that reads no quotes never
pays for numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from mt5guard.terminal.records import Tick
from mt5guard.terminal.sim.symbols import TICK_MS, SymbolSpec

if TYPE_CHECKING:
    from mt5guard.terminal.sim._history import PriceHistory


#: Seconds of clock time between two ticks of a symbol.
TICK_INTERVAL = TICK_MS / 1000

#: Days of history before the terminal was created that copy_rates/copy_ticks can read.
HISTORY_DAYS = 30.0

# The instant whose tick number was worked out last, and that number, for every board of
# the process: a simulated clock answers one datetime object per instant, and the
# terminals it drives (a chaos seed's accounts, a story's) all read their ticks at it.
# One tuple, read and replaced whole (a race only works a number out again); it keeps
# its datetime alive, so ``is`` cannot match another object at the same address.
_seen: tuple[datetime | None, int] = (None, 0)


def tick_number(now: datetime) -> int:
    """The number of the tick current at wall time ``now``."""
    global _seen
    seen = _seen
    if seen[0] is now:
        return seen[1]
    number = int(now.timestamp() * 1000) // TICK_MS  # ~3,500 instructions: once an instant
    _seen = (now, number)
    return number


class QuoteBoard:
    """The current tick of every symbol, read from its :class:`PriceHistory`.

    A new tick comes every :data:`TICK_INTERVAL` of wall clock time on a grid
    aligned to the epoch; ``time_msc`` never decreases (a wall clock set back
    repeats the last tick). The prices depend only on the seed, the symbol
    name and the time: not on when or how often the symbol is read.
    """

    def __init__(
        self,
        specs: Mapping[str, SymbolSpec],
        seed: int,
        monotonic: float,
        now: datetime,
        *,
        history_days: float = HISTORY_DAYS,
    ) -> None:
        self._specs, self._seed = dict(specs), seed
        self._created = now
        self._origin_msc = int(now.timestamp() * 1000)
        self._first_msc = self._origin_msc - int(history_days * 86_400_000)
        self._histories: dict[str, PriceHistory] = {}
        self._last: dict[str, tuple[int, Tick]] = {}
        """Each symbol's last tick with its number: a read compares tick numbers, not times
        (a tick's ``time_msc`` is its number times :data:`TICK_MS`)."""

    def history(self, symbol: str) -> PriceHistory:
        """``symbol``'s :class:`PriceHistory`, built (and numpy imported) when first read.

        One symbol at a time: a terminal that quotes one of its symbols pays for that one.
        """
        history = self._histories.get(symbol)
        if history is None:
            from mt5guard.terminal.sim._history import shared_history

            history = self._histories[symbol] = shared_history(
                self._specs[symbol], self._seed, self._origin_msc, self._first_msc)
        return history

    def prepare(self, symbol: str) -> None:
        """Compute now what ``symbol``'s first read computes first: the tick current when
        this board was made (its price hour, the chunk that tick is in). Prices and what
        later reads answer stay the same; an unknown symbol is left alone."""
        if symbol in self._specs and symbol not in self._last:
            self._last[symbol] = self._first(symbol)

    def now_tick(self, now: datetime) -> int:
        """The number of the tick current at wall time ``now`` (:func:`tick_number`)."""
        return tick_number(now)

    def tick(self, symbol: str, now: datetime, frozen: bool) -> Tick:
        """The current tick of ``symbol``; a ``frozen`` feed keeps its last tick."""
        last = self._last.get(symbol)
        if last is None:  # its first tick is the one current when we were created
            last = self._last[symbol] = self._first(symbol)
        if frozen:
            return last[1]
        seen = _seen  # tick_number(now), inlined: every probe of every session reads a tick
        number = seen[1] if seen[0] is now else tick_number(now)
        if number <= last[0]:  # not newer: a wall clock set back repeats the last tick
            return last[1]
        tick = self._histories[symbol].tick(number)  # built by _first
        self._last[symbol] = (number, tick)
        return tick

    def _first(self, symbol: str) -> tuple[int, Tick]:
        """The tick current when this board was made, with its number."""
        number = tick_number(self._created)
        return number, self.history(symbol).tick(number)
