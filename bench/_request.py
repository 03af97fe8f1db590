"""Sections 1, 2 and 5: one guarded request, against a bare pykka ask and pybreaker.

Run alone: ``python bench/_request.py [os|same-core|cross-core]`` prints one
JSON object on stdout (progress on stderr); the argument is the thread
placement (see ``_placement``). Every variant runs once per round, rounds alternate
the order, and each reported figure is the median over rounds of that
round's value (or of that round's ratio to the bare ask).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pybreaker
import pykka
from _placement import last_cpus, place_threads
from _stats import Sample, median, progress, rounds, time_calls, time_threads
from _trees import SYMBOL, accounts_config, wait_answered

from mt5guard import MT5CircuitBreakerOpen, SystemClock, start
from mt5guard.terminal.sim._terminal import SimulatedTerminal

ROUNDS = 15
CALLS = 2000  # sequential calls per variant per round
THREADS = 4
CALLS_PER_THREAD = 500


class Echo(pykka.ThreadingActor):
    """The bare baseline: an actor that answers an ask with the message."""

    def on_receive(self, message: Any) -> Any:
        return message


class TerminalOwner(pykka.ThreadingActor):
    """A bare ask whose handler makes the same terminal call: the floor of any actor design."""

    def __init__(self, terminal: SimulatedTerminal) -> None:
        super().__init__()
        self._terminal = terminal

    def on_receive(self, message: Any) -> Any:
        return self._terminal.symbol_info_tick(message)


def connected_terminal(clock: SystemClock) -> SimulatedTerminal:
    terminal = SimulatedTerminal(clock)
    terminal.initialize(login=5001, password="", server="MetaQuotes-Demo")
    terminal.symbol_select(SYMBOL, True)
    return terminal


class TickUnavailable(Exception):
    """What a direct caller raises on MT5's None, so pybreaker can count it."""


def summarize(results: dict[str, list[Sample]], base: str) -> dict[str, dict[str, float]]:
    """Per variant: medians of p50/p99/throughput, and of the per-round ratios to ``base``."""
    out: dict[str, dict[str, float]] = {}
    for name, samples in results.items():
        bases = results[base]
        out[name] = {
            "p50_us": median([s.p50_us for s in samples]),
            "p99_us": median([s.p99_us for s in samples]),
            "ops_per_s": median([s.ops_per_s for s in samples]),
            "p50_ratio": median([s.p50_us / b.p50_us for s, b in zip(samples, bases, strict=True)]),
            "p99_ratio": median([s.p99_us / b.p99_us for s, b in zip(samples, bases, strict=True)]),
            "ops_ratio": median([s.ops_per_s / b.ops_per_s for s, b in zip(samples, bases, strict=True)]),
        }
    return out


def run(placement: str) -> dict[str, Any]:
    guard = start(accounts_config(1, interval=3600.0))
    try:
        return _measure(guard, placement)
    finally:
        guard.stop()


