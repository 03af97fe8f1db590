"""Local worker channels nobody else can reach, and starts that cannot be stalled.

Before: the worker listened on an abstract unix name that any local user
could read from /proc/net/unix and bind first; the start then hung in the
challenge without a timeout, holding the start semaphore. Now the channel is
a socket pair the worker inherits (no name at all), and a start that does
not complete within its timeout kills its child and releases everything.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from bridge_kit import WORKER_SPEC, open_fds

from mt5guard.clock import SystemClock
from mt5guard.terminal.bridge import _processes
from mt5guard.terminal.bridge._processes import spawn_worker
from mt5guard.terminal.worker import WorkerTerminal, local_opener

pytestmark = pytest.mark.subprocess


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _unix_names() -> dict[str, str]:
    """inode -> bound name (abstract names start with @) of every unix socket on the host."""
    names = {}
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8:
            names[fields[6]] = fields[7]
    return names


def test_a_worker_has_no_name_another_user_could_find_or_bind_first() -> None:
    worker = spawn_worker(dict(WORKER_SPEC))
    try:
        names = _unix_names()  # (other checkouts' older workers on this host may have names)
        sockets = _socket_inodes(worker.pid)
        assert sockets  # it talks over a socket...
        assert not sockets & set(names)  # ...that has no name: a socket pair
        worker.conn.send_bytes(b'["call",1,0,5,"ping",["hi"],{}]')
        assert worker.conn.recv_bytes() == b'["ok",1,["hi"],null]'
    finally:
        worker.kill()
        worker.reap()
        worker.conn.close()


MUTE = """
import signal, sys
sys.stdin.readline()
while True:  # took its stdin, never greets: a worker that hangs at start, until killed
    signal.pause()
"""


def test_a_worker_that_never_greets_fails_its_start_in_time_and_leaves_nothing(
        tmp_path: Path) -> None:
    mute = tmp_path / "mute.py"
    mute.write_text(MUTE)
    spawn_worker(dict(WORKER_SPEC)).kill()  # the spawner thread and imports exist already
    before = open_fds()
    children: list[int] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            spawn_worker(dict(WORKER_SPEC), timeout=0.5, command=[sys.executable, str(mute)])
        except BaseException as exc:
            errors.append(exc)

    starts = 2 * _processes._STARTING._initial_value + 1  # type: ignore[attr-defined]
    threads = [threading.Thread(target=start) for _ in range(starts)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(errors) == starts and all(isinstance(e, TimeoutError) for e in errors)
    assert time.monotonic() - began < 0.5 * starts  # each waited its own 0.5 s, no more
    children = [int(p) for p in os.listdir("/proc") if p.isdigit()
                and _parent(int(p)) == os.getpid()]
    assert children == []  # every mute child was killed and reaped
    assert open_fds() <= before  # no pipe, no socket left open
    good = spawn_worker(dict(WORKER_SPEC), timeout=5.0)  # the semaphore was given back
    good.kill()
    good.reap()
    good.conn.close()


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else int(fields[1])


def test_stopping_a_stopped_worker_does_not_wait_for_sigcont() -> None:
    terminal = WorkerTerminal(local_opener(dict(WORKER_SPEC)), SystemClock(), name="frozen",
                              call_timeout=5.0)
    terminal.start()
    pid = terminal.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    terminal.close()
    assert time.monotonic() - started < 0.5
    assert _parent(pid) is None  # gone (and reaped), not waiting for a SIGCONT
