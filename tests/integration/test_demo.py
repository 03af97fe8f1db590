"""`make demo` tells the whole story in its log (run here 10 times faster than the demo)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_shows_the_breaker_cycle_the_backoff_and_the_recovery() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mt5guard.cli.demo", "--speed", "450"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    log = result.stderr + result.stdout
    for line in (
        "account demo: breaker closed -> open",
        "account demo: breaker open -> half-open",
        "account demo: breaker half-open -> open (trial call failed",
        "account demo: breaker half-open -> closed (trial call succeeded)",
        "restart of session, health in 60 s (attempt 1",
        "restart of session, health in 120 s (attempt 2",
        "restart of session, health in 240 s (attempt 3",
        "demo over: account demo recovered by itself",
    ):
        assert line in log, line
    after_return = log.split("the terminal of account demo is running again")[1]
    assert "account demo: connected (login 5001" in after_return
    assert "Traceback" not in log