def _measure(guard: Any, placement: str) -> dict[str, Any]:
    (name,) = guard.sessions
    session = guard.sessions[name]
    wait_answered([session])
    clock = SystemClock()
    direct = connected_terminal(clock)
    locked = connected_terminal(clock)
    owned = connected_terminal(clock)
    echo = Echo.start()
    owner = TerminalOwner.start(owned)
    breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    lock = threading.Lock()
    placement = place_threads(placement)  # every actor of this process is running by now

    def tick(terminal: SimulatedTerminal) -> Any:
        result = terminal.symbol_info_tick(SYMBOL)
        if result is None:
            raise TickUnavailable(terminal.last_error())
        return result

    def pybreaker_call() -> Any:
        return breaker.call(tick, direct)

    def locked_call(call: Callable[[], Any]) -> Callable[[], Any]:
        def serialized() -> Any:
            with lock:  # the terminal refuses two threads at once, like MetaTrader5
                return call()

        return serialized

    def get_price() -> Any:
        return session.get_price(SYMBOL)

    def bare() -> Any:
        return echo.ask(SYMBOL)

    def owner_ask() -> Any:
        return owner.ask(SYMBOL)

    def direct_call() -> Any:
        return tick(direct)

    try:
        for warm in (get_price, bare, owner_ask, direct_call, pybreaker_call):
            time_calls(warm, 300)
        single = rounds(
            {
                "guarded Session.get_price": lambda: time_calls(get_price, CALLS),
                "bare pykka ask (echo actor)": lambda: time_calls(bare, CALLS),
                "pykka ask, handler calls terminal": lambda: time_calls(owner_ask, CALLS),
                "direct symbol_info_tick": lambda: time_calls(direct_call, CALLS),
                "pybreaker + direct call": lambda: time_calls(pybreaker_call, CALLS),
            },
            ROUNDS,
            f"request [{placement}], 1 caller",
        )
        cpus = last_cpus("MainThread", "Echo", "SessionActor", "TerminalOwner")
        tick_locked = locked_call(lambda: tick(locked))
        breaker_locked = locked_call(lambda: breaker.call(tick, locked))
        threaded = rounds(
            {
                "guarded Session.get_price": lambda: time_threads(get_price, CALLS_PER_THREAD, THREADS),
                "bare pykka ask (echo actor)": lambda: time_threads(bare, CALLS_PER_THREAD, THREADS),
                "direct call + lock": lambda: time_threads(tick_locked, CALLS_PER_THREAD, THREADS),
                "pybreaker + direct call + lock": lambda: time_threads(
                    breaker_locked, CALLS_PER_THREAD, THREADS
                ),
            },
            ROUNDS,
            f"request [{placement}], {THREADS} callers",
        )
        fast_fail = _fast_fail(guard, session, bare)
    finally:
        echo.stop()
        owner.stop()
    single_summary = summarize(single, "bare pykka ask (echo actor)")
    guarded = single_summary["guarded Session.get_price"]
    via_pybreaker = single_summary["pybreaker + direct call"]
    return {
        "placement": placement,
        "last_cpu": cpus,
        "rounds": ROUNDS,
        "calls_per_round": CALLS,
        "single_caller": single_summary,
        "threads": THREADS,
        "calls_per_thread": CALLS_PER_THREAD,
        "multi_caller": summarize(threaded, "bare pykka ask (echo actor)"),
        "fast_fail": fast_fail,
        "pybreaker": {
            "guarded_over_pybreaker_p50": guarded["p50_us"] / via_pybreaker["p50_us"],
            "guarded_over_pybreaker_ops": via_pybreaker["ops_per_s"] / guarded["ops_per_s"],
        },
    }


def _fast_fail(guard: Any, session: Any, bare: Callable[[], Any]) -> dict[str, Any]:
    """Section 2: the breaker forced OPEN; rejected requests must not reach the terminal."""
    terminal = guard.terminals[session.account]
    session.force_open("bench: fast-fail section")
    deadline = time.monotonic() + 10.0
    while True:  # the session's local view of the breaker is pushed to it: wait for OPEN
        try:
            session.get_price(SYMBOL)
        except MT5CircuitBreakerOpen:
            break
        if time.monotonic() > deadline:
            raise TimeoutError("the session never saw the breaker OPEN")
    calls_before = sum(terminal.calls.values())
    rejections_before = session.breaker_state().rejections
    attempts = answered = 0

    def rejected() -> None:
        nonlocal attempts, answered
        attempts += 1
        try:
            session.get_price(SYMBOL)
        except MT5CircuitBreakerOpen:
            return
        answered += 1  # got through an OPEN breaker: reported below, not raised

    open_breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=3600)
    open_breaker.open()

    def pybreaker_rejected() -> None:
        try:
            open_breaker.call(lambda: None)
        except pybreaker.CircuitBreakerError:
            return

    results = rounds(
        {
            "rejected Session.get_price (OPEN)": lambda: time_calls(rejected, CALLS),
            "bare pykka ask (echo actor)": lambda: time_calls(bare, CALLS),
            "pybreaker rejection (open)": lambda: time_calls(pybreaker_rejected, CALLS),
        },
        ROUNDS,
        "fast-fail",
    )
    calls_during = sum(terminal.calls.values()) - calls_before
    time.sleep(0.2)  # let the breaker drain its CallRejected tells before the snapshot
    counted = session.breaker_state().rejections - rejections_before
    session.reset_breaker()
    return {
        "rows": summarize(results, "bare pykka ask (echo actor)"),
        "rejected_requests": attempts - answered,
        "answered_while_open": answered,
        "terminal_calls_while_open": calls_during,
        "breaker_counted_rejections": counted,
    }


if __name__ == "__main__":
    where = sys.argv[1] if len(sys.argv) > 1 else "os"
    progress(f"sections 1, 2, 5: guarded request, fast-fail, pybreaker; threads: {where}")
    result = run(where)
    json.dump(result, sys.stdout)
    print()
