"""Section 10: the bridge over mutual TLS against plaintext (issue 19).

Run alone: ``python bench/_bridge_tls.py`` prints one JSON object on stdout
(progress on stderr). Two real bridges on loopback (one ``--tls``, one
``--insecure-plaintext-loopback``), each with a simulated terminal. Per
round and per mode: ``CONNECTS`` session opens (TCP, TLS with both
certificates checked and pinned, the key handshake, the greeting) and
``CALLS`` bare ``ping`` round trips through the bridge to the session's
worker and back. Rounds alternate the order; medians of the per-round
TLS/plaintext ratio.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _stats import median, rounds, time_calls

from mt5guard.terminal.bridge.certs import make_certificates
from mt5guard.terminal.worker.links import BridgeLink, tls_client
from mt5guard.terminal.worker.wire import encode_request

ROUNDS = 7
CONNECTS = 40
CALLS = 1000
KEY = os.urandom(24).hex()


def _bridge(*mode: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mt5guard.terminal.bridge.server", "--listen", "127.0.0.1:0",
         *mode, "--backend", "simulated", "--simulated",
         json.dumps({"login": 5001, "server": "MetaQuotes-Demo"})],
        env={**os.environ, "MT5GUARD_BRIDGE_KEY": KEY}, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline().rsplit(":", 1)[1])


def main() -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="mt5guard-bench-"))
    bridge_side, client_side = make_certificates(str(folder))
    tls = tls_client(client_side)
    secure, secure_port = _bridge("--tls", bridge_side)
    plain, plain_port = _bridge("--insecure-plaintext-loopback")
    ping = encode_request(1, 0.0, 60.0, "ping", (None,), {})

    def opened(port: int, side: Any) -> BridgeLink:
        return BridgeLink("127.0.0.1", port, KEY.encode(), 10.0, side)

    sessions = {"tls": opened(secure_port, tls), "plaintext": opened(plain_port, None)}
    for link in sessions.values():  # the first request spawns the session's worker
        link.conn.send_bytes(ping)
        link.conn.recv_bytes()

    def connect(port: int, side: Any) -> None:
        opened(port, side).close()

    def call(link: BridgeLink) -> None:
        link.conn.send_bytes(ping)
        link.conn.recv_bytes()

    variants = {
        "connect, TLS": lambda: time_calls(lambda: connect(secure_port, tls), CONNECTS),
        "connect, plaintext": lambda: time_calls(lambda: connect(plain_port, None), CONNECTS),
        "call, TLS": lambda: time_calls(lambda: call(sessions["tls"]), CALLS),
        "call, plaintext": lambda: time_calls(lambda: call(sessions["plaintext"]), CALLS),
    }
    started = time.perf_counter()
    samples = rounds(variants, ROUNDS, "bridge/tls")
    rows = {name: {"p50_us": median([s.p50_us for s in runs]),
                   "p99_us": median([s.p99_us for s in runs])} for name, runs in samples.items()}
    ratios = {
        what: median([t.p50_us / p.p50_us for t, p in zip(samples[f"{what}, TLS"],
                                                          samples[f"{what}, plaintext"],
                                                          strict=True)])
        for what in ("connect", "call")
    }
    for link in sessions.values():
        link.close()
    for proc in (secure, plain):
        proc.kill()
        proc.wait(5)
        assert proc.stdout is not None
        proc.stdout.close()
    return {"rounds": ROUNDS, "connects_per_round": CONNECTS, "calls_per_round": CALLS,
            "rows": rows, "tls_over_plaintext_p50": ratios,
            "duration_s": time.perf_counter() - started}


if __name__ == "__main__":
    print(json.dumps(main()))
