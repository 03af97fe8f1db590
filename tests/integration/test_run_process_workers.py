"""run.py with process-isolated terminals: a real hang of one worker, then SIGTERM."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from process_kit import RunPy, default_config, write_config
from worker_kit import alive, children_of, gone, state, wait_until

pytestmark = pytest.mark.subprocess

SHUTDOWN_TIMEOUT = 1.0


def isolated_config(tmp_path: Path, health: dict[str, str] | None = None) -> Path:
    data = default_config(
        supervision={"backoff": {"initial": "50ms", "maximum": "100ms"},
                     "shutdown_timeout": f"{SHUTDOWN_TIMEOUT}s"},
        # A simulated worker's first quote builds its price history (numpy: ~0.3 s here).
        health=health or {"interval": "1s", "timeout": "800ms", "startup_grace": "0s"},
    )
    for account in data["accounts"]:
        account["terminal"]["isolation"] = "process"
    return write_config(tmp_path / "workers.yaml", data)


def serving(status: int, body: Any, account: str) -> bool:
    return body.get("accounts", {}).get(account, {}).get("status") == "SERVING"


def test_a_stopped_worker_is_killed_and_replaced_and_the_other_account_keeps_serving(
    tmp_path: Path,
) -> None:
    with RunPy(isolated_config(tmp_path)) as run:
        run.poll_json("/readyz", lambda s, b: serving(s, b, "demo") and serving(s, b, "demo2"))
        wait_until(lambda: len(children_of(run.proc.pid)) == 2, what="two workers")
        first = children_of(run.proc.pid)
        victim = min(first)
        os.kill(victim, signal.SIGSTOP)  # a real hang of one account's terminal
        wait_until(lambda: not alive(victim), timeout=5.0, what="the hung worker killed")
        run.wait_for(r"child session failed: SessionLost: terminal worker killed after its deadline")
        wait_until(lambda: len(children_of(run.proc.pid) - first) == 1, timeout=5.0,
                   what="a new worker for the hung account")
        body = run.poll_json("/readyz", lambda s, b: serving(s, b, "demo") and serving(s, b, "demo2"))
        assert body["ready"] is True
        run.signal(signal.SIGTERM)
        assert run.exit_status(timeout=SHUTDOWN_TIMEOUT + 4) == 0
    assert "Traceback" not in run.output


def test_sigterm_with_a_hung_worker_exits_within_the_shutdown_timeout_plus_1_s(
    tmp_path: Path,
) -> None:
    quiet = {"interval": "1h", "timeout": "30s"}  # no probe in flight: the stop itself hangs
    with RunPy(isolated_config(tmp_path, quiet)) as run:
        run.poll_json("/readyz", lambda s, b: serving(s, b, "demo") and serving(s, b, "demo2"))
        workers = children_of(run.proc.pid)
        for pid in workers:  # both terminals hang: the session's shutdown() never returns
            os.kill(pid, signal.SIGSTOP)
        wait_until(lambda: all(state(pid) == "T" for pid in workers), what="workers stopped")
        started = time.monotonic()
        run.signal(signal.SIGTERM)
        assert run.exit_status(timeout=SHUTDOWN_TIMEOUT + 4) == 0
        assert time.monotonic() - started < SHUTDOWN_TIMEOUT + 1.0
        gone(workers)
        run.wait_for(r"child session did not stop within 1 s: abandoned")
        run.wait_for("stopped cleanly")
    assert "Traceback" not in run.output


def test_kill_9_of_mt5guard_takes_its_workers_along_within_2_s(tmp_path: Path) -> None:
    with RunPy(isolated_config(tmp_path)) as run:
        run.poll_json("/readyz", lambda s, b: serving(s, b, "demo") and serving(s, b, "demo2"))
        workers = children_of(run.proc.pid)
        assert len(workers) == 2
        run.signal(signal.SIGKILL)
        run.exit_status(timeout=5)
        gone(workers, timeout=2.0)
