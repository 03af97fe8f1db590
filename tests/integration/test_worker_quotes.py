"""Streaming quotes from terminal workers: the worker polls, pushes changes, the session publishes.

Real worker processes, real intervals of tens of milliseconds. The simulated
terminal in the worker moves its quote every 0.25 s of real time, so most
poll rounds find nothing new. A test that asserts nothing arrived in a window
does not sleep through it: it waits until a worker's simulated quote moved
twice since the window began (``wait_for_quote_changes``), longer than a
regressed worker and session take to deliver one change, and witnessed.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from worker_kit import (
    SIM,
    alive,
    no_thread_left_behind,
    wait_for_quote_changes,
    wait_until,
    wall_ms,
)

from mt5guard import start
from mt5guard.clock import SystemClock
from mt5guard.config import parse_config
from mt5guard.errors import MT5CircuitBreakerOpen
from mt5guard.events.bus import EventBus
from mt5guard.market.messages import Tick
from mt5guard.terminal.worker import WorkerTerminal, local_opener

pytestmark = pytest.mark.subprocess


class Ticks:
    def __init__(self) -> None:
        self.got: list[Tick] = []

    def __call__(self, tick: Tick) -> None:
        self.got.append(tick)

    def __len__(self) -> int:
        return len(self.got)


@pytest.fixture(scope="module")
def witness() -> Iterator[WorkerTerminal]:
    """A worker of its own whose simulated quotes tell a window passed, for the tests whose
    worker was told to stop (it has nothing to poll) and whose requests are counted."""
    clock = SystemClock()
    terminal = WorkerTerminal(local_opener(SIM), clock, name="witness", call_timeout=2.0)
    try:
        terminal.start()
        assert terminal.initialize(login=5001, password="", server="MetaQuotes-Demo")
        assert terminal.symbol_select("EURUSD", True)
        yield terminal
    finally:
        terminal.close()
        clock.close()


@pytest.fixture
def guard(witness):  # type: ignore[no-untyped-def]
    threads = set(threading.enumerate())
    config = parse_config({
        "accounts": [{"name": "one", "request_timeout": "1s", "symbols": ["EURUSD"],
                      "terminal": {"login": 5001, "server": "MetaQuotes-Demo",
                                   "isolation": "process", "timeout": "2s"}}],
        "quotes": {"poll_interval": "40ms"},
        "health": {"interval": "1h"},  # no probe request while the tests count requests
        "supervision": {"backoff": {"initial": "50ms", "maximum": "100ms"},
                        "shutdown_timeout": "500ms"},
        "orders": {"state_dir": ":memory:"},
    })
    clock = SystemClock()
    running = start(config, clock=clock, bus=EventBus())
    yield running
    running.stop()
    clock.close()
    no_thread_left_behind(threads)


def worker(running) -> WorkerTerminal:  # type: ignore[no-untyped-def]
    terminal = running.terminals["one"]
    assert isinstance(terminal, WorkerTerminal)
    wait_until(lambda: terminal.pid is not None, what="worker started")
    return terminal


def test_subscribed_ticks_arrive_without_a_request_per_poll(guard) -> None:  # type: ignore[no-untyped-def]
    terminal, ticks = worker(guard), Ticks()
    guard.session("one").subscribe(["EURUSD"], ticks)
    wait_until(lambda: len(ticks) >= 2, what="first ticks")
    requests = terminal.requests
    wait_until(lambda: len(ticks) >= 5, what="more ticks")
    # about 20 polls of 40 ms went by: the worker polled them, nobody asked it to
    assert terminal.requests == requests
    keys = [(t.time_msc, t.bid, t.ask) for t in ticks.got]
    assert all(a != b for a, b in itertools.pairwise(keys))  # only changes
    assert all(t.account == "one" and t.symbol == "EURUSD" and t.bid > 0 for t in ticks.got)
    cached = guard.session("one").get_price("EURUSD", max_age=0.5)  # from the pushed ticks
    assert (cached.bid, cached.ask) == (ticks.got[-1].bid, ticks.got[-1].ask)
    assert terminal.requests == requests  # no request for the cached price either


def test_ticks_stop_after_unsubscribe_and_after_stop(guard, witness) -> None:  # type: ignore[no-untyped-def]
    terminal, ticks, others = worker(guard), Ticks(), Ticks()
    session = guard.session("one")
    subscription = session.subscribe(["EURUSD"], ticks)
    other = session.subscribe(["EURUSD"], others)
    wait_until(lambda: len(ticks) >= 1, what="a tick")
    subscription.close()
    seen = len(ticks)
    wait_until(lambda: len(others) >= len(ticks) + 2, what="the other subscriber's ticks")
    assert len(ticks) == seen
    other.close()
    requests = terminal.requests
    wait_until(lambda: terminal.requests > requests, what="the worker told to stop watching")
    # No settling wait: the session publishes a step's rounds (calling subscribers on its own
    # thread) before it tells the worker, and drops what the worker pushed before the reply.
    requests, seen, since = terminal.requests, len(others), wall_ms()
    wait_for_quote_changes(witness, since)  # the window measured
    assert (terminal.requests, len(others)) == (requests, seen)

    again = Ticks()
    session.subscribe(["EURUSD"], again)
    wait_until(lambda: len(again) >= 1, what="a tick after subscribing again")
    guard.stop()
    seen, since = len(again), wall_ms()
    wait_for_quote_changes(witness, since)  # the window measured
    assert len(again) == seen


def test_an_open_breaker_stops_the_worker_polling_and_the_cache_is_not_live(guard, witness) -> None:  # type: ignore[no-untyped-def]
    terminal, ticks = worker(guard), Ticks()
    session = guard.session("one")
    session.subscribe(["EURUSD"], ticks)
    wait_until(lambda: len(ticks) >= 1, what="a tick")
    session.force_open("test")
    requests = terminal.requests
    wait_until(lambda: terminal.requests > requests, what="the worker told to stop watching")
    seen, since = len(ticks), wall_ms()  # final: a step publishes before it tells the worker
    wait_for_quote_changes(witness, since)  # the window measured
    assert len(ticks) == seen
    with pytest.raises(MT5CircuitBreakerOpen):
        session.get_price("EURUSD", max_age=60.0)
    session.reset_breaker()
    wait_until(lambda: len(ticks) >= seen + 2, what="ticks again after the breaker closed")


def test_a_sigkilled_workers_subscription_resumes_after_the_restart(guard) -> None:  # type: ignore[no-untyped-def]
    terminal, ticks = worker(guard), Ticks()
    guard.session("one").subscribe(["EURUSD"], ticks)
    wait_until(lambda: len(ticks) >= 1, what="a tick")
    pid = terminal.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), what="worker dead")
    wait_until(lambda: terminal.pid not in (None, pid), timeout=5.0, what="a new worker")
    seen = len(ticks)
    wait_until(lambda: len(ticks) >= seen + 2, timeout=5.0, what="ticks from the new worker")
    requests = terminal.requests
    wait_until(lambda: len(ticks) >= seen + 4, what="more ticks from the new worker")
    assert terminal.requests == requests


def test_the_worker_pushes_only_changed_ticks_and_nothing_once_unwatched() -> None:
    clock = SystemClock()
    terminal = WorkerTerminal(local_opener(SIM), clock, name="watch", call_timeout=2.0)
    try:
        terminal.start()
        assert terminal.initialize(login=5001, password="", server="MetaQuotes-Demo")
        told = terminal.watch(["EURUSD"], 0.02)
        assert told is not None and told["symbols"] == ["EURUSD"]
        rounds: list[Any] = []

        def pushed() -> list[Any]:
            return [r.changed["EURUSD"] for r in rounds if "EURUSD" in r.changed]

        def enough() -> bool:
            rounds.extend(terminal.take_pushed())
            return len(rounds) >= 10 and len(pushed()) >= 2

        wait_until(enough, timeout=5.0, what="ten rounds, two quote changes (0.25 s apart)")
        assert terminal.requests == 2  # initialize and watch: the rounds came unasked
        assert len(pushed()) < len(rounds) / 2  # most rounds found nothing new: nothing pushed
        keys = [(t.time_msc, t.bid, t.ask) for t in pushed()]
        assert len(set(keys)) == len(keys)
        assert all(not r.failed for r in rounds)

        assert terminal.watch(["NOSUCH"], 0.02) is not None  # an unknown symbol fails
        wait_until(lambda: any("NOSUCH" in r.failed for r in terminal.take_pushed()),
                   what="the failure pushed")
        told = terminal.watch([], 0.02)  # a round under way pushes nothing now
        assert told is not None
        wait_for_quote_changes(terminal, wall_ms())  # the window measured, by this worker
        assert terminal.take_pushed() == []
        rounds_then = told["rounds"]
        told = terminal.watch([], 0.02)
        assert told is not None and told["rounds"] == rounds_then  # it polled no round since
    finally:
        terminal.close()
        clock.close()
