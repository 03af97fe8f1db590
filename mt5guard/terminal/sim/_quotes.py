"""Deterministic quotes for the simulated terminal: a seeded random walk per symbol."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from datetime import datetime

from mt5guard.terminal.constants import TICK_FLAG_ASK, TICK_FLAG_BID
from mt5guard.terminal.records import Tick
from mt5guard.terminal.sim.symbols import SymbolSpec

#: Seconds of clock time between two ticks of a symbol.
TICK_INTERVAL = 0.25

# Past this many pending steps (16 s) the walk takes one aggregated step with
# the same distribution, so a probe every 30 s costs one draw, not 120.
_MAX_STEPS_WALKED = 64


class _Feed:
    __slots__ = ("mid", "rng", "spec", "step", "tick")

    def __init__(self, spec: SymbolSpec, seed: int) -> None:
        self.spec = spec
        self.rng = random.Random(f"{seed}:{spec.name}")
        self.mid = spec.start_price
        self.step = 0
        self.tick = Tick(0, 0.0, 0.0, 0.0, 0, 0, 0, 0.0)


class QuoteBoard:
    """The current tick of every symbol, advanced lazily as the clock moves.

    The walk advances one step per :data:`TICK_INTERVAL` of monotonic clock
    time since construction; a tick's ``time_msc`` is taken from the wall
    clock at the moment the step happened and never decreases. The prices
    depend only on the seed, the symbol name and when the symbol is read:
    gaps of up to 16 s are walked step by step, longer ones in one draw.
    """

    def __init__(
        self, specs: Mapping[str, SymbolSpec], seed: int, monotonic: float, now: datetime
    ) -> None:
        self._epoch = monotonic
        self._feeds = {name: _Feed(spec, seed) for name, spec in specs.items()}
        start_msc = int(now.timestamp() * 1000)
        for feed in self._feeds.values():
            feed.tick = _make_tick(feed, start_msc)

    def tick(self, symbol: str, monotonic: float, now: datetime, *, frozen: bool) -> Tick:
        """The current tick of ``symbol``; a ``frozen`` feed keeps its last tick."""
        feed = self._feeds[symbol]
        if frozen:
            return feed.tick
        elapsed = monotonic - self._epoch
        step = int(elapsed // TICK_INTERVAL)
        if step > feed.step:
            _walk(feed, step - feed.step)
            feed.step = step
            tick_age = elapsed - step * TICK_INTERVAL
            msc = int((now.timestamp() - tick_age) * 1000)
            feed.tick = _make_tick(feed, max(msc, feed.tick.time_msc + 1))
        return feed.tick


def _walk(feed: _Feed, steps: int) -> None:
    sigma = feed.spec.volatility
    if steps > _MAX_STEPS_WALKED:
        feed.mid *= math.exp(sigma * math.sqrt(steps) * feed.rng.gauss(0.0, 1.0))
        return
    gauss = feed.rng.gauss
    feed.mid *= math.exp(sigma * math.fsum(gauss(0.0, 1.0) for _ in range(steps)))


def _make_tick(feed: _Feed, time_msc: int) -> Tick:
    spec = feed.spec
    spread = spec.spread * spec.point
    bid = round(feed.mid - spread / 2, spec.digits)
    ask = round(bid + spread, spec.digits)
    return Tick(
        time=time_msc // 1000,
        bid=bid,
        ask=ask,
        last=0.0,
        volume=0,
        time_msc=time_msc,
        flags=TICK_FLAG_BID | TICK_FLAG_ASK,
        volume_real=0.0,
    )
