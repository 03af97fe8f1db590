"""run.py as a real process when things go wrong: a crash in run.py itself, a
port already taken, a SIGTERM while the accounts are still connecting."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

from process_kit import RunPy, default_config, process_env, write_config

CRASHING_STATUS_LINE = """
import sys
import mt5guard.cli as cli

def status_line(name, row):
    raise RuntimeError("status line broke")

cli.status_line = status_line
sys.exit(cli.main(["--config", sys.argv[1]]))
"""


def test_an_exception_in_run_py_stops_the_tree_and_exits_non_zero(tmp_path: Path) -> None:
    config = write_config(tmp_path / "crash.yaml", default_config())
    proc = subprocess.run([sys.executable, "-c", CRASHING_STATUS_LINE, str(config)], cwd=tmp_path,
                          env=process_env(), capture_output=True, text=True, timeout=30,
                          check=False)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "mt5guard crashed" in proc.stderr and "status line broke" in proc.stderr
    assert "stopped cleanly" not in proc.stderr


def test_a_port_in_use_is_noticed_before_any_account_connects(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        data = default_config()
        data["observability"]["http"]["port"] = taken.getsockname()[1]
        with RunPy(write_config(tmp_path / "taken.yaml", data)) as run:
            assert run.exit_status(timeout=10) == 2
    assert "cannot bind the health endpoint" in run.output
    assert "connected (login" not in run.output


def test_sigterm_while_accounts_are_still_connecting_exits_promptly(tmp_path: Path) -> None:
    """Each simulated call takes 5 s, so connecting takes 15 s (initialize + 2 symbols)."""
    data = default_config(supervision={"shutdown_timeout": "200ms"})
    for account in data["accounts"]:
        account["terminal"]["call_latency"] = "5s"
    with RunPy(write_config(tmp_path / "slow.yaml", data)) as run:
        run.wait_for("mt5guard started", timeout=10)
        run.proc.send_signal(signal.SIGTERM)
        assert run.exit_status(timeout=8) == 0  # well before the 15 s connects could end
    assert "connected (login" not in run.output
