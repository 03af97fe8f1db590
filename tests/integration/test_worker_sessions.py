"""Sessions whose terminals run in worker processes: real hangs and deaths, in a real tree."""

from __future__ import annotations

import os
import signal
import threading
import time

import attrs
import pytest
from worker_kit import alive, no_thread_left_behind, state, wait_until

from mt5guard import Config, start
from mt5guard.clock import SystemClock
from mt5guard.config import parse_config
from mt5guard.errors import MT5ConnectionError, MT5TimeoutError, MT5Unavailable
from mt5guard.events.bus import EventBus
from mt5guard.supervision.events import ChildFailed
from mt5guard.terminal.worker import WorkerTerminal

pytestmark = pytest.mark.subprocess


def config(request_timeout: str = "400ms", **terminal: object) -> Config:
    def account(name: str, login: int) -> dict[str, object]:
        return {"name": name, "request_timeout": request_timeout, "symbols": ["EURUSD"],
                "terminal": {"login": login, "server": "MetaQuotes-Demo", "isolation": "process",
                             "timeout": "2s", **terminal}}

    return parse_config({
        "accounts": [account("one", 5001), account("two", 5002)],
        "supervision": {"backoff": {"initial": "50ms", "maximum": "100ms"},
                        "shutdown_timeout": "500ms"},
        "orders": {"state_dir": ":memory:"},
    })


class Recorder:
    def __init__(self) -> None:
        self.events: list[object] = []

    def __call__(self, event: object) -> None:
        self.events.append(event)


@pytest.fixture
def tree():  # type: ignore[no-untyped-def]
    made = []

    def make(request_timeout: str = "400ms", **terminal: object):  # type: ignore[no-untyped-def]
        bus, recorder, clock = EventBus(), Recorder(), SystemClock()
        bus.subscribe(recorder)
        guard = start(config(request_timeout, **terminal), clock=clock, bus=bus)
        made.append(guard)
        return guard, recorder

    threads = set(threading.enumerate())
    yield make
    for guard in made:
        guard.stop()
        guard.clock.close()  # type: ignore[attr-defined]
    no_thread_left_behind(threads)


def worker_pid(guard, account: str) -> int:  # type: ignore[no-untyped-def]
    terminal = guard.terminals[account]
    assert isinstance(terminal, WorkerTerminal)
    wait_until(lambda: terminal.pid is not None, what=f"{account}'s worker started")
    pid = terminal.pid
    assert pid is not None
    return pid


def serving_again(guard, account: str, old_pid: int) -> None:  # type: ignore[no-untyped-def]
    def ok() -> bool:
        pid = guard.terminals[account].pid
        if pid in (None, old_pid):
            return False
        try:
            return guard.session(account).get_price("EURUSD").bid > 0
        except Exception:
            return False

    wait_until(ok, timeout=5.0, what=f"{account} serving from a new worker")


def test_a_hung_worker_times_out_at_the_deadline_is_killed_and_the_session_restarts(tree) -> None:
    guard, recorder = tree(timeout="20s")  # the terminal's own timeout, far from the deadline
    session = guard.session("one")
    serving_again(guard, "one", -1)
    pid = worker_pid(guard, "one")
    os.kill(pid, signal.SIGSTOP)  # a real hang: the process exists and never answers
    wait_until(lambda: state(pid) == "T", what="worker stopped")

    started = time.monotonic()
    with pytest.raises(MT5TimeoutError):
        session.get_price("EURUSD")
    # The request's 0.4 s deadline ended it, not the terminal's 20 s (room for a loaded machine).
    assert time.monotonic() - started < 5.0
    wait_until(lambda: not alive(pid), what="hung worker killed by pid")
    wait_until(lambda: any(isinstance(e, ChildFailed) and e.child == "session"
                           and e.supervisor == "account:one" for e in recorder.events),
               what="session failed")
    assert session.breaker_state().failures >= 1  # the breaker was told
    serving_again(guard, "one", pid)
    assert guard.session("two").get_price("EURUSD").bid > 0


