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
counts of points (exactly the same prices: ``np.round(x, d)`` is
``rint(x * 10**d) / 10**d``): as steps between ticks with an int32
checkpoint every 1,024 ticks (:mod:`._packed`), two steps to a byte where
every step of the hour is within -8..7 points (the default currency pairs
move a few points a tick: an eighth of the memory of int32 points), one int8
each where they fit a byte, else as int32 points. Live quotes decode the
chunk of 1,024 ticks they read (as int16 offsets where the steps were nibbles).

Terminals of one process with the same seed, symbol and creation hour share
one history (:func:`shared_history`): a chaos seed's accounts walk the same
prices, generated once.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from typing import Final

import numpy as np
import numpy.typing as npt

from mt5guard.terminal.constants import TICK_FLAG_ASK, TICK_FLAG_BID
from mt5guard.terminal.rates import TICK_DTYPE
from mt5guard.terminal.records import Tick
from mt5guard.terminal.sim._packed import CHUNK, Packed, pack
from mt5guard.terminal.sim._rounding import rounded
from mt5guard.terminal.sim.symbols import TICK_MS, SymbolSpec

__all__ = ["TICKS_PER_HOUR", "TICK_MS", "PriceHistory", "shared_history"]

TICKS_PER_HOUR: Final = 3_600_000 // TICK_MS
TICKS_PER_MINUTE: Final = 60_000 // TICK_MS
_OFFSET: Final = 1 << 40  # keeps hour numbers non-negative for SeedSequence
_CACHED_HOURS: Final = 32
_CACHED_MINUTE_HOURS: Final = 768  # M1 tables kept (32 days, 2.2 MiB): the default history fits

Floats = npt.NDArray[np.float64]
Points = npt.NDArray[np.int32]
_TICK_NUMBERS: Final = np.arange(TICKS_PER_HOUR, dtype=np.float64)  # exact: < 2**53
_TICK_NUMBERS.flags.writeable = False
_FLAGS: Final = TICK_FLAG_BID | TICK_FLAG_ASK
_tick = tuple.__new__  # Tick(*fields) without its Python-level __new__ (a live tick a probe)


_Stored = Packed | Points | Floats
_Hot = tuple[int, int, Points | npt.NDArray[np.int16] | Floats, int | None]
_shared: weakref.WeakValueDictionary[tuple[int, SymbolSpec, int, int], PriceHistory] = \
    weakref.WeakValueDictionary()
_shared_lock = threading.Lock()


