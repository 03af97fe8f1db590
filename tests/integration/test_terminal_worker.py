"""A terminal in a worker process, with real faults: SIGKILL, SIGSTOP, closed pipes, garbage."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from worker_kit import SIM, alive, state, wait_until

from mt5guard.clock import SystemClock
from mt5guard.errors import MT5DataError
from mt5guard.terminal import constants as c
from mt5guard.terminal.records import (
    AccountInfo,
    BookInfo,
    OrderSendResult,
    Tick,
    TradeDeal,
    TradeRequest,
)
from mt5guard.terminal.worker import WorkerTerminal, local_opener

pytestmark = pytest.mark.subprocess

MISBEHAVING = [sys.executable, str(Path(__file__).with_name("misbehaving_worker.py"))]


@pytest.fixture
def clock():
    clock = SystemClock()
    yield clock
    clock.close()


def worker(clock, spec=SIM, command=None, call_timeout=5.0):  # type: ignore[no-untyped-def]
    terminal = WorkerTerminal(local_opener(dict(spec), command), clock, name="demo",
                              call_timeout=call_timeout)
    terminal.start()
    assert terminal.initialize(login=5001, password="pw", server="MetaQuotes-Demo")
    assert terminal.symbol_select("EURUSD", True)
    return terminal


def test_calls_cross_the_process_boundary_and_come_back_as_our_records(clock) -> None:
    terminal = worker(clock)
    try:
        assert terminal.pid != os.getpid() and alive(terminal.pid)
        assert terminal.symbol_select("EURUSD", True)
        tick = terminal.symbol_info_tick("EURUSD")
        assert isinstance(tick, Tick) and 0 < tick.bid < tick.ask
        assert isinstance(terminal.account_info(), AccountInfo)
        sent = terminal.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
                                    "type": c.ORDER_TYPE_BUY, "price": tick.ask, "deviation": 20,
                                    "type_filling": c.ORDER_FILLING_FOK})
        assert isinstance(sent, OrderSendResult) and isinstance(sent.request, TradeRequest)
        assert sent.retcode == c.TRADE_RETCODE_DONE
        now = datetime.now(UTC)
        deals = terminal.history_deals_get(now - timedelta(hours=1), now + timedelta(hours=1))
        assert [type(d) for d in deals] == [TradeDeal] and deals[0].order == sent.order
        assert terminal.symbol_info_tick("NOPE") is None  # MT5 failures stay MT5 failures
        assert terminal.last_error()[0] != 1
        pid = terminal.pid
    finally:
        terminal.close()
    assert not alive(pid) and terminal.pid is None


def test_counts_calculations_and_the_book_cross_the_process_boundary(clock) -> None:
    terminal = worker(clock)
    try:
        assert terminal.positions_total() == 0 and terminal.orders_total() == 0
        now = datetime.now(UTC)
        assert terminal.history_deals_total(now - timedelta(hours=1), now) == 0
        margin = terminal.order_calc_margin(c.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.085)
        assert isinstance(margin, float) and margin > 0
        assert terminal.order_calc_profit(c.ORDER_TYPE_SELL, "EURUSD", 1.0, 1.085, 1.084) == 100.0
        assert terminal.market_book_add("EURUSD") is True
        book = terminal.market_book_get("EURUSD")
        assert book is not None and [type(b) for b in book] == [BookInfo] * 10
        assert terminal.market_book_release("EURUSD") is True
        assert terminal.market_book_get("EURUSD") is None
    finally:
        terminal.close()


def test_sigkill_mid_call_fails_that_call_at_once_as_a_lost_connection(clock) -> None:
    terminal = worker(clock)
    pid = terminal.pid
    # Mid-call by construction, not by a timer racing a call latency: the worker is stopped,
    # so the request sent cannot be answered, and it is killed once the request is out.
    os.kill(pid, signal.SIGSTOP)
    wait_until(lambda: state(pid) == "T", what="worker stopped")
    sent = terminal.requests

    def kill_once_sent() -> None:
        wait_until(lambda: terminal.requests > sent, what="the request sent")
        os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_once_sent)
    killer.start()
    assert terminal.account_info() is None
    killer.join()
    code, text = terminal.last_error()
    # -10004, not the -10005 of the call's 5 s timeout: the death ended it.
    assert code == -10004 and f"pid {pid}" in text
    assert terminal.lost is not None
    assert terminal.account_info() is None and terminal.last_error()[0] == -10004  # stays gone
    terminal.start()  # only an explicit start brings a new one
    assert terminal.pid != pid and terminal.lost is None
    terminal.close()


def test_a_stopped_worker_is_killed_by_pid_at_the_deadline(clock) -> None:
    terminal = worker(clock)
    pid = terminal.pid
    os.kill(pid, signal.SIGSTOP)
    wait_until(lambda: state(pid) == "T", what="worker stopped")
    terminal.set_deadline(clock.monotonic() + 0.3)
    started = time.monotonic()
    assert terminal.symbol_info_tick("EURUSD") is None
    # At its 0.3 s deadline, not at the call's 5 s timeout (a loaded machine may be late).
    assert 0.25 < time.monotonic() - started < 4.0
    code, text = terminal.last_error()
    assert code == -10005 and "IPC timeout" in text and f"pid {pid} killed" in text
    wait_until(lambda: not alive(pid), what="stopped worker killed")
    assert "deadline" in (terminal.lost or "")
    terminal.close()


def test_garbage_from_the_worker_is_a_data_error_and_the_worker_keeps_serving(clock) -> None:
    terminal = worker(clock, command=MISBEHAVING)
    try:
        with pytest.raises(MT5DataError, match="garbage for account_info"):
            terminal.account_info()
        assert terminal.lost is None
        assert terminal.symbol_info_tick("EURUSD") is not None
    finally:
        terminal.close()


def test_a_reply_to_an_old_request_id_is_dropped(clock) -> None:
    terminal = worker(clock, command=MISBEHAVING)
    try:
        assert terminal.orders_get() == ()
        assert terminal.symbol_info_tick("EURUSD") is not None  # still in step
    finally:
        terminal.close()


def test_a_worker_that_closes_its_connection_fails_the_call_without_waiting(clock) -> None:
    terminal = worker(clock, command=MISBEHAVING)
    pid = terminal.pid
    started = time.monotonic()
    assert terminal.symbol_info("EURUSD") is None
    assert time.monotonic() - started < 4.0  # not the call's 5 s timeout
    assert terminal.last_error()[0] == -10004 and terminal.lost is not None
    assert alive(pid)  # it did not die: closing the connection was enough
    terminal.close()
    wait_until(lambda: not alive(pid), what="worker ended by close()")


def test_a_worker_exits_by_itself_when_its_parent_disappears(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import signal\n"
        "from mt5guard.clock import SystemClock\n"
        "from mt5guard.terminal.worker import WorkerTerminal, local_opener\n"
        f"t = WorkerTerminal(local_opener({SIM!r}), SystemClock(), name='x')\n"
        "t.start()\n"
        "print(t.pid, flush=True)\n"
        "while True:\n"
        "    signal.pause()  # until killed\n"
    )
    import subprocess

    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert alive(pid)
        parent.kill()  # kill -9: no cleanup code of the parent runs
        parent.wait(5)
        # An orphan that missed its parent's death would live on: 10 s is a wait, not a bound.
        wait_until(lambda: not alive(pid), timeout=10.0, what="orphaned worker exit")
    finally:
        parent.kill()
        parent.wait(5)
        assert parent.stdout is not None
        parent.stdout.close()


def test_market_data_and_history_come_back_as_the_modules_numpy_arrays_and_records(clock) -> None:
    from mt5guard.terminal.rates import RATE_DTYPE, TICK_DTYPE
    from mt5guard.terminal.records import SymbolInfo, TradeOrder
    from mt5guard.terminal.sim import SimulatedTerminal

    terminal = worker(clock)
    local = SimulatedTerminal(clock, login=5001, server="MetaQuotes-Demo")  # same seed, same walk
    local.initialize(login=5001, password="pw", server="MetaQuotes-Demo")
    local.symbol_select("EURUSD", True)
    try:
        bars = terminal.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 1, 10)
        assert bars.dtype == RATE_DTYPE and len(bars) == 10
        assert bars.tolist() == local.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 1, 10).tolist()
        now = datetime.now(UTC)
        ticks = terminal.copy_ticks_range("EURUSD", now - timedelta(minutes=2), now - timedelta(minutes=1),
                                          c.COPY_TICKS_ALL)
        assert ticks.dtype == TICK_DTYPE and len(ticks) > 0
        assert all(isinstance(s, SymbolInfo) for s in terminal.symbols_get("*USD*"))
        assert terminal.symbols_total() == local.symbols_total()
        assert terminal.copy_rates_from_pos("EURUSD", 12345, 0, 10) is None  # a bad timeframe
        assert local.copy_rates_from_pos("EURUSD", 12345, 0, 10) is None
        assert terminal.last_error() == local.last_error() and terminal.last_error()[0] < 0
        orders = terminal.history_orders_get(now - timedelta(hours=1), now + timedelta(hours=1))
        assert orders == () or all(isinstance(o, TradeOrder) for o in orders)
    finally:
        terminal.close()


def configured_worker(clock, call_timeout: float):  # type: ignore[no-untyped-def]
    """Built from the config the way a tree builds it: ``terminal.timeout`` in seconds."""
    from mt5guard.config import parse_config
    from mt5guard.terminal import make_terminal

    config = parse_config({"accounts": [{"name": "demo", "symbols": ["EURUSD"], "terminal": {
        "login": 5001, "server": "MetaQuotes-Demo", "password": "${PW}",
        "isolation": "process", "timeout": call_timeout}}]}, environ={"PW": "pw"})
    terminal = make_terminal(config.accounts[0].terminal, clock)
    terminal.start()
    assert terminal.initialize(login=5001, password="pw", server="MetaQuotes-Demo")
    return terminal


def _killed_at_the_clock_timeout(build: Any, timeout: float, real_wait: float) -> None:
    """Stop the worker, call: still waiting 0.01 s of the clock before ``timeout``
    (after ``real_wait`` real seconds), done and the worker killed 0.01 s after it."""
    from mt5guard.testing import VirtualClock

    clock = VirtualClock()
    terminal = build(clock, timeout)
    try:
        pid = terminal.pid
        os.kill(pid, signal.SIGSTOP)
        wait_until(lambda: state(pid) == "T", what="worker stopped")
        result: list[object] = []
        caller = threading.Thread(target=lambda: result.append(terminal.account_info()))
        caller.start()
        clock.advance(timeout - 0.01)
        caller.join(real_wait)  # real time passes; the clock does not
        assert caller.is_alive() and alive(pid), f"gave up before {timeout} s of the clock"
        clock.advance(0.02)
        caller.join(5)
        assert not caller.is_alive(), f"still waiting after {timeout} s of the clock"
        assert result == [None] and terminal.last_error()[0] == -10005
        wait_until(lambda: not alive(pid), what="the stopped worker killed")
    finally:
        terminal.close()
        clock.close()


@pytest.mark.parametrize("build", [lambda clock, t: worker(clock, call_timeout=t),
                                   configured_worker], ids=["direct", "from-config"])
def test_call_timeout_is_seconds_of_the_injected_clock(build) -> None:  # type: ignore[no-untyped-def]
    """No owner deadline: a call waits ``call_timeout`` *seconds* of the clock, then the
    worker is killed. 0.3 s is neither 300 s (milliseconds read as seconds) nor 0.3 ms."""
    _killed_at_the_clock_timeout(build, 0.3, real_wait=0.1)


def test_a_deadline_slices_away_is_kept_by_the_kernel_bounded_reads() -> None:
    """A call whose deadline is several 0.5 s read slices away: each read that finds
    nothing ends with its slice, the clock is read again, and the worker is killed once
    the clock passes the deadline, neither before nor long after. More than one slice
    of real time passes before the clock nears the deadline: a read ended and began again."""
    _killed_at_the_clock_timeout(lambda clock, t: worker(clock, call_timeout=t), 2.0,
                                 real_wait=0.7)
