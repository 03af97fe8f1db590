"""A fake bridge with no key, or a relay in the middle, learns nothing.

Before: the client answered the server's challenge before the server had
proven anything, and one challenge-response served both directions, so a
fake bridge could reflect the client's own challenge to a second connection
of the same client, be welcomed, and read the login request. Now the bridge
proves the key first, with a label the client never signs, and the link is
TLS with both certificates pinned.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_kit import KEY, PASSWORD, Bridge, bridge_terminal

from mt5guard.errors import MT5ConnectionError
from mt5guard.terminal import Tick
from mt5guard.terminal.bridge import _channel
from mt5guard.terminal.bridge.certs import make_certificates

pytestmark = pytest.mark.subprocess


class FakeBridge:
    """Listens on loopback, knows no key; records every byte each client sent it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received: list[bytearray] = []
        self.conns: list[socket.socket] = []

    def accept(self) -> int:
        conn, _ = self.server.accept()
        self.conns.append(conn)
        self.received.append(bytearray())
        return len(self.conns) - 1

    def read(self, index: int, count: int, timeout: float = 2.0) -> bytes:
        conn = self.conns[index]
        conn.settimeout(timeout)
        data = b""
        while len(data) < count:
            chunk = conn.recv(count - len(data))
            if not chunk:
                break
            data += chunk
        self.received[index] += data
        return data

    def drain(self, index: int) -> None:
        """Everything else the client sends until it hangs up."""
        conn = self.conns[index]
        conn.settimeout(2.0)
        while chunk := conn.recv(65536):
            self.received[index] += chunk

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.server.close()


def _start(port: int, failures: list[BaseException]) -> threading.Thread:
    def run() -> None:
        terminal = bridge_terminal(port)
        try:
            terminal.start()
            terminal.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
        except BaseException as exc:
            failures.append(exc)
        finally:
            terminal.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_reflecting_the_clients_challenge_to_its_second_connection_gets_nothing() -> None:
    fake = FakeBridge()
    failures: list[BaseException] = []
    try:
        first = _start(fake.port, failures)
        one = fake.accept()
        hello_one = fake.read(one, _channel.CLIENT_HELLO)
        second = _start(fake.port, failures)  # the same client connects again
        two = fake.accept()
        hello_two = fake.read(two, _channel.CLIENT_HELLO)
        nonce_one, nonce_two = hello_one[-32:], hello_two[-32:]
        # All a keyless bridge can do: hand each connection the other's nonce as its own
        # "server nonce", and whatever the client said as the "proof".
        fake.conns[two].sendall(nonce_one + hello_one[-32:])
        fake.conns[one].sendall(nonce_two + hello_two[-32:])
        fake.drain(one)
        fake.drain(two)
        first.join(5)
        second.join(5)
    finally:
        fake.close()
    assert len(failures) == 2
    assert all(isinstance(f, MT5ConnectionError) and "did not prove the key" in str(f)
               for f in failures)
    # Each client sent its hello and nothing else: no proof to replay, no login, no password.
    assert [len(r) for r in fake.received] == [_channel.CLIENT_HELLO] * 2


def test_a_fake_bridge_speaking_the_old_challenge_is_refused_before_the_client_answers() -> None:
    fake = FakeBridge()
    failures: list[BaseException] = []
    try:
        client = _start(fake.port, failures)
        index = fake.accept()
        challenge = b"#CHALLENGE#" + b"x" * 49  # what multiprocessing's deliver_challenge sends
        fake.conns[index].sendall(struct.pack("!i", len(challenge)) + challenge)  # 64 bytes
        fake.drain(index)
        client.join(5)
    finally:
        fake.close()
    assert len(failures) == 1 and isinstance(failures[0], MT5ConnectionError)
    assert len(fake.received[0]) == _channel.CLIENT_HELLO  # only the hello, never an answer


class Relay:
    """A man in the middle: relays bytes both ways and keeps a copy of all of them."""

    def __init__(self, target: int) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.target = target
        self.seen = bytearray()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        client, _ = self.server.accept()
        upstream = socket.create_connection(("127.0.0.1", self.target))

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while chunk := src.recv(65536):
                    self.seen.extend(chunk)
                    dst.sendall(chunk)
            except OSError:
                pass
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join(5)
        client.close()
        upstream.close()

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


@pytest.fixture
def certs(tmp_path: Path) -> tuple[Path, Path]:
    bridge, client = make_certificates(str(tmp_path / "certs"))
    return Path(bridge), Path(client)


@pytest.fixture
def tls_bridge(certs: tuple[Path, Path]) -> Iterator[Bridge]:
    running = Bridge(tls=certs[0])
    yield running
    assert "Traceback" not in running.stop()


def test_a_relay_between_the_client_and_the_real_bridge_sees_only_ciphertext(
        tls_bridge: Bridge, certs: tuple[Path, Path]) -> None:
    relay = Relay(tls_bridge.port)
    terminal = bridge_terminal(relay.port, tls=certs[1])
    try:
        terminal.start()
        assert terminal.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
        assert terminal.symbol_select("EURUSD", True)
        assert isinstance(terminal.symbol_info_tick("EURUSD"), Tick)
    finally:
        terminal.close()
        relay.close()
    assert len(relay.seen) > 1000  # it saw the whole session go by...
    for secret in (PASSWORD.encode(), b"initialize", b"EURUSD", KEY.encode()):
        assert secret not in relay.seen  # ...and none of it in the clear


def test_each_side_refuses_a_certificate_it_did_not_pin(
        tls_bridge: Bridge, certs: tuple[Path, Path], tmp_path: Path) -> None:
    _, stranger = make_certificates(str(tmp_path / "other"))  # another CA, another pair
    intruder = bridge_terminal(tls_bridge.port, tls=Path(stranger))
    with pytest.raises(MT5ConnectionError, match="did not start"):
        intruder.start()  # the bridge refuses its client certificate
    fake = Bridge(tls=Path(stranger).parent / "bridge")  # a bridge with the right key, wrong cert
    try:
        honest = bridge_terminal(fake.port, tls=certs[1])
        started = time.monotonic()
        with pytest.raises(MT5ConnectionError, match="did not start"):
            honest.start()  # the client refuses the bridge's certificate
        assert time.monotonic() - started < 5.0  # at once, not at the 10 s connect timeout
    finally:
        assert "Traceback" not in fake.stop()
    good = bridge_terminal(tls_bridge.port, tls=certs[1])
    try:
        good.start()
        assert good.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
    finally:
        good.close()


def test_a_plaintext_bridge_refuses_to_listen_beyond_loopback() -> None:
    import subprocess
    import sys

    refused = subprocess.run(
        [sys.executable, "-m", "mt5guard.terminal.bridge.server", "--listen", "0.0.0.0:0",
         "--insecure-plaintext-loopback", "--backend", "simulated"],
        env={"MT5GUARD_BRIDGE_KEY": KEY, "PATH": "/usr/bin:/bin"}, capture_output=True,
        text=True, timeout=20)
    assert refused.returncode == 2 and "plaintext only on a loopback address" in refused.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "mt5guard.terminal.bridge.server", "--listen", "127.0.0.1:0",
         "--backend", "simulated"],
        env={"MT5GUARD_BRIDGE_KEY": KEY, "PATH": "/usr/bin:/bin"}, capture_output=True,
        text=True, timeout=20)
    assert missing.returncode == 2 and "--tls DIR" in missing.stderr
