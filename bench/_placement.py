"""Where the threads of a measurement run: the OS's choice, one core, or two.

A cross-thread round trip costs very different amounts depending on whether
the woken thread sits on the waker's core (a plain context switch) or on
another, possibly idle, core (a wake-up IPI; in a VM, an idle vCPU that has
already halted costs far more than one still polling). Left to the OS, two
actor threads of the same process can land on different sides of that line
and a ratio between them then measures placement, not code. So the request
section runs in three placements and reports all of them:

- ``os``: as the scheduler places threads, what an unpinned deployment sees;
- ``same-core``: every thread on one CPU, the software cost alone;
- ``cross-core``: calling threads on one CPU, every other thread on another,
  so every hop of both variants crosses cores alike.
"""

from __future__ import annotations

import os
import threading

__all__ = ["PLACEMENTS", "last_cpus", "pin_process", "place_threads"]

PLACEMENTS = ("os", "same-core", "cross-core")


def place_threads(placement: str) -> str:
    """Pin the threads alive now (threads started later inherit their creator's CPUs).

    Returns the placement actually used: ``cross-core`` falls back to ``os``
    on a single-CPU machine.
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
    cpus = sorted(os.sched_getaffinity(0))
    if placement == "os" or (placement == "cross-core" and len(cpus) < 2):
        return "os"
    main = threading.main_thread()
    for thread in threading.enumerate():
        if thread.native_id is None:
            continue
        cpu = cpus[0] if placement == "same-core" or thread is main else cpus[1]
        try:
            os.sched_setaffinity(thread.native_id, {cpu})
        except ProcessLookupError:
            pass  # the thread ended meanwhile
    return placement


def pin_process(pid: int, cpus: set[int]) -> None:
    """Every thread of process ``pid`` (another process: a worker, an echo child) on
    ``cpus``; a thread it starts later inherits its creator's CPUs (Linux)."""
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(task), cpus)
        except (ProcessLookupError, FileNotFoundError):
            pass  # the thread ended meanwhile


def last_cpus(*prefixes: str) -> dict[str, int]:
    """The CPU each thread whose name starts with one of ``prefixes`` last ran on (Linux)."""
    cpus: dict[str, int] = {}
    for thread in threading.enumerate():
        if thread.native_id is None or not thread.name.startswith(prefixes):
            continue
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpus[thread.name] = int(fields[36])  # field 39 of proc(5), counted after "(comm)"
    return cpus
