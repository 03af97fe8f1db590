"""Workers forked by the zygote keep every promise a spawned worker makes (Linux).

Issue 21: a fresh interpreter per worker cost ~157 ms of CPU (numpy, attrs,
the simulator), so on Linux one preloaded zygote forks the workers
(``bridge/_forked.py``, ``bridge/_zygote.py``). What must not change: a worker
is killed by us and nobody else, its exit status is the real one, it ends
when its stdin from us closes, it sees none of another worker's descriptors,
and a zygote that fails costs at most that start's timeout, never a hang.
(Death with the parent, stopped or not: ``test_parent_death.py``.)
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_kit import WORKER_SPEC

from mt5guard.terminal.bridge import _forked
from mt5guard.terminal.bridge._processes import WorkerProcess, spawn_worker

pytestmark = [pytest.mark.subprocess,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")]

PING = b'["call",1,0,5,"ping",["hi"],{}]'


def _parent(pid: int) -> int | None:
    """The parent of ``pid``; None once it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[1])


def _descriptors(pid: int) -> dict[int, str]:
    found = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return found


def _serves(worker: WorkerProcess) -> bool:
    worker.conn.send_bytes(PING)
    return bool(worker.conn.recv_bytes() == b'["ok",1,["hi"],null]')


def _end(*workers: WorkerProcess) -> None:
    for worker in workers:
        worker.kill()
        worker.reap()
        worker.conn.close()


@pytest.fixture
def two() -> Iterator[tuple[WorkerProcess, WorkerProcess]]:
    first, second = spawn_worker(dict(WORKER_SPEC)), spawn_worker(dict(WORKER_SPEC))
    yield first, second
    _end(first, second)


def test_workers_are_forked_by_one_zygote_that_ends_with_the_last_of_them() -> None:
    first, second = spawn_worker(dict(WORKER_SPEC)), spawn_worker(dict(WORKER_SPEC))
    zygote = _parent(first.pid)
    assert zygote is not None and zygote != os.getpid() and _parent(second.pid) == zygote
    assert _parent(zygote) == os.getpid()
    assert _serves(first) and _serves(second)
    _end(first)
    assert _parent(zygote) == os.getpid()  # one worker left: the zygote stays
    _end(second)
    assert _parent(zygote) is None  # killed and reaped: nothing of ours runs any more


def test_kill_ends_a_forked_worker_stopped_or_not_and_reap_says_it_was_killed(
        two: tuple[WorkerProcess, WorkerProcess]) -> None:
    stopped, other = two
    os.kill(stopped.pid, signal.SIGSTOP)
    stopped.kill()
    assert stopped.reap(timeout=5.0) == -signal.SIGKILL
    assert _parent(stopped.pid) is None
    assert _serves(other)  # the other worker never noticed


def test_reap_returns_the_status_the_worker_really_exited_with(
        two: tuple[WorkerProcess, WorkerProcess]) -> None:
    closed, terminated = two
    # The worker's stdin is a pipe only we hold: closing it is how it learns we are gone.
    closed.process.close()
    assert closed.reap(timeout=5.0) == 0  # it exited by itself at the EOF
    assert _parent(closed.pid) is None
    os.kill(terminated.pid, signal.SIGTERM)
    assert terminated.reap(timeout=5.0) == -signal.SIGTERM


def test_two_forked_workers_hold_only_their_own_descriptors(
        two: tuple[WorkerProcess, WorkerProcess]) -> None:
    first, second = two
    zygote = _parent(first.pid)
    assert zygote is not None
    seen = {pid: _descriptors(pid) for pid in (first.pid, second.pid, zygote)}
    for worker in (first, second):
        held = seen[worker.pid]
        channel = [fd for fd, what in held.items() if what.startswith("socket:")]
        assert len(channel) == 1 and set(held) == {0, 1, 2, *channel}, held
        assert held[0].startswith("pipe:")  # its stdin: a pipe of its own from us
        others = {what for pid, fds in seen.items() if pid != worker.pid for what in fds.values()}
        assert not {held[0], held[channel[0]]} & others  # nobody else holds its channel or stdin
    assert not any("pidfd" in what for what in seen[zygote].values())  # it kept no pidfd


def test_a_zygote_killed_with_kill_9_costs_no_start(caplog: pytest.LogCaptureFixture) -> None:
    before = spawn_worker(dict(WORKER_SPEC))
    zygote = _parent(before.pid)
    assert zygote is not None
    os.kill(zygote, signal.SIGKILL)  # its workers die with it: that is how they die with us
    deadline = time.monotonic() + 5.0
    while _parent(zygote) is not None or _parent(before.pid) is not None:
        assert time.monotonic() < deadline, "the zygote or its worker outlived kill -9"
        time.sleep(0.01)
    with caplog.at_level(logging.WARNING, logger="mt5guard.worker"):
        after = spawn_worker(dict(WORKER_SPEC), timeout=5.0)  # raises if it fails
    try:
        assert _parent(after.pid) == os.getpid() and _serves(after)  # spawned, as said:
        assert "spawning this worker instead" in caplog.text
        assert before.reap(timeout=5.0) == -signal.SIGKILL
        again = spawn_worker(dict(WORKER_SPEC), timeout=5.0)  # a new zygote forks again
        assert _parent(again.pid) not in (None, zygote, os.getpid()) and _serves(again)
        _end(again)
    finally:
        _end(after)
        before.conn.close()


def test_a_stopped_zygote_fails_one_start_at_its_timeout_and_the_next_start_has_a_new_one(
        caplog: pytest.LogCaptureFixture) -> None:
    first = spawn_worker(dict(WORKER_SPEC))
    zygote = _parent(first.pid)
    assert zygote is not None
    os.kill(zygote, signal.SIGSTOP)
    try:
        with caplog.at_level(logging.WARNING, logger="mt5guard.worker"), \
                pytest.raises(TimeoutError):  # at its timeout, not a hang
            spawn_worker(dict(WORKER_SPEC), timeout=0.3)
        assert "did not fork within the start timeout" in caplog.text
        assert _serves(first)  # its workers keep serving: a stopped zygote forks nothing
        second = spawn_worker(dict(WORKER_SPEC), timeout=5.0)
        assert _parent(second.pid) not in (None, zygote) and _serves(second)
        _end(second)
    finally:
        _end(first)  # the stopped zygote's last worker: the zygote is killed, stopped or not
    assert _parent(zygote) is None
    assert not _forked._CURRENT


def test_a_parent_killed_with_the_zygotes_replies_unread_ends_the_zygote_without_a_traceback(
        ) -> None:
    # A parent killed before it read a reply resets the control socket: the zygote's next
    # read raises ECONNRESET, which is the parent's death like an EOF, not a crash whose
    # traceback lands on the parent's stderr (seen once in 40 runs of the bridge tests).
    import socket

    from mt5guard.terminal.bridge._zygote import _Zygote

    parent, ours = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        ours.sendall(b'["forked", 1, 4242]')  # a reply the parent never read
        parent.close()  # SIGKILL closes it like this
        assert _Zygote(ours, run_child=lambda fd, pid: 0).request() is False
    finally:
        ours.close()
