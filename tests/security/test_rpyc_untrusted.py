"""An rpyc server is foreign and untrusted: plain data only, and never waited on past the config.

Against real servers: rpyc's own classic server (as mt5linux runs it) whose
MetaTrader5 module returns remote objects, a peer that accepts and never
speaks, one whose accept queue is full (the TCP handshake never completes),
and one whose calls hang.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rpyc

import mt5guard
from mt5guard.config import AccountConfig, Config, TerminalConfig
from mt5guard.config.policy import BackoffConfig, SupervisionConfig
from mt5guard.errors import MT5ConnectionError, MT5DataError, MT5Error
from mt5guard.secret import Secret
from mt5guard.terminal import constants as c
from mt5guard.terminal.adapters.rpyc import RpycTerminal
from mt5guard.terminal.hung import TerminalHung

pytestmark = pytest.mark.subprocess

SERVE = Path(__file__).resolve().parents[1] / "integration" / "fake_mt5" / "serve.py"
PASSWORD = "fake-rpyc-pw"


class RpycServer:
    """rpyc's ThreadedServer with SlaveService serving the fake MetaTrader5, a real process."""

    def __init__(self) -> None:
        env = {**os.environ, "FAKE_MT5_PASSWORD": PASSWORD, "FAKE_MT5_LOGIN": "5001"}
        self.proc = subprocess.Popen([sys.executable, str(SERVE), "0"], env=env,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline().split()[-1])
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline
                time.sleep(0.01)
        self.control = rpyc.classic.connect("127.0.0.1", self.port)

    def execute(self, code: str) -> None:
        self.control.execute(code)

    def stop(self) -> None:
        try:
            self.control.modules.MetaTrader5.release()
            self.control.close()
        except Exception:
            pass
        self.proc.kill()
        self.proc.wait(5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def server() -> Iterator[RpycServer]:
    running = RpycServer()
    yield running
    running.stop()


def _terminal(port: int, **options: Any) -> RpycTerminal:
    terminal = RpycTerminal("127.0.0.1", port, **{"call_timeout": 2.0, **options})
    assert terminal.initialize(login=5001, password=PASSWORD, server="Fake-Server")
    return terminal


HOSTILE = """
import MetaTrader5 as _m

class Remote:  # brine cannot send it by value: the client gets a netref
    def __repr__(self):
        return "USD"

class Price(float):  # a float to isinstance(), a netref on the wire
    pass

_plain_account, _plain_tick = _m.account_info, _m.symbol_info_tick
_m.account_info = lambda: _plain_account()._replace(currency=Remote())
_m.symbol_info_tick = lambda symbol: _plain_tick(symbol)._replace(bid=Price(1.1))
_m.positions_get = lambda **kw: {"not": "a tuple"}
_m.version = lambda: [500, 4000, Remote()]
"""


def test_remote_objects_anywhere_in_a_reply_are_a_typed_data_error(server: RpycServer) -> None:
    terminal = _terminal(server.port)
    try:
        assert terminal.symbol_select("EURUSD", True)
        server.execute(HOSTILE)
        for call in (terminal.account_info, lambda: terminal.symbol_info_tick("EURUSD"),
                     terminal.positions_get, terminal.version):
            with pytest.raises(MT5DataError, match="remote object is refused"):
                call()
        info = terminal.terminal_info()  # the connection serves on: only the value was refused
        assert info is not None and type(info.connected) is bool
    finally:
        terminal.shutdown()


def test_an_exception_the_server_raises_is_a_data_error_and_the_connection_serves_on(
        server: RpycServer) -> None:
    terminal = _terminal(server.port)
    try:
        server.execute("import MetaTrader5 as _m\n"
                       "def _broken():\n    raise ValueError('the terminal said no')\n"
                       "_m.account_info = _broken\n")
        with pytest.raises(MT5DataError, match=r"raised in account_info\(\) \(ValueError\)"):
            terminal.account_info()
        assert terminal.connected and terminal.terminal_info() is not None
    finally:
        terminal.shutdown()


def test_rpyc_failing_on_our_side_during_a_call_is_a_connection_error_not_the_servers(
        server: RpycServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # What a shutdown racing a call's send once gave (1 run in ~60 of the hung-call test
    # below): rpyc's own send lock released twice, a RuntimeError on our side after the
    # request had reached the server. It is the connection's failure, not the server's.
    terminal = _terminal(server.port)
    try:
        conn = terminal._link._conn

        def send_then_break(*args: Any) -> None:
            type(conn)._send(conn, *args)
            raise RuntimeError("release unlocked lock")

        monkeypatch.setattr(conn, "_send", send_then_break)
        with pytest.raises(MT5ConnectionError, match="may have reached the server"):
            terminal.account_info()
        assert not terminal.connected
    finally:
        terminal.shutdown()


#: Seconds within which a 0.3 s connect timeout must fail a start (see the tests below).
CONNECT_BOUND = 4.0


def test_a_peer_that_accepts_and_never_speaks_fails_within_the_connect_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as mute:
        held: list[socket.socket] = []
        threading.Thread(target=lambda: held.append(mute.accept()[0]), daemon=True).start()
        terminal = RpycTerminal("127.0.0.1", mute.getsockname()[1], call_timeout=20.0,
                                connect_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(MT5ConnectionError, match=r"within 0\.3 s"):
            terminal.initialize(login=5001, password=PASSWORD, server="Fake-Server")
        # The wrong waits are 2 x call_timeout (40 s) or 18 s of retries: a bound far from
        # both, and far from the 0.3 s a loaded machine stretches (0.8 s once was too close).
        assert time.monotonic() - started < CONNECT_BOUND
        for sock in held:
            sock.close()


def test_a_tcp_handshake_that_never_completes_fails_within_the_connect_timeout() -> None:
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)  # never accepted: once its queue is full, SYNs are dropped
        port = full.getsockname()[1]
        queued = []
        for _ in range(4):
            try:
                queued.append(socket.create_connection(("127.0.0.1", port), timeout=0.2))
            except OSError:
                break
        terminal = RpycTerminal("127.0.0.1", port, call_timeout=20.0, connect_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(MT5ConnectionError, match="cannot reach"):
            terminal.initialize(login=5001, password=PASSWORD, server="Fake-Server")
        assert time.monotonic() - started < CONNECT_BOUND  # as above
        for sock in queued:
            sock.close()


class HandClock:
    """Monotonic seconds that move only when the test says; ``when_read`` runs at every read
    (the link reads it each time it looks at a call's deadline)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0
        self.when_read: Any = lambda: None

    def __call__(self) -> float:
        self.reads += 1
        self.when_read()
        return self.now


def _server_holds_a_new_call(fake: Any, before: int) -> bool:
    return len(fake.calls) > before  # the fake notes a call, then blocks in it while hung


def test_a_hung_call_ends_when_its_deadline_passes_and_closing_never_waits_on_the_server(
        server: RpycServer) -> None:
    clock = HandClock()
    # if closing waited on the hung server, it would wait connect_timeout (rpyc's sync
    # request timeout): an hour, so the test would fail at its own 60 s timeout
    terminal = _terminal(server.port, call_timeout=30.0, connect_timeout=3600.0, monotonic=clock)
    fake = server.control.modules.MetaTrader5
    fake.hang()  # and never released while the test runs
    before, reads = len(fake.calls), clock.reads

    def deadline_passes_once_the_server_holds_the_call() -> None:
        # not at the first read (the deadline is being set): while the link waits
        if clock.reads > reads + 1 and clock.now == 0.0 and _server_holds_a_new_call(fake,
                                                                                      before):
            clock.now = 30.0  # exactly the deadline

    clock.when_read = deadline_passes_once_the_server_holds_the_call
    with pytest.raises(TerminalHung, match=r"no reply from .* within 30 s; the connection was "
                                           r"closed"):
        terminal.account_info()
    assert clock.now == 30.0  # ended at the deadline, not at a second one
    assert not terminal.connected
    assert terminal.shutdown() is True  # nothing left to wait on


def test_a_reply_that_arrives_as_the_wait_expires_is_delivered_not_thrown_away(
        server: RpycServer) -> None:
    clock = HandClock()
    terminal = _terminal(server.port, call_timeout=30.0, monotonic=clock)
    assert terminal.symbol_select("EURUSD", True)
    tick, info = terminal.symbol_info_tick("EURUSD"), terminal.symbol_info("EURUSD")
    assert tick is not None and info is not None
    request = {"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
               "type": c.ORDER_TYPE_BUY, "price": tick.ask, "deviation": 10, "magic": 7,
               "comment": "mg-late1;", "type_time": c.ORDER_TIME_GTC,
               "type_filling": c.ORDER_FILLING_FOK if info.filling_mode & 1
               else c.ORDER_FILLING_IOC}
    fake = server.control.modules.MetaTrader5
    fake.hang("order_send")
    before, reads, sock = len(fake.calls), clock.reads, terminal._link._sock
    assert sock is not None

    def reply_arrives_then_the_deadline_passes() -> None:
        # not at the first read (the deadline is being set): while the link waits
        if clock.reads > reads + 1 and clock.now == 0.0 and _server_holds_a_new_call(fake,
                                                                                      before):
            fake.release()  # the server executes the order and sends its reply
            readable, _, _ = select.select([sock], [], [], 10.0)  # which is here, unread
            assert readable
            clock.now = 30.0  # only then does the deadline pass

    clock.when_read = reply_arrives_then_the_deadline_passes
    result = terminal.order_send(request)

    assert clock.now == 30.0  # the wait had expired when the reply was taken
    assert result is not None and result.retcode == c.TRADE_RETCODE_DONE and result.deal > 0
    assert list(fake.calls).count("order_send") == 1
    terminal.shutdown()


def test_shutdown_while_another_thread_hangs_in_a_call_ends_both_at_once(
        server: RpycServer) -> None:
    clock = HandClock()  # never moves: only the shutdown can end the hung call
    terminal = _terminal(server.port, call_timeout=30.0, connect_timeout=3600.0, monotonic=clock)
    fake = server.control.modules.MetaTrader5
    fake.hang()
    before = len(fake.calls)
    outcome: list[Any] = []
    caller = threading.Thread(target=lambda: outcome.append(_try(terminal.account_info)))
    caller.start()
    deadline = time.monotonic() + 5
    while not _server_holds_a_new_call(fake, before):
        assert time.monotonic() < deadline
        time.sleep(0.01)

    assert terminal.shutdown() is True  # would queue behind the hung call for its 30 s
    caller.join()

    assert isinstance(outcome[0], MT5ConnectionError) and not terminal.connected
    assert list(fake.calls)[before:] == ["account_info"]  # the server was not asked to shut down


def test_stop_leaves_no_thread_blocked_in_rpyc(server: RpycServer) -> None:
    terminal = TerminalConfig(kind="rpyc", login=5001, password=Secret(PASSWORD),
                              server="Fake-Server", port=server.port, timeout=5.0,
                              call_timeout=30.0)
    config = Config(accounts=(AccountConfig(name="remote", terminal=terminal,
                                            symbols=("EURUSD",), request_timeout=60.0),),
                    supervision=SupervisionConfig(backoff=BackoffConfig(initial=0.05,
                                                                       maximum=0.1, jitter=0.0),
                                                  shutdown_timeout=0.5))
    guard = mt5guard.start(config)
    session = guard.session("remote")
    session.get_price("EURUSD")
    fake = server.control.modules.MetaTrader5
    fake.hang()
    calls = len(fake.calls)
    outcome: list[Any] = []
    caller = threading.Thread(target=lambda: outcome.append(_try(session.get_price, "EURUSD")))
    caller.start()
    deadline = time.monotonic() + 5
    while len(fake.calls) == calls:  # the session's thread is now blocked in rpyc
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = time.monotonic()
    guard.stop()
    assert time.monotonic() - started < 5.0  # the hung call would block it for ever
    deadline = time.monotonic() + 5.0  # a wait, not a bound
    while _in_rpyc():
        assert time.monotonic() < deadline, "a thread is still blocked in rpyc after stop()"
        time.sleep(0.01)
    caller.join(5)
    assert outcome and isinstance(outcome[0], MT5Error)


def _try(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except Exception as exc:
        return exc


def _in_rpyc() -> bool:
    """Whether any thread but this one is inside rpyc's code (not the test's control link)."""
    me = threading.get_ident()
    for ident, frame in sys._current_frames().items():
        if ident == me:
            continue
        stack = []
        while frame is not None:
            stack.append(frame.f_code.co_filename)
            frame = frame.f_back
        if any("/rpyc/" in name for name in stack) and any("mt5guard" in name for name in stack):
            return True
    return False


def test_a_thread_whose_call_was_killed_cannot_reconnect_but_a_new_incarnation_can(
        server: RpycServer) -> None:
    terminal = _terminal(server.port, call_timeout=30.0)
    fake = server.control.modules.MetaTrader5
    fake.hang()
    outcome: list[Any] = []

    def old_incarnation() -> None:
        outcome.append(_try(terminal.account_info))  # blocks on the hung server
        outcome.append(_try(lambda: terminal.initialize(
            login=5001, password=PASSWORD, server="Fake-Server")))  # and would block again

    old = threading.Thread(target=old_incarnation)
    old.start()
    deadline = time.monotonic() + 5
    while "account_info" not in list(fake.calls):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = time.monotonic()
    terminal.kill("abandoned")
    old.join(10)
    assert time.monotonic() - started < 5.0  # the hung server would block it for ever
    assert isinstance(outcome[0], MT5ConnectionError)
    assert isinstance(outcome[1], MT5ConnectionError) and "ended from another thread" in str(
        outcome[1])
    fake.release()
    assert terminal.initialize(login=5001, password=PASSWORD, server="Fake-Server")  # this thread
    assert terminal.account_info() is not None
    terminal.shutdown()
