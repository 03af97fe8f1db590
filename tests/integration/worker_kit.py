"""Helpers for tests that run terminal workers as real processes (Linux /proc)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from mt5guard.terminal.bridge import _processes

SIM = {"backend": "simulated", "login": 5001, "server": "MetaQuotes-Demo"}


def children_of(pid: int) -> set[int]:
    """PIDs whose parent is ``pid`` (zombies excluded)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def zygotes_of(pid: int) -> set[int]:
    """The worker zygote of mt5guard process ``pid`` (Linux: at most one, while it has
    workers; see ``bridge/_forked.py``)."""
    return {child for child in children_of(pid) if b"--zygote" in _cmdline(child)}


def workers_of(pid: int) -> set[int]:
    """The terminal workers of mt5guard process ``pid``: those it spawned (its children)
    and those its zygote forked (the zygote's children; their command line is the zygote's)."""
    zygotes = zygotes_of(pid)
    found = children_of(pid) - zygotes
    for zygote in zygotes:
        found |= children_of(zygote)
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def state(pid: int) -> str:
    """The process state letter (R, S, T = stopped, Z ...)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def wait_until(condition, timeout: float = 3.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.01)


def no_thread_left_behind(before: set[threading.Thread]) -> None:
    """Every thread started since ``before`` ends, but the process-long worker spawner.

    On Linux the first worker started in a process starts one spawner thread that
    lives as long as the process (a worker's PR_SET_PDEATHSIG fires when the thread
    that spawned it ends: see ``_processes.py``). A test file run alone starts it in
    its own fixture; that one is not a leak, a second one would be.
    """
    def ended() -> bool:
        return set(threading.enumerate()) - before <= set(_processes._SPAWNER)

    wait_until(ended, what="no thread left behind")


def gone(pids: set[int], timeout: float = 2.0) -> None:
    wait_until(lambda: not any(alive(p) for p in pids), timeout, f"processes {pids} gone")


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
