"""`make demo` tells the whole story in its log.

The story runs on simulated time (``mt5guard demo --simulated``, the test kit's
deterministic runtime): the same tree, story and log lines as ``make demo``, and no
wall-clock race. At 45x or 450x real time a loaded machine could fall behind the
story and fail the run (it did, at 450x). The accelerated clock that ``make demo``
uses instead is checked on its own below.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mt5guard.cli import demo
from mt5guard.clock import SystemClock

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_shows_the_breaker_cycle_the_backoff_and_the_recovery() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mt5guard", "demo", "--simulated"],
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
    # demo2 stays healthy through demo's outage.
    assert "demo t=900s: status demo2: SERVING breaker=closed connected=yes" in log
    assert "Traceback" not in log


def test_a_story_cut_short_says_the_account_has_not_recovered() -> None:
    # The demo's verdict can fail: stopped inside the outage, the account is still down.
    assert demo.main(["--simulated", "--until", "700"]) == 1


def test_make_demos_clock_runs_speed_times_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    real = [1000.0]
    monkeypatch.setattr(demo.time, "monotonic", lambda: real[0])
    delays: list[float] = []
    slept: list[float] = []
    monkeypatch.setattr(SystemClock, "call_later",
                        lambda _self, delay, _cb: delays.append(delay))
    monkeypatch.setattr(SystemClock, "sleep", lambda _self, seconds: slept.append(seconds))
    clock = demo.AcceleratedClock(45.0)
    start_wall = clock.now()
    real[0] += 2.0  # two real seconds pass
    assert clock.monotonic() == 90.0
    assert (clock.now() - start_wall).total_seconds() == 90.0
    noop: Callable[[], None] = lambda: None  # noqa: E731
    clock.call_later(60.0, noop)
    clock.sleep(90.0)
    assert delays == [60.0 / 45.0] and slept == [2.0]
