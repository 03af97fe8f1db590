"""kind: bridge over TCP loopback, against `python -m mt5guard.terminal.bridge.server --listen` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from worker_kit import children_of, wait_for_quote_changes, wait_until, wall_ms, workers_of

from mt5guard.clock import SystemClock
from mt5guard.config import parse_config
from mt5guard.errors import MT5ConnectionError
from mt5guard.terminal import Tick, make_terminal
from mt5guard.terminal.bridge.certs import make_certificates
from mt5guard.terminal.worker import WorkerTerminal
from mt5guard.terminal.worker.links import BridgeLink, tls_client

pytestmark = pytest.mark.subprocess

KEY = "test-bridge-key-0123456789abcdefghijklmnop"
SIM = {"login": 5001, "server": "MetaQuotes-Demo", "password": "pw"}


class Bridge:
    def __init__(self, **sim: object) -> None:
        env = {**os.environ, "MT5GUARD_BRIDGE_KEY": KEY, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mt5guard.terminal.bridge.server", "--listen", "127.0.0.1:0", "--insecure-plaintext-loopback",
             "--backend", "simulated", "--simulated", json.dumps({**SIM, **sim})],
            env=env, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert "listening on 127.0.0.1:" in line, line
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def shared_bridge() -> Iterator[Bridge]:
    running = Bridge(call_latency=0.05)
    yield running
    running.stop()


@pytest.fixture
def bridge(shared_bridge: Bridge) -> Bridge:
    """The module's bridge (started once: about a second each), with no session left over."""
    assert shared_bridge.proc.poll() is None, "the bridge died in an earlier test"
    wait_until(lambda: children_of(shared_bridge.proc.pid) == set(),
               what="the sessions of an earlier test gone")
    return shared_bridge


def terminal_for(port: int, key: str = KEY, timeout: str = "2s") -> WorkerTerminal:
    config = parse_config({"accounts": [{"name": "live", "symbols": ["EURUSD"], "terminal": {
        "kind": "bridge", "port": port, "key": "${KEY}", "password": "${PW}", "login": 5001,
        "server": "MetaQuotes-Demo", "timeout": timeout, "insecure_plaintext_loopback": True}}]},
        environ={"KEY": key, "PW": "pw"})
    terminal = make_terminal(config.accounts[0].terminal, SystemClock())
    assert isinstance(terminal, WorkerTerminal)
    return terminal


def test_calls_go_through_the_bridge_each_session_in_its_own_child(bridge: Bridge) -> None:
    one, two = terminal_for(bridge.port), terminal_for(bridge.port)
    for terminal in (one, two):
        terminal.start()
        assert terminal.initialize(login=5001, password="pw", server="MetaQuotes-Demo")
        assert terminal.symbol_select("EURUSD", True)
        assert isinstance(terminal.symbol_info_tick("EURUSD"), Tick)
    assert len(workers_of(bridge.proc.pid)) == 2  # one worker per client session
    one.close()
    wait_until(lambda: len(workers_of(bridge.proc.pid)) == 1, what="the closed session's child gone")
    assert two.account_info() is not None
    two.close()


def test_a_wrong_key_is_refused(bridge: Bridge) -> None:
    terminal = terminal_for(bridge.port, key="not-the-key-but-long-enough-0123456789abcdef")
    with pytest.raises(MT5ConnectionError, match=r"refused terminal\.key") as refused:
        terminal.start()
    assert refused.value.retryable is False  # a configuration fault, not an outage
    assert "MT5GUARD_BRIDGE_KEY" in str(refused.value) and "not-the-key-but" not in str(refused.value)
    assert children_of(bridge.proc.pid) == set()


