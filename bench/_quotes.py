"""Section 8: the quote cache and tick fan-out (issue 12).

Run alone: ``python bench/_quotes.py`` prints one JSON object on stdout
(progress on stderr).

- Cached ``Session.get_price(symbol, max_age=1.0)`` of a subscribed symbol
  (no actor hop) against pybreaker around a direct ``symbol_info_tick`` and
  the guarded hop, in alternating rounds; the figure is the median over
  rounds of each round's p50 ratio.
- Tick fan-out: one symbol to 100 subscribers through the account's
  QuoteHub, as the session's poll publishes: callables, and pykka actors
  (delay until the actor has handled the Tick), flat out and paced at 100
  ticks/s (a busy symbol). Ticks/s is distinct ticks
  published per second with all 100 deliveries done; the delay of a tick is
  from the start of its publish to each subscriber's receipt; p99 over all
  deliveries.
- End to end: the session polling every 10 ms for 3 s; the simulated feed
  moves every 250 ms, so this shows the delay from the poll to 100
  subscribers, not a rate.
"""

from __future__ import annotations

import json
import math
import threading
import time
from datetime import UTC, datetime
from typing import Any

import attrs
import pybreaker
import pykka
from _stats import median, progress, rounds, time_calls
from _trees import SYMBOL, accounts_config, wait_answered

from mt5guard import QuotesConfig, SystemClock, start
from mt5guard.market.quotes import QuoteHub
from mt5guard.terminal.records import Tick
from mt5guard.terminal.sim._terminal import SimulatedTerminal

ROUNDS = 11
CALLS = 3000
SUBSCRIBERS = 100
FANOUT_TICKS = 2000


class TickUnavailable(Exception):
    pass


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def cache_vs_pybreaker() -> dict[str, Any]:
    config = attrs.evolve(accounts_config(1, interval=3600.0), quotes=QuotesConfig(poll_interval=0.05))
    guard = start(config)
    try:
        (session,) = guard.sessions.values()
        wait_answered([session])
        session.subscribe(SYMBOL)
        deadline = time.monotonic() + 5
        while session._core.quotes.latest(SYMBOL) is None:
            assert time.monotonic() < deadline, "no poll within 5 s"
            time.sleep(0.01)
        clock = SystemClock()
        direct = SimulatedTerminal(clock)
        direct.initialize(login=5001, password="", server="MetaQuotes-Demo")
        direct.symbol_select(SYMBOL, True)
        breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)

        def tick() -> Any:
            result = direct.symbol_info_tick(SYMBOL)
            if result is None:
                raise TickUnavailable(direct.last_error())
            return result

        variants = {
            "cached get_price(max_age=1.0)": lambda: session.get_price(SYMBOL, max_age=1.0),
            "pybreaker + direct call": lambda: breaker.call(tick),
            "guarded get_price (one hop)": lambda: session.get_price(SYMBOL),
        }
        for call in variants.values():
            time_calls(call, 300)
        results = rounds({n: (lambda c=c: time_calls(c, CALLS)) for n, c in variants.items()},
                         ROUNDS, "quote cache")
    finally:
        guard.stop()
    cached, via_pybreaker = results["cached get_price(max_age=1.0)"], results["pybreaker + direct call"]
    return {
        "rounds": ROUNDS,
        "calls_per_round": CALLS,
        "p50_us": {name: median([s.p50_us for s in samples]) for name, samples in results.items()},
        "p99_us": {name: median([s.p99_us for s in samples]) for name, samples in results.items()},
        "pybreaker_over_cached_p50": median(
            [b.p50_us / a.p50_us for a, b in zip(cached, via_pybreaker, strict=True)]),
    }


class Listener(pykka.ThreadingActor):
    def __init__(self, delays: list[float], done: threading.Semaphore) -> None:
        super().__init__()
        self._delays, self._done = delays, done

    def on_receive(self, message: Any) -> Any:
        self._delays.append(time.perf_counter() - message.received_at.timestamp())
        self._done.release()
        return None


def _ticks(n: int) -> list[Tick]:
    return [Tick(1_767_600_000 + i, 1.1 + i * 1e-5, 1.1001 + i * 1e-5, 0.0, 0, (1_767_600_000 + i) * 1000,
                 6, 0.0) for i in range(n)]


def fanout(kind: str, pace: float | None = None, count: int = FANOUT_TICKS) -> dict[str, Any]:
    """Publish ``count`` changed ticks through a QuoteHub to SUBSCRIBERS subscribers.

    ``pace`` (ticks/s) spaces the publishes; None publishes flat out (saturation).
    """
    hub = QuoteHub("bench")
    delays: list[float] = []
    done = threading.Semaphore(0)
    actors: list[Any] = []
    if kind == "callables":
        def make() -> Any:
            def receive(tick: Any) -> None:
                delays.append(time.perf_counter() - tick.received_at.timestamp())
                done.release()
            return receive
        subscribers = [make() for _ in range(SUBSCRIBERS)]
    else:
        actors = [Listener.start(delays, done) for _ in range(SUBSCRIBERS)]
        subscribers = actors
    for subscriber in subscribers:
        hub.subscribe([SYMBOL], subscriber)
    ticks = _ticks(count)
    # received_at carries the publish start on perf_counter's scale, so delays are exact
    started = time.perf_counter()
    for i, tick in enumerate(ticks):
        sent = datetime.fromtimestamp(time.perf_counter(), UTC)
        hub.publish_poll({SYMBOL: tick}, float(i), sent)
        if pace is not None:
            time.sleep(1.0 / pace)
    for _ in range(count * SUBSCRIBERS):
        done.acquire()
    elapsed = time.perf_counter() - started
    for actor in actors:
        actor.stop()
    return {
        "subscribers": SUBSCRIBERS,
        "ticks": count,
        "pace_ticks_per_s": pace,
        "ticks_per_s": count / elapsed,
        "deliveries_per_s": count * SUBSCRIBERS / elapsed,
        "p50_delay_us": median(delays) * 1e6,
        "p99_delay_us": p99(delays) * 1e6,
    }


def end_to_end() -> dict[str, Any]:
    config = attrs.evolve(accounts_config(1, interval=3600.0), quotes=QuotesConfig(poll_interval=0.01))
    guard = start(config)
    delays: list[float] = []
    try:
        (session,) = guard.sessions.values()
        wait_answered([session])

        def receive(tick: Any) -> None:
            delays.append(time.time() - tick.received_at.timestamp())

        subscriptions = [session.subscribe(SYMBOL, receive) for _ in range(SUBSCRIBERS)]
        time.sleep(3.0)
        for s in subscriptions:
            s.close()
    finally:
        guard.stop()
    return {"subscribers": SUBSCRIBERS, "seconds": 3.0, "deliveries": len(delays),
            "p50_delay_us": median(delays) * 1e6 if delays else None,
            "p99_delay_us": p99(delays) * 1e6 if delays else None}


def main() -> None:
    out = {"cache": cache_vs_pybreaker()}
    progress("fan-out to callables")
    out["fanout_callables"] = fanout("callables")
    progress("fan-out to actors")
    out["fanout_actors"] = fanout("actors")
    progress("fan-out to actors at 100 ticks/s")
    out["fanout_actors_paced"] = fanout("actors", pace=100.0, count=300)
    progress("end to end")
    out["end_to_end"] = end_to_end()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
