"""The simulated quote walk as a function of time, so history can be read back.

A symbol ticks every :data:`TICK_MS` milliseconds on a grid aligned to the
epoch (tick ``k`` is at ``k * 250`` ms). The log of its mid price is a random
walk in two layers, both seeded by (seed, symbol) only:

- one anchor per epoch hour: a Gaussian step of ``volatility * sqrt(14400)``
  per hour, starting at ``start_price`` at the hour the terminal was created;
- within each hour a Brownian bridge of per-tick steps of ``volatility``
  between the two anchors.

So any tick, and any bar, is computed on demand, the same whenever and in
whatever order it is read: live quotes, ``copy_ticks_*`` and ``copy_rates_*``
agree with each other exactly. Hours are generated with numpy and cached as
int32 counts of points (half the memory of float64 bids, exactly the same
prices: ``np.round(x, d)`` is ``rint(x * 10**d) / 10**d``).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Final

import numpy as np
import numpy.typing as npt

from mt5guard.terminal.constants import TICK_FLAG_ASK, TICK_FLAG_BID
from mt5guard.terminal.rates import TICK_DTYPE
from mt5guard.terminal.sim.symbols import TICK_MS, SymbolSpec

__all__ = ["TICKS_PER_HOUR", "TICK_MS", "PriceHistory"]

TICKS_PER_HOUR: Final = 3_600_000 // TICK_MS
TICKS_PER_MINUTE: Final = 60_000 // TICK_MS
_OFFSET: Final = 1 << 40  # keeps hour numbers non-negative for SeedSequence
_CACHED_HOURS: Final = 32

Floats = npt.NDArray[np.float64]


class PriceHistory:
    """Bid prices of one symbol at every tick since ``first_msc`` (ms since the epoch)."""

    def __init__(self, spec: SymbolSpec, seed: int, origin_msc: int, first_msc: int) -> None:
        self.spec = spec
        digest = hashlib.sha256(f"{seed}:{spec.name}".encode()).digest()
        self._key = int.from_bytes(digest[:8], "little")
        self._origin_hour = origin_msc // 3_600_000
        self.first_tick = -(-first_msc // TICK_MS)
        self._anchors: dict[int, float] = {self._origin_hour: 0.0}
        self._hours: OrderedDict[int, npt.NDArray[np.int32] | Floats] = OrderedDict()
        self._divisor = 10.0**spec.digits  # exact for 0..8 digits
        self._minutes: dict[int, Floats] = {}
        self._half_spread = spec.spread * spec.point / 2
        self._ask_offset = spec.spread * spec.point
        self._hot: tuple[int, npt.NDArray[np.int32] | Floats, bool] | None = None
        """The hour live quotes read last: (hour, stored, stored as int32 points)."""

    # -- the walk -------------------------------------------------------------

    def _rng(self, hour: int, layer: int) -> np.random.Generator:
        return np.random.default_rng([self._key, hour + _OFFSET, layer])

    def _anchor(self, hour: int) -> float:
        """The log mid-price change from the origin hour's start to ``hour``'s start."""
        if hour in self._anchors:
            return self._anchors[hour]
        step = 1 if hour > self._origin_hour else -1
        known = hour
        while known not in self._anchors:
            known -= step
        hour_sigma = self.spec.volatility * TICKS_PER_HOUR**0.5
        value = self._anchors[known]
        while known != hour:
            drawn = min(known, known + step)  # the step between hours h and h+1 is drawn for h
            value += step * hour_sigma * float(self._rng(drawn, 0).standard_normal())
            known += step
            self._anchors[known] = value
        return value

    def _hour_bids(self, hour: int) -> Floats:
        """Bid prices of the 14 400 ticks of ``hour`` (epoch hours)."""
        stored = self._stored(hour)
        if stored.dtype == np.int32:
            bids: Floats = stored / self._divisor
            return bids
        return stored  # type: ignore[return-value]

    def _stored(self, hour: int) -> npt.NDArray[np.int32] | Floats:
        """``hour``'s bids as int32 points, or as float64 where a price would overflow int32."""
        cached = self._hours.get(hour)
        if cached is not None:
            self._hours.move_to_end(hour)
            return cached
        start, end = self._anchor(hour), self._anchor(hour + 1)
        steps = self.spec.volatility * self._rng(hour, 1).standard_normal(TICKS_PER_HOUR)
        walk = np.concatenate(([0.0], np.cumsum(steps[:-1])))
        drift = (walk[-1] + steps[-1] - (end - start)) / TICKS_PER_HOUR
        log_mid = start + walk - drift * np.arange(TICKS_PER_HOUR)
        mid = self.spec.start_price * np.exp(log_mid)
        points = np.rint((mid - self._half_spread) * self._divisor)
        stored: npt.NDArray[np.int32] | Floats = points.astype(np.int32) \
            if float(np.abs(points).max()) < 2**31 - 1 else points / self._divisor
        self._hours[hour] = stored
        if len(self._hours) > _CACHED_HOURS:
            self._hours.popitem(last=False)
        return stored

    # -- reads ----------------------------------------------------------------

    def bid(self, tick: int) -> float:
        """The bid at tick number ``tick`` (ms since the epoch // 250)."""
        hour, index = divmod(tick, TICKS_PER_HOUR)
        hot = self._hot
        if hot is None or hot[0] != hour:  # another hour: through the LRU of hours
            stored = self._stored(hour)
            hot = self._hot = (hour, stored, stored.dtype == np.int32)
        if hot[2]:
            return hot[1].item(index) / self._divisor  # item(): a Python int, no numpy scalar
        return float(hot[1].item(index))

    def ask_of(self, bid: float) -> float:
        return round(bid + self._ask_offset, self.spec.digits)

    def bids(self, first: int, last: int) -> Floats:
        """Bids of ticks ``first..last`` inclusive (clipped to the history's start)."""
        first = max(first, self.first_tick)
        if last < first:
            return np.empty(0, np.float64)
        parts = []
        for hour in range(first // TICKS_PER_HOUR, last // TICKS_PER_HOUR + 1):
            bids = self._hour_bids(hour)
            lo = max(first - hour * TICKS_PER_HOUR, 0)
            hi = min(last - hour * TICKS_PER_HOUR, TICKS_PER_HOUR - 1)
            parts.append(bids[lo:hi + 1])
        return np.concatenate(parts)

    def ticks(self, first: int, last: int) -> np.ndarray:
        """Ticks ``first..last`` inclusive as a ``TICK_DTYPE`` array, oldest first."""
        first = max(first, self.first_tick)
        bids = self.bids(first, last)
        out = np.zeros(len(bids), TICK_DTYPE)
        msc = (np.arange(len(bids), dtype=np.int64) + first) * TICK_MS
        out["time_msc"] = msc
        out["time"] = msc // 1000
        out["bid"] = bids
        out["ask"] = np.round(bids + self.spec.spread * self.spec.point, self.spec.digits)
        out["flags"] = TICK_FLAG_BID | TICK_FLAG_ASK
        return out

    def minute_bars(self, first_minute: int, last_minute: int, now_tick: int) -> np.ndarray:
        """M1 open/high/low/close/tick count rows for epoch minutes in the range, up to ``now_tick``.

        Returns a float array of shape (n, 6): minute, open, high, low, close,
        ticks; minutes without ticks (before the history, after now) are left out.
        """
        rows = []
        first_minute = max(first_minute, self.first_tick // TICKS_PER_MINUTE)
        last_minute = min(last_minute, now_tick // TICKS_PER_MINUTE)
        for hour in range(first_minute // 60, last_minute // 60 + 1):
            complete = (hour + 1) * TICKS_PER_HOUR - 1 <= now_tick and \
                hour * TICKS_PER_HOUR >= self.first_tick
            table = self._hour_minutes(hour) if complete else self._partial_minutes(hour, now_tick)
            mask = (table[:, 0] >= first_minute) & (table[:, 0] <= last_minute)
            rows.append(table[mask])
        return np.concatenate(rows) if rows else np.empty((0, 6))

    def _hour_minutes(self, hour: int) -> Floats:
        table = self._minutes.get(hour)
        if table is None:
            table = _minute_table(hour * 60, self._hour_bids(hour))
            self._minutes[hour] = table
        return table

    def _partial_minutes(self, hour: int, now_tick: int) -> Floats:
        first = max(hour * TICKS_PER_HOUR, self.first_tick)
        last = min((hour + 1) * TICKS_PER_HOUR - 1, now_tick)
        if last < first:
            return np.empty((0, 6))
        bids = self.bids(first, last)
        minutes = (np.arange(first, last + 1) // TICKS_PER_MINUTE).astype(np.float64)
        table = []
        for minute in np.unique(minutes):
            chunk = bids[minutes == minute]
            table.append((minute, chunk[0], chunk.max(), chunk.min(), chunk[-1], len(chunk)))
        return np.array(table, dtype=np.float64).reshape(-1, 6)


def _minute_table(first_minute: int, bids: Floats) -> Floats:
    per_minute = bids.reshape(60, TICKS_PER_MINUTE)
    table = np.empty((60, 6))
    table[:, 0] = np.arange(first_minute, first_minute + 60)
    table[:, 1] = per_minute[:, 0]
    table[:, 2] = per_minute.max(axis=1)
    table[:, 3] = per_minute.min(axis=1)
    table[:, 4] = per_minute[:, -1]
    table[:, 5] = TICKS_PER_MINUTE
    return table