def test_a_hung_remote_call_makes_the_server_kill_that_sessions_child_only(bridge: Bridge) -> None:
    # A 20 s call timeout: the 0.3 s deadline below, not it, must end the hung call.
    slow, fine = terminal_for(bridge.port, timeout="20s"), terminal_for(bridge.port, timeout="20s")
    for terminal in (slow, fine):
        terminal.start()
        assert terminal.initialize(login=5001, password="pw", server="MetaQuotes-Demo")
    children = workers_of(bridge.proc.pid)
    assert len(children) == 2
    os.kill(max(children), 19)  # SIGSTOP the newest child: the `fine` session's worker
    fine.set_deadline(time.monotonic() + 0.3)
    started = time.monotonic()
    assert fine.account_info() is None
    assert time.monotonic() - started < 5.0  # at the deadline (a loaded machine may be late)
    assert fine.last_error()[0] == -10005 and fine.lost is not None
    wait_until(lambda: workers_of(bridge.proc.pid) == {min(children)},
               what="the bridge killed the hung session's child")
    assert slow.account_info() is not None  # the other session never noticed

    # reconnect on EOF: initialize opens a new bridge session in place
    fine.set_deadline(None)
    assert fine.initialize(login=5001, password="pw", server="MetaQuotes-Demo")
    assert fine.lost is None and fine.account_info() is not None
    slow.close()
    fine.close()


def test_pushed_quote_rounds_are_relayed_between_requests(bridge: Bridge) -> None:
    terminal = terminal_for(bridge.port)
    terminal.start()
    try:
        assert terminal.initialize(login=5001, password="pw", server="MetaQuotes-Demo")
        assert terminal.watch(["EURUSD"], 0.02) is not None
        rounds: list[object] = []
        wait_until(lambda: len(rounds.__iadd__(terminal.take_pushed())) >= 5,
                   what="rounds pushed through the bridge")
        assert terminal.requests == 2  # initialize and watch: the bridge relayed them unasked
        assert terminal.account_info() is not None  # a request among pushes gets its reply
        assert terminal.watch([], 0.02) is not None  # no round is pushed after its reply
        wait_for_quote_changes(terminal, wall_ms())  # the window measured, by this worker
        assert terminal.take_pushed() == []
    finally:
        terminal.close()


