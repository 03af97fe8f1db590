"""Workers die with their parent, stopped or not.

Before: after ``kill -9`` of run.py, a worker that was SIGSTOPped lived on
until someone sent SIGCONT (a stopped process cannot read the EOF of its
parent-death pipe). Now the kernel kills it (PR_SET_PDEATHSIG, SIGKILL).

On Linux the workers are forked by the parent's zygote: the kernel kills the
zygote when the parent dies, and every worker when the zygote dies, each of
them stopped or not.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.subprocess,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG")]

PARENT = """
import json, os, signal, sys, threading, time
from mt5guard.terminal.bridge import _forked
from mt5guard.terminal.bridge._processes import spawn_worker
from mt5guard.terminal.worker.wire import encode_request

spec = {"backend": "simulated", "login": 5001, "server": "MetaQuotes-Demo"}
workers, tids = [], []

def ask():
    tids.append(threading.get_native_id())
    workers.append(spawn_worker(dict(spec)))

# Asked for from threads that end at once: the death signal must follow the process,
# not the thread that asked (every spawn runs on one process-long thread).
askers = [threading.Thread(target=ask) for _ in range(2)]
for asker in askers:
    asker.start()
for asker in askers:
    asker.join()
deadline = time.monotonic() + 5
while any(os.path.exists(f"/proc/self/task/{tid}") for tid in tids):  # gone from the kernel:
    assert time.monotonic() < deadline  # a death signal tied to them has been sent
    time.sleep(0.001)
# Then they answer, which a process with a SIGKILL pending cannot: the zygote forks one more
# worker (the main thread asks), and every worker answers a request.
workers.append(spawn_worker(dict(spec)))
for worker in workers:
    worker.conn.send_bytes(encode_request(1, time.monotonic() + 5, 5.0, "last_error", (), {}))
    assert worker.conn.poll(5) and b'"ok"' in worker.conn.recv_bytes()
print(json.dumps([[w.pid for w in workers], [z.pid for z in _forked._CURRENT]]), flush=True)
while True:
    signal.pause()  # until killed
"""


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.parametrize("zygote_stopped", [False, True])
def test_kill_9_of_the_parent_takes_its_zygote_and_its_stopped_workers_along(
        zygote_stopped: bool) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert parent.stdout is not None and parent.stderr is not None
    try:
        import json

        line = parent.stdout.readline()
        assert line, parent.stderr.read()  # it ended early: why, in its own words
        workers, zygote = json.loads(line)
        assert len(zygote) == 1 and all(_parent_of(pid) == zygote[0] for pid in workers)
        assert _parent_of(zygote[0]) == parent.pid
        # the asking threads are gone and every worker answered after that (PARENT)
        assert len(workers) == 3 and all(_state(pid) not in (None, "Z") for pid in workers + zygote)
        pids = workers + zygote if zygote_stopped else workers
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        deadline = time.monotonic() + 2
        while any(_state(pid) != "T" for pid in pids):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        parent.kill()  # kill -9: no cleanup of ours runs
        parent.wait(5)
        started = time.monotonic()
        pids = workers + zygote
        while any(_state(pid) not in (None, "Z") for pid in pids):  # zombies: reaped by init
            # They would live for ever without PR_SET_PDEATHSIG: 10 s is a wait, not a bound.
            assert time.monotonic() - started < 10.0, [_state(pid) for pid in pids]
            time.sleep(0.01)
    finally:
        parent.kill()
        parent.wait(5)
        parent.stdout.close()
        parent.stderr.close()