def test_a_worker_killed_mid_call_is_a_connection_error_and_a_restart(tree) -> None:
    guard, _ = tree(request_timeout="3s", call_latency="100ms")
    session = guard.session("one")
    serving_again(guard, "one", -1)
    pid = worker_pid(guard, "one")
    threading.Timer(0.05, os.kill, (pid, signal.SIGKILL)).start()
    with pytest.raises(MT5ConnectionError):
        session.get_account_info()
    serving_again(guard, "one", pid)


def test_killing_one_accounts_worker_leaves_the_other_serving(tree) -> None:
    guard, _ = tree()
    serving_again(guard, "one", -1)
    serving_again(guard, "two", -1)
    one, two = worker_pid(guard, "one"), worker_pid(guard, "two")
    os.kill(one, signal.SIGKILL)
    for _ in range(20):
        assert guard.session("two").get_price("EURUSD").bid > 0
    assert worker_pid(guard, "two") == two
    with pytest.raises((MT5ConnectionError, MT5Unavailable)):  # dead, or already restarting
        guard.session("one").get_price("EURUSD")
    serving_again(guard, "one", one)
    assert guard.status.snapshot()["two"]["status"] == "SERVING"


def test_stopping_the_tree_ends_every_worker(tree) -> None:
    guard, _ = tree()
    pids = {worker_pid(guard, "one"), worker_pid(guard, "two")}
    guard.stop()
    assert not any(alive(pid) for pid in pids)


def test_an_order_whose_reply_hung_is_answered_unknown_looked_up_after_the_restart_and_never_resent(
) -> None:
    import sys
    from pathlib import Path

    from mt5guard.errors import MT5OrderOutcomeUnknown
    from mt5guard.orders.messages import OrderReconciled
    from mt5guard.terminal.worker import local_opener

    misbehaving = [sys.executable, str(Path(__file__).with_name("misbehaving_worker.py"))]
    bus, recorder, clock = EventBus(), Recorder(), SystemClock()
    bus.subscribe(recorder)
    cfg = config("1s")
    # the misbehaving worker drops its connection on symbol_info: name the filling, so the
    # order goes straight to the order_send that hangs
    cfg = attrs.evolve(cfg, accounts=tuple(attrs.evolve(a, filling="ioc") for a in cfg.accounts))
    spec = {"backend": "simulated", "login": 5001, "server": "MetaQuotes-Demo"}
    terminal = WorkerTerminal(local_opener(spec, misbehaving), clock, name="one", call_timeout=2.0)
    guard = start(cfg, clock=clock, bus=bus, terminals={"one": terminal})
    try:
        serving_again(guard, "one", -1)
        pid = worker_pid(guard, "one")
        with pytest.raises((MT5OrderOutcomeUnknown, MT5TimeoutError)):
            guard.session("one").place_order("EURUSD", "buy", 0.1, client_order_id="hung-1")
        wait_until(lambda: not alive(pid), what="the hung worker killed")
        def looked_up_after_restart() -> bool:
            events = list(recorder.events)
            failed = [i for i, e in enumerate(events) if isinstance(e, ChildFailed)
                      and e.supervisor == "account:one" and e.child == "session"]
            return bool(failed) and any(isinstance(e, OrderReconciled) and e.client_order_id == "hung-1"
                                        for e in events[failed[0]:])

        wait_until(looked_up_after_restart, timeout=5.0,
                   what="the order looked up again by the restarted session")
        serving_again(guard, "one", pid)
        restarted = worker_pid(guard, "one")
        with pytest.raises(MT5OrderOutcomeUnknown):  # answered from the journal, not sent again
            guard.session("one").place_order("EURUSD", "buy", 0.1, client_order_id="hung-1")
        assert worker_pid(guard, "one") == restarted and alive(restarted)  # no second hang
    finally:
        guard.stop()
        clock.close()
