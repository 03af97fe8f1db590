"""kind: rpyc against a real rpyc classic server in a subprocess.

The server (fake_mt5/serve.py) is rpyc's own ThreadedServer with
SlaveService, as mt5linux runs it; the ``MetaTrader5`` it serves is a fake
whose functions delegate to a SimulatedTerminal on the real clock. Faults are
real: the server process is SIGKILLed, and a hang blocks the server thread
inside the module call. Real time, so every deadline here is short.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rpyc

import mt5guard
from mt5guard.clock import SystemClock
from mt5guard.config import AccountConfig, Config, TerminalConfig
from mt5guard.config.policy import BackoffConfig, BreakerConfig, SupervisionConfig
from mt5guard.errors import MT5ConnectionError, MT5OrderOutcomeUnknown, MT5TimeoutError
from mt5guard.events.bus import EventBus
from mt5guard.orders.messages import OrderReconciled
from mt5guard.secret import Secret
from mt5guard.session.messages import SessionConnected
from mt5guard.supervision.events import ChildFailed, RestartScheduled
from mt5guard.terminal import BookInfo, SymbolInfo, Tick, make_terminal
from mt5guard.terminal.constants import TIMEFRAME_M1
from mt5guard.terminal.rates import RATE_DTYPE, TICK_DTYPE

SERVE = Path(__file__).resolve().parent / "fake_mt5" / "serve.py"
PASSWORD = "fake-rpyc-pw"
CALL_TIMEOUT = 0.5  # seconds: the adapter's deadline for one call


class FakeRpycServer:
    """``serve.py`` as a real process on a loopback port that survives restarts."""

    def __init__(self) -> None:
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        env = {**os.environ, "FAKE_MT5_PASSWORD": PASSWORD, "FAKE_MT5_LOGIN": "5001",
               "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, str(SERVE), str(self.port)], env=env,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the server prints its port once it is bound
        assert line.startswith("listening on "), line
        self.port = int(line.split()[-1])
        deadline = time.monotonic() + 5.0  # rpyc calls listen() only as the server starts
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0).close()
                return
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the rpyc server never accepted connections"
                time.sleep(0.01)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=5)

    def module(self) -> Any:
        """The fake MetaTrader5 module in the server, over a control connection of its own."""
        conn = rpyc.classic.connect("127.0.0.1", self.port)
        return conn.modules.MetaTrader5


@pytest.fixture
def server() -> Iterator[FakeRpycServer]:
    running = FakeRpycServer()
    running.start()
    yield running
    if running.proc is not None and running.proc.poll() is None:
        running.kill()


def rpyc_config(port: int) -> Config:
    terminal = TerminalConfig(kind="rpyc", login=5001, password=Secret(PASSWORD),
                              server="Fake-Server", port=port, timeout=0.2,
                              call_timeout=CALL_TIMEOUT)
    return Config(
        accounts=(AccountConfig(name="remote", terminal=terminal, symbols=("EURUSD",),
                                request_timeout=5.0),),
        supervision=SupervisionConfig(backoff=BackoffConfig(initial=0.05, maximum=0.1, jitter=0.0),
                                      max_restarts=1000),
        breaker=BreakerConfig(failure_threshold=1000),  # restarts are the story here, not the breaker
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, event: object) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, match: Callable[[Any], bool], timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [e for e in self.events if match(e)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                assert left > 0, f"no matching event in {[type(e).__name__ for e in self.events]}"
                self._cond.wait(left)


@pytest.fixture
def tree(server: FakeRpycServer) -> Iterator[tuple[mt5guard.Guard, Recorder]]:
    bus, recorder = EventBus(), Recorder()
    bus.subscribe(recorder)
    guard = mt5guard.start(rpyc_config(server.port), bus=bus)
    yield guard, recorder
    guard.stop()


def eventually(call: Callable[[], Any], timeout: float = 5.0) -> Any:
    """``call()``'s first result that does not raise, retried every 20 ms."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def session_failed(event: Any) -> bool:
    return isinstance(event, ChildFailed) and event.child == "session"


def test_a_guard_tree_trades_through_the_rpyc_server(tree: tuple[mt5guard.Guard, Recorder]) -> None:
    guard, recorder = tree
    session = guard.session("remote")

    tick = session.get_price("EURUSD")
    outcome = session.place_order("EURUSD", "buy", 0.1, client_order_id="rpyc1")

    assert isinstance(tick, Tick) and 0 < tick.bid < tick.ask
    assert outcome.retcode == 10009 and outcome.deal > 0
    assert [p.ticket for p in session.positions("EURUSD")] == [outcome.order]
    assert session.get_account_info().login == 5001
    connected = recorder.wait_for(lambda e: isinstance(e, SessionConnected))
    assert (connected.login, connected.server) == (5001, "Fake-Server")


