"""Helpers for tests that run terminal workers as real processes (Linux /proc)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from mt5guard.terminal.bridge import _processes
from mt5guard.terminal.sim.symbols import TICK_MS

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


def wall_ms() -> float:
    """Now on the wall clock, in milliseconds: the clock the simulated quotes follow."""
    return time.time() * 1000


def wait_for_quote_changes(terminal, since_ms: float, changes: int = 2,  # type: ignore[no-untyped-def]
                           timeout: float = 3.0, symbol: str = "EURUSD") -> None:
    """Wait until ``terminal``'s worker answers a tick of ``symbol`` that is ``changes``
    quote changes newer than wall time ``since_ms`` (milliseconds, see :func:`wall_ms`).

    The positive witness that a window of real time passed *in a worker*, for tests
    that assert nothing happened in it: a simulated terminal's tick ``k`` is stamped
    ``k * TICK_MS`` ms on a grid every simulated worker shares (``sim/_quotes.py``), so
    the answer proves the worker ran (it read its terminal) and every simulated quote
    moved ``changes`` times since ``since_ms``. One ``symbol_info_tick`` request per
    read: ask a worker whose requests the test does not count, or count them.
    Fails after ``timeout`` real seconds.
    """
    def moved() -> bool:
        tick = terminal.symbol_info_tick(symbol)
        assert tick is not None, terminal.last_error()
        return bool(tick.time_msc > since_ms + (changes - 1) * TICK_MS)

    wait_until(moved, timeout, f"{changes} quote changes in the worker")


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
