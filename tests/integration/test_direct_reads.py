"""Reads of a worker-backed session, handled on the caller's own thread (issue 21).

A blocking read no longer hops through the SessionActor: the caller makes the
guarded call itself under the session's door. What a user relies on must not
change: the breaker hears every outcome and trips on them, a hung call is
killed at its deadline and the session restarted, callers and the actor share
one terminal without crossing replies, and a refusal while OPEN reaches no
terminal.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from typing import Any

import pytest
from worker_kit import alive, state, wait_until

from mt5guard import Config, start
from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.clock import Clock, SystemClock
from mt5guard.config import parse_config
from mt5guard.errors import (
    MT5CircuitBreakerOpen,
    MT5ConnectionError,
    MT5RateLimited,
    MT5TimeoutError,
    MT5Unavailable,
    MT5ValidationError,
)
from mt5guard.events.bus import EventBus
from mt5guard.health.messages import ProbeRecorded
from mt5guard.session.messages import RequestCompleted
from mt5guard.terminal.records import AccountInfo, TerminalInfo, Tick
from mt5guard.terminal.worker import WorkerTerminal

pytestmark = pytest.mark.subprocess


def config(request_timeout: str = "400ms", interval: str = "30s", threshold: int = 5,
           probe_timeout: str = "10s", rate_limits: dict[str, object] | None = None,
           **terminal: object) -> Config:
    return parse_config({"rate_limits": rate_limits or {},
        "accounts": [{"name": "one", "request_timeout": request_timeout, "symbols": ["EURUSD"],
                      "terminal": {"login": 5001, "server": "MetaQuotes-Demo",
                                   "isolation": "process", **{"timeout": "2s", **terminal}}}],
        "supervision": {"backoff": {"initial": "50ms", "maximum": "100ms"},
                        "shutdown_timeout": "500ms"},
        "breaker": {"failure_threshold": threshold, "open_duration": "600s"},
        "health": {"interval": interval, "timeout": probe_timeout},
        "orders": {"state_dir": ":memory:"},
    })


@pytest.fixture
def tree():  # type: ignore[no-untyped-def]
    made: list[tuple[Any, Clock]] = []

    def make(config: Config, clock: Clock | None = None,  # type: ignore[no-untyped-def]
             bus: EventBus | None = None):
        clock = clock or SystemClock()
        guard = start(config, clock=clock, bus=bus or EventBus())
        made.append((guard, clock))
        return guard

    yield make
    for guard, clock in made:
        guard.stop()
        clock.close()  # type: ignore[attr-defined]


def serving(guard, old_pid: int | None = None) -> int:  # type: ignore[no-untyped-def]
    terminal = guard.terminals["one"]
    assert isinstance(terminal, WorkerTerminal)

    def ok() -> bool:
        if terminal.pid in (None, old_pid):
            return False
        try:
            return bool(guard.session("one").get_price("EURUSD").bid > 0)
        except Exception:
            return False

    wait_until(ok, timeout=20.0, what="one serving from a new worker")
    pid = terminal.pid
    assert pid is not None
    return pid


def stop_worker(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)  # a real hang: the process exists and never answers
    wait_until(lambda: state(pid) == "T", what="worker stopped")


def test_callers_and_the_actors_probes_share_the_terminal_without_crossing_replies(tree) -> None:
    probes: list[ProbeRecorded] = []
    bus = EventBus()
    bus.subscribe(lambda event: probes.append(event) if isinstance(event, ProbeRecorded) else None)
    # the actor probes the same worker all the while (three calls per probe)
    guard = tree(config(interval="400ms", probe_timeout="350ms"), bus=bus)
    session = guard.session("one")
    serving(guard)
    kinds: dict[str, set[type]] = {}
    errors: list[BaseException] = []
    reads = {"price": lambda: session.get_price("EURUSD"), "account": session.get_account_info,
             "terminal": session.terminal_info, "positions": session.positions}
    until = time.monotonic() + 1.5
    seen = len(probes)

    def read(name: str) -> None:
        try:
            while time.monotonic() < until:
                kinds.setdefault(name, set()).add(type(reads[name]()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(name,)) for name in reads for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert kinds == {"price": {Tick}, "account": {AccountInfo}, "terminal": {TerminalInfo},
                     "positions": {tuple}}
    assert len(probes) > seen  # the actor's probes ran in between
    assert all(p.result.connection_ok for p in probes[seen:])


def test_a_hang_met_on_the_callers_thread_trips_the_breaker(tree) -> None:
    changes: list[BreakerStateChanged] = []
    bus = EventBus()
    bus.subscribe(lambda e: changes.append(e) if isinstance(e, BreakerStateChanged) else None)
    guard = tree(config(threshold=1), bus=bus)  # (a restart's connect is a success: it ends a streak)
    session = guard.session("one")
    pid = serving(guard)
    stop_worker(pid)
    with pytest.raises(MT5TimeoutError):
        session.get_price("EURUSD")
    wait_until(lambda: not alive(pid), what="hung worker killed by pid")
    wait_until(lambda: any(c.new is BreakerState.OPEN for c in changes), what="breaker opened")
    assert session.breaker_state().failures == 1
    # the restarted session reconnects: OPEN -> HALF_OPEN at once, and a trial closes it
    serving(guard, pid)


def test_while_open_reads_are_refused_without_reaching_the_worker_and_counted(tree) -> None:
    completed: list[RequestCompleted] = []
    bus = EventBus()
    bus.subscribe(lambda e: completed.append(e) if isinstance(e, RequestCompleted) else None)
    guard = tree(config(), bus=bus)
    session = guard.session("one")
    terminal = guard.terminals["one"]
    serving(guard)
    session.force_open("maintenance")
    wait_until(lambda: session.breaker_state().state is BreakerState.OPEN, what="breaker open")
    reopens = session.breaker_state().retry_at  # forced open: none until a reset
    before, seen = terminal.requests, len(completed)
    for _ in range(200):
        with pytest.raises(MT5CircuitBreakerOpen) as refused:
            session.get_price("EURUSD")
        assert refused.value.retry_at == reopens  # the breaker's own, as it says it
    assert terminal.requests == before  # no refused read reached the worker
    # counted on this thread, told in batches and before a snapshot is read
    assert session.breaker_state().rejections == 200
    # each refusal is a request completed for whoever listens (metrics, logs)
    assert [(e.account, e.outcome) for e in completed[seen:] if e.operation == "get_price"] == \
        [("one", "circuit_open")] * 200


def test_a_worker_killed_between_reads_is_a_typed_error_and_supervision_restarts_it(tree) -> None:
    guard = tree(config(request_timeout="3s"))
    session = guard.session("one")
    pid = serving(guard)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), what="worker dead")
    with pytest.raises((MT5ConnectionError, MT5Unavailable)):
        session.get_price("EURUSD")  # handed to the actor, which cannot mend it: a restart
    new = serving(guard, pid)
    assert new != pid and alive(new)


def test_a_hung_read_is_killed_at_its_deadline_on_the_injected_clock(tree) -> None:
    from mt5guard.testing import VirtualClock

    clock = VirtualClock()
    guard = tree(config(request_timeout="60s", interval="3600s", timeout="600s"), clock)
    session = guard.session("one")
    terminal = guard.terminals["one"]
    pid = serving(guard)
    stop_worker(pid)
    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(session.get_price("EURUSD"))
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=read)
    caller.start()
    wait_until(lambda: terminal.requests > 0 and caller.is_alive(), what="the read in flight")
    clock.advance(59.0)
    caller.join(0.7)  # real time passes (more than one poll slice); the clock does not
    assert caller.is_alive() and alive(pid), "gave up before its 60 s deadline"
    clock.advance(1.5)
    caller.join(5)
    assert not caller.is_alive(), "still waiting past its deadline"
    assert len(outcome) == 1 and isinstance(outcome[0], MT5TimeoutError)
    wait_until(lambda: not alive(pid), what="the hung worker killed by pid")


def test_awaitable_reads_still_go_through_the_actor(tree) -> None:
    guard = tree(config())
    session = guard.session("one")
    serving(guard)

    async def main() -> list[float]:
        ticks = await asyncio.gather(*(session.aio.get_price("EURUSD") for _ in range(8)))
        return [t.bid for t in ticks]

    started = time.monotonic()
    assert all(bid > 0 for bid in asyncio.run(main()))
    assert time.monotonic() - started < 5.0


def test_a_callers_read_publishes_its_outcome_and_a_symbol_not_listed_is_typed(tree) -> None:
    completed: list[RequestCompleted] = []
    bus = EventBus()
    bus.subscribe(lambda e: completed.append(e) if isinstance(e, RequestCompleted)
                  and e.operation == "get_price" else None)
    guard = tree(config(), bus=bus)
    session = guard.session("one")
    serving(guard)
    seen = len(completed)
    for _ in range(5):
        assert session.get_price("EURUSD").bid > 0
    with pytest.raises(MT5ValidationError, match="GBPUSD"):
        session.get_price("GBPUSD")
    wait_until(lambda: len(completed) >= seen + 6, what="six RequestCompleted")
    assert [e.outcome for e in completed[seen:]] == ["ok"] * 5 + ["validation"]


def test_rate_limits_still_hold_a_callers_reads_back(tree) -> None:
    guard = tree(config(rate_limits={"requests_per_second": 0.5, "request_burst": 1,
                                     "max_wait": "0s"}))
    session = guard.session("one")
    terminal = guard.terminals["one"]
    serving(guard)  # spends the one token
    before = terminal.requests
    with pytest.raises(MT5RateLimited):
        session.get_price("EURUSD")
    assert terminal.requests == before