def test_bars_ticks_symbols_and_history_cross_as_plain_data(
    tree: tuple[mt5guard.Guard, Recorder],
) -> None:
    guard, _ = tree
    session = guard.session("remote")
    outcome = session.place_order("EURUSD", "buy", 0.1, client_order_id="rpyc2")
    now = datetime.now(UTC)

    bars = session.copy_rates_from_pos("EURUSD", TIMEFRAME_M1, 0, 10)
    ticks = session.copy_ticks_range("EURUSD", now - timedelta(minutes=5), now + timedelta(seconds=1))
    symbols = session.symbols_get("*USD*")
    deals = session.history_deals(now - timedelta(hours=1), now + timedelta(seconds=1))
    orders = session.history_orders(now - timedelta(hours=1), now + timedelta(seconds=1))

    assert isinstance(bars, np.ndarray) and bars.dtype == RATE_DTYPE and len(bars) == 10
    assert ticks.dtype == TICK_DTYPE and len(ticks) > 0 and (ticks["bid"] > 0).all()
    assert "EURUSD" in {s.name for s in symbols} and all(isinstance(s, SymbolInfo) for s in symbols)
    assert [d.order for d in deals] == [outcome.order]
    assert [o.ticket for o in orders] == [outcome.order]


def test_counts_margin_and_the_book_cross_as_plain_data(
    tree: tuple[mt5guard.Guard, Recorder],
) -> None:
    guard, _ = tree
    session = guard.session("remote")
    session.place_order("EURUSD", "buy", 0.1, client_order_id="rpyc3")
    now = datetime.now(UTC)
    assert (session.positions_total(), session.orders_total()) == (1, 0)
    assert session.history_deals_total(now - timedelta(hours=1), now + timedelta(seconds=1)) == 1
    assert session.order_calc_margin("EURUSD", "buy", 1.0, 1.085) > 0
    session.market_book_add("EURUSD")
    book = session.market_book_get("EURUSD")
    assert len(book) == 10 and all(isinstance(level, BookInfo) for level in book)
    session.market_book_release("EURUSD")


def test_a_killed_server_fails_the_session_and_a_restarted_one_serves_again(
    server: FakeRpycServer, tree: tuple[mt5guard.Guard, Recorder]
) -> None:
    guard, recorder = tree
    session = guard.session("remote")
    session.get_price("EURUSD")

    server.kill()
    with pytest.raises(MT5ConnectionError, match=r"closed the connection|cannot reach"):
        session.get_price("EURUSD")
    recorder.wait_for(lambda e: isinstance(e, RestartScheduled) and "session" in e.children)

    server.start()  # same port, a fresh terminal
    tick = eventually(lambda: session.get_price("EURUSD"))
    assert tick.bid > 0
    assert len([e for e in recorder.events if isinstance(e, SessionConnected)]) >= 2


def test_a_hung_call_times_out_fails_the_session_and_it_recovers_after(
    server: FakeRpycServer, tree: tuple[mt5guard.Guard, Recorder]
) -> None:
    guard, recorder = tree
    session = guard.session("remote")
    session.get_price("EURUSD")
    fake = server.module()

    fake.hang()
    with pytest.raises(MT5TimeoutError) as timed_out:
        session.get_price("EURUSD")  # the facade would wait 5 s: the adapter's 0.5 s ends it
    failed = recorder.wait_for(session_failed)
    fake.release()

    assert f"within {CALL_TIMEOUT:g} s; the connection was closed" in str(timed_out.value)
    assert "SessionLost" in failed.error
    assert eventually(lambda: session.get_price("EURUSD")).bid > 0


def test_an_order_whose_send_hung_is_never_resent_and_is_found_after_the_restart(
    server: FakeRpycServer, tree: tuple[mt5guard.Guard, Recorder]
) -> None:
    guard, recorder = tree
    session = guard.session("remote")
    session.get_price("EURUSD")
    fake = server.module()

    fake.hang("order_send")  # the send below blocks on the server, then goes through on release
    with pytest.raises(MT5OrderOutcomeUnknown, match="NOT re-sent"):
        session.place_order("EURUSD", "buy", 0.1, client_order_id="hung1")
    recorder.wait_for(session_failed)
    fake.release()

    found = recorder.wait_for(lambda e: isinstance(e, OrderReconciled))
    assert (found.client_order_id, found.outcome) == ("hung1", "executed")
    again = session.place_order("EURUSD", "buy", 0.1, client_order_id="hung1")
    assert again.deal > 0
    assert list(fake.calls).count("order_send") == 1


def test_no_server_listening_is_a_connection_error_naming_the_address(
    server: FakeRpycServer,
) -> None:
    config = rpyc_config(server.port)
    server.kill()  # the port is free now: connections are refused
    terminal = make_terminal(config.accounts[0].terminal, SystemClock())

    with pytest.raises(MT5ConnectionError) as refused:
        terminal.initialize(login=5001, password=PASSWORD, server="Fake-Server")
    with pytest.raises(MT5ConnectionError, match=r"initialize\(\) opens the connection"):
        terminal.symbol_info_tick("EURUSD")

    assert f"cannot reach the rpyc server at 127.0.0.1:{server.port}" in str(refused.value)
    assert PASSWORD not in str(refused.value) and PASSWORD not in repr(terminal)
