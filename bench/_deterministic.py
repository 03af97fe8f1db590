"""Section 6: the deterministic runtime (issue 11), timed in real seconds.

- the 24 h, 10-account story of section 4 (same outages, same config) on a
  ``DeterministicRuntime`` instead of a VirtualClock with threads;
- chaos seeds of 3 accounts over 2 simulated days (``mt5guard.testing.chaos``):
  wall time per seed and seeds per minute, over ``SEEDS`` consecutive seeds.

Prints one JSON object; run alone with ``python bench/_deterministic.py``.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections import Counter
from typing import Any

from _simulated_time import ACCOUNTS, HOURS, STEP, outage
from _stats import progress
from _trees import accounts_config

from mt5guard import BreakerState, BreakerStateChanged, EventBus, HealthStatus, start
from mt5guard.config import Config
from mt5guard.health.messages import ProbeRecorded
from mt5guard.terminal.sim._terminal import SimulatedTerminal
from mt5guard.testing import DeterministicRuntime
from mt5guard.testing.chaos import run as chaos_run

SEEDS = 10


def counter() -> tuple[Counter[str], Any]:
    """The story's bus subscriber (breaker transitions and probes counted) and its counts."""
    seen: Counter[str] = Counter()

    def count(event: Any) -> None:
        if isinstance(event, BreakerStateChanged) and event.old is not None:
            seen[f"breaker -> {event.new.value}"] += 1
        elif isinstance(event, ProbeRecorded):
            seen["probes skipped" if event.result.skipped else "probes"] += 1

    return seen, count


def story_terminals(runtime: DeterministicRuntime) -> tuple[Config, dict[str, SimulatedTerminal]]:
    """The story's config (probes every 30 s, no jitter) and its ten simulated terminals."""
    config = accounts_config(ACCOUNTS, interval=30.0, jitter=0.0)
    return config, {a.name: SimulatedTerminal(runtime.clock, login=a.terminal.login, seed=i + 1)
                    for i, a in enumerate(config.accounts)}


def story_day(runtime: DeterministicRuntime, terminals: dict[str, SimulatedTerminal], *,
              outages: bool = True) -> None:
    """The story's 24 simulated hours in 30 s steps, an outage on each terminal every hour."""
    for hour in range(HOURS):
        if outages:
            for i, terminal in enumerate(terminals.values()):
                outage(terminal, (hour + i) % 3)
        for _ in range(int(3600 / STEP)):
            runtime.advance(STEP)


def story(*, outages: bool = True) -> dict[str, Any]:
    """The story timed (start included); ``outages=False``: the same day, no outage."""
    seen, count = counter()
    started = time.perf_counter()
    with DeterministicRuntime(seed=1) as runtime:
        bus = EventBus()
        bus.subscribe(count)
        config, terminals = story_terminals(runtime)
        guard = start(config, clock=runtime.clock, bus=bus, terminals=terminals)
        story_day(runtime, terminals, outages=outages)
        wall = time.perf_counter() - started
        final = {name: s.health() for name, s in guard.sessions.items()}
        restarts = sum(line.endswith(" _RestartDue") for line in runtime.log)  # not timed
        guard.stop()
        steps = runtime.steps
    return {
        "accounts": ACCOUNTS,
        "simulated_hours": HOURS,
        "outages": ACCOUNTS * HOURS if outages else 0,
        "restarts": restarts,
        "wall_s": wall,
        "speedup": HOURS * 3600 / wall,
        "messages": steps,
        "us_per_message": wall / steps * 1e6,
        "events": dict(sorted(seen.items())),
        "recovered": all(r.overall is HealthStatus.SERVING and r.breaker is BreakerState.CLOSED
                         for r in final.values()),
    }


def chaos() -> dict[str, Any]:
    logging.disable(logging.CRITICAL)
    walls, failed, steps = [], 0, 0
    started = time.perf_counter()
    for seed in range(SEEDS):
        result = chaos_run(seed, days=2.0, accounts=3)
        walls.append(result.wall)
        failed += not result.ok
        steps += result.steps
    total = time.perf_counter() - started
    return {
        "seeds": SEEDS,
        "days": 2.0,
        "accounts": 3,
        "median_s_per_seed": statistics.median(walls),
        "max_s_per_seed": max(walls),
        "seeds_per_minute": SEEDS / total * 60,
        "messages_per_seed": steps / SEEDS,
        "failed": failed,
    }


if __name__ == "__main__":
    progress("section 6: the deterministic runtime (24 h story, chaos seeds)")
    print(json.dumps({"story": story(), "chaos": chaos()}))
