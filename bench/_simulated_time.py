"""Section 4: a 24-hour story for 10 accounts on a VirtualClock, timed in real seconds.

Every simulated hour each account suffers one outage, rotating through three
kinds so the whole machinery runs: the IPC link drops for 150 s (the session
fails and is restarted with backoff), the terminal process restarts with 90 s
of downtime, or the terminal hangs (8 calls of ``terminal_info`` time out:
the breaker opens, its trials fail and back off, then it closes). Probes run
every 30 s throughout. Backoff jitter is 0 so every run replays the same
story. Prints one JSON object; run alone with
``python bench/_simulated_time.py [os|same-core]`` (thread placement, see
``_placement``).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from typing import Any

from _placement import place_threads
from _stats import progress
from _trees import accounts_config

from mt5guard import BreakerState, BreakerStateChanged, EventBus, HealthStatus, start
from mt5guard.health.messages import ProbeRecorded
from mt5guard.supervision import RestartScheduled
from mt5guard.terminal.sim._terminal import SimulatedTerminal
from mt5guard.testing import VirtualClock

ACCOUNTS = 10
HOURS = 24
STEP = 30.0  # seconds of simulated time per advance()


def outage(terminal: SimulatedTerminal, kind: int) -> None:
    if kind == 0:
        terminal.disconnect(for_seconds=150)
    elif kind == 1:
        terminal.restart(downtime=90)
    else:
        terminal.hang_next("terminal_info", seconds=2, times=8)


def run(placement: str) -> dict[str, Any]:
    placement = place_threads(placement)  # before any actor exists: they all inherit it
    clock = VirtualClock(settle_timeout=30.0)
    bus = EventBus()
    seen: Counter[str] = Counter()

    def count(event: Any) -> None:  # called on actor threads; Counter updates are GIL-atomic
        if isinstance(event, BreakerStateChanged) and event.old is not None:
            seen[f"breaker -> {event.new.value}"] += 1
        elif isinstance(event, ProbeRecorded):
            seen["probes skipped" if event.result.skipped else "probes"] += 1
        elif isinstance(event, RestartScheduled):
            seen["restarts scheduled"] += 1

    bus.subscribe(count)
    config = accounts_config(ACCOUNTS, interval=30.0, jitter=0.0)
    terminals = {
        a.name: SimulatedTerminal(clock, login=a.terminal.login, seed=i + 1)
        for i, a in enumerate(config.accounts)
    }
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    guard = start(config, clock=clock, bus=bus, terminals=terminals)
    try:
        clock.settle()
        steps_per_hour = int(3600 / STEP)
        for hour in range(HOURS):
            for i, terminal in enumerate(terminals.values()):
                outage(terminal, (hour + i) % 3)
            for _ in range(steps_per_hour):
                clock.advance(STEP)
            if hour % 6 == 5:
                progress(f"simulated time: {hour + 1} h in {time.perf_counter() - started:.1f} s")
        wall = time.perf_counter() - started
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        final = {name: s.health().overall for name, s in guard.sessions.items()}
        breakers = {name: s.breaker_state().state for name, s in guard.sessions.items()}
        gave_up = guard.gave_up_event is not None
    finally:
        clock.close()
        guard.stop()
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    switches = usage1.ru_nvcsw - usage0.ru_nvcsw + usage1.ru_nivcsw - usage0.ru_nivcsw
    return {
        "placement": placement,
        "accounts": ACCOUNTS,
        "simulated_hours": HOURS,
        "wall_s": wall,
        "speedup": HOURS * 3600 / wall,
        "cpu_s": cpu,
        "context_switches": switches,
        "events": dict(sorted(seen.items())),
        "wall_us_per_probe": wall / max(seen["probes"], 1) * 1e6,
        "context_switches_per_probe": switches / max(seen["probes"], 1),
        "all_serving_at_end": all(s is HealthStatus.SERVING for s in final.values()),
        "all_breakers_closed_at_end": all(b is BreakerState.CLOSED for b in breakers.values()),
        "gave_up": gave_up,
    }


if __name__ == "__main__":
    where = sys.argv[1] if len(sys.argv) > 1 else "os"
    progress(f"section 4: {HOURS} h of simulated time, {ACCOUNTS} accounts; threads: {where}")
    json.dump(run(where), sys.stdout)
    print()
