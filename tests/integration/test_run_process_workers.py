"""run.py with process-isolated terminals: a real hang of one worker, then SIGTERM."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest
from process_kit import RunPy, default_config, write_config
from worker_kit import alive, gone, state, wait_until, workers_of, zygotes_of

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
        wait_until(lambda: len(workers_of(run.proc.pid)) == 2, what="two workers")
        first = workers_of(run.proc.pid)
        victim = min(first)
        os.kill(victim, signal.SIGSTOP)  # a real hang of one account's terminal
        wait_until(lambda: not alive(victim), timeout=5.0, what="the hung worker killed")
        run.wait_for(r"child session failed: SessionLost: terminal worker killed after its deadline")
        wait_until(lambda: len(workers_of(run.proc.pid) - first) == 1, timeout=5.0,
                   what="a new worker for the hung account")
        body = run.poll_json("/readyz", lambda s, b: serving(s, b, "demo") and serving(s, b, "demo2"))
        assert body["ready"] is True
        run.signal(signal.SIGTERM)
        assert run.exit_status(timeout=SHUTDOWN_TIMEOUT + 4) == 0
    assert "Traceback" not in run.output


def test_sigterm_with_hung_workers_abandons_them_after_the_shutdown_timeout_and_exits(
    tmp_path: Path,
) -> None:
    """The guarantee, read from what the process reports rather than from a stopwatch: each
    hung session is waited for at most ``shutdown_timeout``, then abandoned with its worker
    killed, and only then does the tree stop and the process exit 0 "stopped cleanly".
    (The wait is until a shutdown deadline shared by an account's children, so the
    reported wait is at most the timeout, a little less after its siblings stopped.)"""
    quiet = {"interval": "1h", "timeout": "30s"}  # no probe in flight: the stop itself hangs
    with RunPy(isolated_config(tmp_path, quiet)) as run:
        run.poll_json("/readyz", lambda s, b: serving(s, b, "demo") and serving(s, b, "demo2"))
        workers = workers_of(run.proc.pid)
        for pid in workers:  # both terminals hang: the session's shutdown() never returns
            os.kill(pid, signal.SIGSTOP)
        wait_until(lambda: all(state(pid) == "T" for pid in workers), what="workers stopped")
        run.signal(signal.SIGTERM)
        assert run.exit_status(timeout=30) == 0  # 30 s: a hang detector, not a margin
        gone(workers)
        run.wait_for("stopped cleanly")  # the output read to its end
    lines = run.output.splitlines()
    abandoned = [(n, re.search(r"supervisor account:(\w+): child session did not stop within "
                               r"([0-9.]+) s: abandoned; its terminal worker killed", line))
                 for n, line in enumerate(lines)]
    abandoned = [(n, m) for n, m in abandoned if m is not None]
    assert sorted(m.group(1) for _, m in abandoned) == ["demo", "demo2"], run.output
    assert all(0 < float(m.group(2)) <= SHUTDOWN_TIMEOUT for _, m in abandoned)
    root_stopped = next(n for n, line in enumerate(lines) if "supervisor root: stopped" in line)
    clean = next(n for n, line in enumerate(lines) if "stopped cleanly" in line)
    assert max(n for n, _ in abandoned) < root_stopped < clean
    assert "Traceback" not in run.output


def test_kill_9_of_mt5guard_takes_its_workers_along_within_2_s(tmp_path: Path) -> None:
    with RunPy(isolated_config(tmp_path)) as run:
        run.poll_json("/readyz", lambda s, b: serving(s, b, "demo") and serving(s, b, "demo2"))
        workers = workers_of(run.proc.pid)
        zygote = zygotes_of(run.proc.pid)
        assert len(workers) == 2 and len(zygote) == 1  # both forked by the zygote (Linux)
        run.signal(signal.SIGKILL)
        run.exit_status(timeout=5)
        gone(workers | zygote, timeout=2.0)
