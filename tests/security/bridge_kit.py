"""Real bridges and real workers for the attack tests: subprocesses on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mt5guard.clock import SystemClock
from mt5guard.config import parse_config
from mt5guard.terminal import make_terminal
from mt5guard.terminal.worker import WorkerTerminal

KEY = "9f2c71e04ab85d3316c0e9b7a24f58d1c6e03b9a7d41f2e8"
OTHER_KEY = "4e1a9c07d35b82f6e0c4a19d7b3f52e8a6c1d09f3b7e24a5"
PASSWORD = "the-account-password-41f3c9"
SIM = {"login": 5001, "server": "MetaQuotes-Demo", "password": PASSWORD}
WORKER_SPEC = {"backend": "simulated", "login": 5001, "server": "MetaQuotes-Demo",
               "password": PASSWORD}
SERVER = Path(__file__).resolve().parents[2] / "mt5guard" / "terminal" / "bridge" / "server.py"

#: Script text for a child that runs a bare ``Gate`` at a low descriptor limit: its imports,
#: the limit, a listener as the bridge makes it, the key from argv[1], and a session that greets
#: as the bridge does and echoes every frame. The script goes on to build its gate.
GATE_CHILD = """
import json, os, resource, socket, sys
from mt5guard.terminal.bridge import _channel
from mt5guard.terminal.bridge._gate import PROTOCOL, Gate, listen

resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
key = sys.argv[1].encode()
listener = listen("127.0.0.1", 0)  # as the bridge listens

def session(sock):
    conn = _channel.Framed(sock, _channel.REQUEST_CAP)
    conn.send_bytes(json.dumps(["hello", {"protocol": PROTOCOL}]).encode())
    try:
        while True:
            conn.send_bytes(conn.recv_bytes())
    except (EOFError, OSError):
        conn.close()
"""


class Bridge:
    """``server.py --listen 127.0.0.1:0`` as a real process (plaintext or TLS)."""

    def __init__(self, *extra: str, tls: Path | None = None, nofile: int | None = None,
                 key: str = KEY, env: dict[str, str] | None = None) -> None:
        mode = ["--tls", str(tls)] if tls is not None else ["--insecure-plaintext-loopback"]
        command = [sys.executable, "-m", "mt5guard.terminal.bridge.server", "--listen",
                   "127.0.0.1:0", *mode, "--backend", "simulated", "--simulated",
                   json.dumps(SIM), *extra]
        limit = None
        if nofile is not None:
            def limit() -> None:
                import resource

                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen(
            command, env={**os.environ, "MT5GUARD_BRIDGE_KEY": key, "PYTHONUNBUFFERED": "1",
                          **(env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "listening on 127.0.0.1:" not in line:
            self.stop()
            raise AssertionError(f"the bridge did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> str:
        """Kill it; its stderr (tracebacks would show there)."""
        self.proc.kill()
        self.proc.wait(5)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.proc.stdout.close()
        err = self.proc.stderr.read()
        self.proc.stderr.close()
        return err


def bridge_terminal(port: int, *, key: str = KEY, tls: Path | None = None,
                    timeout: str = "2s") -> WorkerTerminal:
    """A kind: bridge terminal as the config builds it."""
    terminal: dict[str, Any] = {
        "kind": "bridge", "port": port, "key": "${KEY}", "password": "${PW}", "login": 5001,
        "server": "MetaQuotes-Demo", "timeout": timeout}
    if tls is None:
        terminal["insecure_plaintext_loopback"] = True
    else:
        terminal["tls"] = str(tls)
    config = parse_config({"accounts": [{"name": "live", "symbols": ["EURUSD"],
                                         "terminal": terminal}]},
                          environ={"KEY": key, "PW": PASSWORD})
    made = make_terminal(config.accounts[0].terminal, SystemClock())
    assert isinstance(made, WorkerTerminal)
    return made


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def within(seconds: float, started: float) -> bool:
    return time.monotonic() - started < seconds