def shared_history(spec: SymbolSpec, seed: int, origin_msc: int, first_msc: int) -> PriceHistory:
    """The process's :class:`PriceHistory` for these arguments, made if no terminal holds one.

    Its prices depend on the seed, the spec and the creation hour only, so
    terminals made alike share one (it lives as long as one of them does).
    """
    key = (seed, spec, origin_msc // 3_600_000, -(-first_msc // TICK_MS))
    with _shared_lock:
        history = _shared.get(key)
        if history is None:
            history = _shared[key] = PriceHistory(spec, seed, origin_msc, first_msc)
        return history


class PriceHistory:
    """Bid prices of one symbol at every tick since ``first_msc`` (ms since the epoch)."""

    def __init__(self, spec: SymbolSpec, seed: int, origin_msc: int, first_msc: int) -> None:
        self.spec = spec
        digest = hashlib.sha256(f"{seed}:{spec.name}".encode()).digest()
        self._key = int.from_bytes(digest[:8], "little")
        self._origin_hour = origin_msc // 3_600_000
        self.first_tick = -(-first_msc // TICK_MS)
        self._anchors: dict[int, float] = {self._origin_hour: 0.0}
        self._hours: OrderedDict[int, _Stored] = OrderedDict()
        self._divisor = 10.0**spec.digits  # exact for 0..8 digits
        self._minutes: OrderedDict[int, Floats] = OrderedDict()  # M1 tables, most recent last
        self._half_spread = spec.spread * spec.point / 2
        self._ask_offset = spec.spread * spec.point
        # The live ask of a bid of ``points``: (points + spread) / 10**digits is the float
        # round(bid + spread * point, digits) gives. Both sums are within a few ulps of
        # (points + spread) / 10**digits, so round's nearest integer of 10**digits times
        # it is points + spread (a price is far below 2**48 points), and its answer the
        # float nearest to that over 10**digits: what the IEEE division of the two exact
        # floats returns.
        self._spread = spec.spread
        self._digits = spec.digits
        self._hot: _Hot | None = None
        """What live quotes read last: (hour, chunk or -1 for the whole hour, its values,
        the points they are offsets from, or None for float bids)."""
        self._last_tick: tuple[int, Tick] = (-1, Tick(0, 0.0, 0.0, 0.0, 0, 0, 0, 0.0))
        """The live tick made last, with its number: the terminals sharing this history
        (a chaos seed's accounts, probed at the same instants) ask for the same one."""
        self._lock = threading.Lock()  # terminals on several threads may share this history

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
        with self._lock:
            stored = self._stored(hour)
        if isinstance(stored, Packed):
            stored = stored.points()
        if stored.dtype == np.int32:
            bids: Floats = stored / self._divisor
            return bids
        return stored  # type: ignore[return-value]

    def _stored(self, hour: int) -> _Stored:
        """``hour``'s bids as points (packed or int32), or as float64 where a price would
        overflow int32; under the lock."""
        cached = self._hours.get(hour)
        if cached is not None:
            self._hours.move_to_end(hour)
            return cached
        start, end = self._anchor(hour), self._anchor(hour + 1)
        steps = self.spec.volatility * self._rng(hour, 1).standard_normal(TICKS_PER_HOUR)
        # In place where the values stay bit for bit what the plain expressions give
        # (the first quote of each new terminal pays for this hour).
        walk = np.empty(TICKS_PER_HOUR)
        walk[0] = 0.0
        np.cumsum(steps[:-1], out=walk[1:])
        drift = (walk[-1] + steps[-1] - (end - start)) / TICKS_PER_HOUR
        log_mid = np.add(walk, start, out=walk)  # start + walk - drift * tick number
        log_mid -= np.multiply(_TICK_NUMBERS, drift, out=steps)
        mid = np.exp(log_mid, out=log_mid)
        mid *= self.spec.start_price
        mid -= self._half_spread
        mid *= self._divisor
        points = np.rint(mid, out=mid)
        stored: _Stored
        if float(np.abs(points).max()) < 2**31 - 1:
            exact = points.astype(np.int32)
            packed = pack(exact)
            stored = exact if packed is None else packed
        else:
            stored = points / self._divisor
        self._hours[hour] = stored
        if len(self._hours) > _CACHED_HOURS:
            self._hours.popitem(last=False)
        return stored

    # -- reads ----------------------------------------------------------------

    def bid(self, tick: int) -> float:
        """The bid at tick number ``tick`` (ms since the epoch // 250)."""
        hour, index = divmod(tick, TICKS_PER_HOUR)
        chunk = index // CHUNK
        hot = self._hot
        if hot is None or hot[0] != hour or (hot[1] >= 0 and hot[1] != chunk):
            hot = self._hot = self._hot_part(hour, chunk)
        _, part, values, base = hot
        value = values.item(index - part * CHUNK if part >= 0 else index)  # a Python number
        return (base + value) / self._divisor if base is not None else float(value)

    def tick(self, number: int) -> Tick:
        """The live tick number ``number``: its bid, the ask ``spread`` points above."""
        last = self._last_tick  # one tuple, read and replaced whole: safe between threads
        if last[0] == number:
            return last[1]
        # bid(number), inlined, and the ask ``spread`` points above: every probe reads a tick
        hour, index = divmod(number, TICKS_PER_HOUR)
        hot = self._hot
        if hot is None or hot[0] != hour or (hot[1] >= 0 and hot[1] != index // CHUNK):
            hot = self._hot = self._hot_part(hour, index // CHUNK)
        _, part, values, base = hot
        value = values.item(index - part * CHUNK if part >= 0 else index)  # a Python number
        if base is not None:  # whole points: the ask is ``spread`` points more, divided alike
            points = base + value
            bid, ask = points / self._divisor, (points + self._spread) / self._divisor
        else:
            bid = float(value)
            ask = rounded(bid + self._ask_offset, self._digits)
        msc = number * TICK_MS
        tick = _tick(Tick, (msc // 1000, bid, ask, 0.0, 0, msc, _FLAGS, 0.0))
        self._last_tick = (number, tick)
        return tick

    def _hot_part(self, hour: int, chunk: int) -> _Hot:
        with self._lock:
            stored = self._stored(hour)
        if isinstance(stored, Packed):
            base, offsets = stored.chunk(chunk)
            return hour, chunk, offsets, base
        return hour, -1, stored, 0 if stored.dtype == np.int32 else None

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
        """A complete hour's M1 table, kept for the :data:`_CACHED_MINUTE_HOURS` hours
        read last (a process that reads bars for weeks must not keep every hour)."""
        with self._lock:
            table = self._minutes.get(hour)
            if table is not None:
                self._minutes.move_to_end(hour)
                return table
        table = _minute_table(hour * 60, self._hour_bids(hour))  # takes the lock itself
        with self._lock:
            self._minutes[hour] = table
            if len(self._minutes) > _CACHED_MINUTE_HOURS:
                self._minutes.popitem(last=False)
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
