"""Out of descriptors, the bridge's gate never trades an honest handshake for an unknown peer.

A bridge at its descriptor limit meets EMFILE in ``accept()``. It may close a
pending connection to make room, but only one that has shown nothing it
recognises: a client that has shown a key id the bridge holds keeps its
place, and accepting pauses until its handshake is done.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from bridge_kit import GATE_CHILD, KEY

from mt5guard.terminal.bridge import _channel

pytestmark = pytest.mark.subprocess

ONE_LEFT = GATE_CHILD + """
class Told(Gate):
    # says what each eviction for a descriptor did: the standings pending before and after
    def _evict(self, *, for_descriptor=False):
        before = sorted(p.standing for p in self._pending.values())
        done = super()._evict(for_descriptor=for_descriptor)
        if for_descriptor:
            after = sorted(p.standing for p in self._pending.values())
            print(json.dumps([before, after]), flush=True)
        return done

gate = Told(listener, {_channel.key_id(key): key}, session)
hog = []
try:
    while True:  # every descriptor but one taken: the pending handshake holds the last
        hog.append(os.open(os.devnull, os.O_RDONLY))
except OSError:
    os.close(hog[-1])
print(listener.getsockname()[1], flush=True)
gate.serve_forever()
"""


@pytest.fixture
def gate() -> Iterator[tuple[subprocess.Popen[str], int]]:
    process = subprocess.Popen([sys.executable, "-c", ONE_LEFT, KEY], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        yield process, int(process.stdout.readline())
    finally:
        process.kill()
        process.wait(5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _line(process: subprocess.Popen[str], within: float = 10.0) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], within)
    assert ready, "the gate said nothing"
    return process.stdout.readline()


def test_a_client_that_showed_our_key_id_keeps_its_place_when_accept_runs_out(
        gate: tuple[subprocess.Popen[str], int]) -> None:
    process, port = gate
    key = KEY.encode()
    deadline = time.monotonic() + 10.0
    honest = socket.create_connection(("127.0.0.1", port), timeout=10.0)
    nonce = os.urandom(_channel.NONCE)
    honest.sendall(_channel.MAGIC + _channel.key_id(key) + nonce)
    answer = _channel.read_exact(honest, 2 * _channel.NONCE, deadline)  # it holds our key id
    server_nonce = answer[:_channel.NONCE]
    # A stranger's byte reaches accept(), which has no descriptor left for it.
    stranger = socket.create_connection(("127.0.0.1", port), timeout=10.0)
    try:
        stranger.sendall(b"M")
        before, after = json.loads(_line(process))
        assert before == [2] and after == [2], "the honest handshake was closed for a stranger"
        honest.sendall(_channel.client_proof(key, nonce, server_nonce))
        conn = _channel.Framed(honest, _channel.REPLY_CAP)
        assert json.loads(conn.recv_bytes()) == ["hello", {"protocol": 4}]
        conn.send_bytes(b"ping")
        assert conn.recv_bytes() == b"ping"
        conn.close()
    finally:
        stranger.close()
    assert process.poll() is None