def test_the_server_side_needs_only_the_standard_library(tmp_path: Path) -> None:
    server = Path(__file__).resolve().parents[2] / "mt5guard" / "terminal" / "bridge" / "server.py"
    # -I: no site-packages, no cwd on sys.path: pykka, attrs, yaml and mt5guard are unreachable
    child = subprocess.Popen([sys.executable, "-I", str(server), "--child"], cwd=tmp_path,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(f"{'ab' * 32}\n{json.dumps({'backend': 'metatrader5'})}\n")
    child.stdin.flush()
    listening = json.loads(child.stdout.readline())  # it got as far as listening
    assert listening["family"] in ("AF_UNIX", "AF_PIPE")
    child.stdin.close()  # its parent "disappears": it exits by itself
    assert child.wait(timeout=5) == 0
    child.stdout.close()
    help_text = subprocess.run([sys.executable, "-I", str(server), "--help"], cwd=tmp_path,
                               capture_output=True, text=True, timeout=10)
    assert help_text.returncode == 0 and "--listen" in help_text.stdout
    certs = make_certificates(str(tmp_path / "certs"))
    bridge = subprocess.Popen([sys.executable, "-I", str(server), "--listen", "127.0.0.1:0",
                               "--tls", certs[0]],
                              cwd=tmp_path, env={**os.environ, "MT5GUARD_BRIDGE_KEY": KEY},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert bridge.stdout is not None
        line = bridge.stdout.readline()
        assert "listening on 127.0.0.1:" in line  # the bridge half too
        link = BridgeLink("127.0.0.1", int(line.rsplit(":", 1)[1]), KEY.encode(), 5.0,
                          tls_client(certs[1]))  # TLS, the key handshake, a relay: stdlib only
        link.conn.send_bytes(b'["call",1,0,5,"ping",[],{}]')
        tag, ident, text = json.loads(link.conn.recv_bytes())
        assert (tag, ident) == ("lost", 1) and "MetaTrader5" in text  # spawned; no wheel here
        link.close()
    finally:
        bridge.kill()
        bridge.wait(5)
        assert bridge.stdout is not None and bridge.stderr is not None
        bridge.stdout.close()
        assert "Traceback" not in bridge.stderr.read()
        bridge.stderr.close()


def test_a_client_that_fails_the_key_challenge_is_cut_off_and_gets_no_worker(bridge: Bridge) -> None:
    """A client that knows the key's id (it travels in clear) but not the key, and sends a
    wrong proof, is disconnected at once: no worker, no call served."""
    import socket

    from mt5guard.terminal.bridge import _channel

    sock = socket.create_connection(("127.0.0.1", bridge.port), timeout=5)
    try:
        nonce = os.urandom(_channel.NONCE)
        sock.sendall(_channel.MAGIC + _channel.key_id(KEY.encode()) + nonce)
        answer = _channel.read_exact(sock, 2 * _channel.NONCE, time.monotonic() + 5)
        assert answer != _channel.UNKNOWN_KEY  # the bridge proved itself
        proof = _channel.client_proof(KEY.encode(), nonce, answer[:_channel.NONCE])
        sock.sendall(bytes(len(proof)))  # a wrong proof, and carry on as if it were right
        sock.sendall(b'["call",1,0,5,"account_info",[],{}]')
        assert sock.recv(4096) == b"", "the bridge kept a client that failed its key proof"
        assert children_of(bridge.proc.pid) == set()
    finally:
        sock.close()


def test_a_client_of_another_wire_protocol_is_told_the_bridges_and_gets_no_worker(
        bridge: Bridge) -> None:
    """A hello with our magic but another protocol byte is answered with the bridge's own
    protocol, then cut off: the client can name both versions instead of a bare close."""
    import socket

    from mt5guard.terminal.bridge import _channel

    sock = socket.create_connection(("127.0.0.1", bridge.port), timeout=5)
    try:
        other = _channel.MAGIC[:-1] + bytes([_channel.MAGIC[-1] - 1])
        sock.sendall(other + _channel.key_id(KEY.encode()) + os.urandom(_channel.NONCE))
        answer = _channel.read_exact(sock, 2 * _channel.NONCE, time.monotonic() + 5)
        assert answer == _channel.OTHER_PROTOCOL and answer[-1] == _channel.MAGIC[-1]
        assert sock.recv(4096) == b"", "the bridge kept a client of another protocol"
        assert children_of(bridge.proc.pid) == set()
    finally:
        sock.close()


def test_a_newer_client_names_both_protocols_and_is_not_retried(
        bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
    from mt5guard.terminal.bridge import _channel

    theirs = _channel.MAGIC[-1]
    monkeypatch.setattr(_channel, "MAGIC", _channel.MAGIC[:-1] + bytes([theirs + 1]))
    terminal = terminal_for(bridge.port)
    with pytest.raises(MT5ConnectionError) as refused:
        terminal.start()
    assert refused.value.retryable is False  # another version there: no retry mends it
    assert f"the bridge speaks wire protocol {theirs}, this client {theirs + 1}" in str(
        refused.value)
    assert KEY not in str(refused.value)
    assert children_of(bridge.proc.pid) == set()


@pytest.mark.parametrize("reads", [len(b"MT5G\x04") + 8 + 32, len(b"MT5G\x04")],
                         ids=["whole hello read (FIN)", "magic only read (RST)"])
def test_a_bridge_that_closes_at_the_hello_is_named_as_possibly_older(reads: int) -> None:
    """A bridge of protocol 3 or before closes the connection at a newer magic byte: the
    client says so (a generic close would send the operator hunting for a network fault)."""
    import socket
    import threading

    from mt5guard.terminal.bridge import _channel

    server = socket.create_server(("127.0.0.1", 0))
    got: list[bytes] = []

    def old_bridge() -> None:
        conn, _ = server.accept()
        with conn:
            got.append(_channel.read_exact(conn, reads, time.monotonic() + 5))  # then closes

    helper = threading.Thread(target=old_bridge, daemon=True)
    helper.start()
    sock = socket.create_connection(server.getsockname(), timeout=5)
    try:
        with pytest.raises(_channel.HandshakeError, match=r"closed the connection during the "
                           r"handshake \(a bridge of an older mt5guard, wire protocol \d+ or "
                           r"before, closes it at our hello"):
            _channel.client_handshake(sock, KEY.encode(), time.monotonic() + 5)
    finally:
        sock.close()
        helper.join(5)
        server.close()
    assert got and got[0].startswith(b"MT5G")
