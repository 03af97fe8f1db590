"""Spawning terminal workers, and the relay of one bridge session to its own worker.

Standard library only, like :mod:`mt5guard.terminal.bridge.server` (which loads
this file by path when it runs as a plain file under Windows Python in Wine).
Used by mt5guard to start its local workers, and by ``server.py --listen``
(through ``_gate.py``) to give every client session a worker of its own.

On POSIX a worker's channel is one end of a socket pair it inherits at spawn:
it has no name, so no other user (or process) can find it, bind it first
or connect to it. Windows keeps a named pipe with a random name and a fresh
per-worker key. Either way the worker's greeting must arrive within the
start timeout, and a start that fails kills its child and closes every
descriptor it opened. On Linux every worker is spawned from one long-lived
thread, so its ``PR_SET_PDEATHSIG`` (see ``server.py``) fires when this
process dies, not when the thread that asked for the worker ends.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from multiprocessing import connection as mpc
from typing import Any

__all__ = ["WorkerProcess", "spawn_worker"]

PROTOCOL = 3  # the same as server.PROTOCOL; a worker greeting with another one is refused


if __package__:
    from mt5guard.terminal.bridge._siblings import sibling as _sibling
else:  # loaded by path: server.py, run as a plain file, loaded the loader first
    _sibling = sys.modules["_mt5guard_siblings"].sibling


_channel = _sibling("_channel")


def _command() -> list[str]:
    """server.py, run as a file: a worker imports nothing of mt5guard it does not need."""
    return [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "server.py")]


#: A worker makes no linear algebra: numpy's BLAS need not start a thread per core
#: (which doubled the CPU of the numpy import, in every one of N workers starting together).
_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _worker_env() -> dict[str, str]:
    """Our environment, with one BLAS thread unless the user chose a number."""
    env = dict(os.environ)
    for name in _ONE_THREAD:
        env.setdefault(name, "1")
    return env


#: Workers starting at once: a herd of interpreters starting together on few cores
#: makes every one of them late (and miss its start timeout); a queue does not.
_STARTING = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
_SPAWNS: queue.Queue[tuple[list[str], dict[str, Any], queue.Queue[Any]]] = queue.Queue()
_SPAWNER: list[threading.Thread] = []
_SPAWNER_LOCK = threading.Lock()


def _spawner() -> None:
    while True:
        args, options, answer = _SPAWNS.get()
        try:
            answer.put((True, subprocess.Popen(args, **options)))
        except BaseException as exc:  # handed to the caller, raised there
            answer.put((False, exc))


def _popen(args: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """``Popen`` from the process-long spawner thread on Linux (see the module doc)."""
    if not sys.platform.startswith("linux"):
        return subprocess.Popen(args, **options)
    with _SPAWNER_LOCK:
        if not _SPAWNER:
            thread = threading.Thread(target=_spawner, name="mt5guard-worker-spawner", daemon=True)
            thread.start()
            _SPAWNER.append(thread)
    answer: queue.Queue[Any] = queue.Queue(1)
    _SPAWNS.put((args, options, answer))
    ok, value = answer.get()
    if not ok:
        raise value
    proc: subprocess.Popen[bytes] = value
    return proc


class WorkerProcess:
    """A spawned ``--child`` worker and its authenticated connection."""

    def __init__(self, proc: subprocess.Popen[bytes], conn: Any, hello: dict[str, Any]):
        self.proc, self.conn, self.hello = proc, conn, hello
        self.pid: int = proc.pid

    def kill(self) -> None:
        """SIGKILL (TerminateProcess) this worker by its PID; never by name.

        SIGKILL ends a stopped (SIGSTOPped) process too: nothing waits for SIGCONT.
        """
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass

    def reap(self, timeout: float = 1.0) -> int | None:
        """Wait up to ``timeout`` s for its exit status; close our ends of its pipes."""
        try:
            status: int | None = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            status = None
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
        return status


def spawn_worker(spec: dict[str, Any], *, timeout: float = 10.0,
                 command: list[str] | None = None) -> WorkerProcess:
    """Spawn a child worker for ``spec`` and connect to it within ``timeout`` s.

    Raises ``TimeoutError``, ``ConnectionError`` or ``RuntimeError`` (the
    worker's backend failed to load; its reason is the message). At most
    ``_STARTING`` workers start at once; the timeout runs from our turn.
    A failed start leaves no process and no open descriptor behind.
    """
    with _STARTING:
        return _spawn(spec, timeout, command)


def _spawn(spec: dict[str, Any], timeout: float, command: list[str] | None) -> WorkerProcess:
    deadline = time.monotonic() + timeout
    base = (command or _command()) + ["--child", "--parent", str(os.getpid())]
    if os.name != "posix":
        return _spawn_piped(spec, deadline, base)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        proc = _popen([*base, "--fd", str(theirs.fileno())], stdin=subprocess.PIPE,
                      stdout=subprocess.DEVNULL, close_fds=True, pass_fds=(theirs.fileno(),),
                      env=_worker_env())
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    conn = _channel.Framed(ours, _channel.REPLY_CAP)
    try:
        assert proc.stdin is not None
        proc.stdin.write(b"\n" + json.dumps(spec).encode() + b"\n")
        proc.stdin.flush()
        return WorkerProcess(proc, conn, _greeting(proc, conn, deadline))
    except BaseException:
        conn.close()
        _end(proc)
        raise


def _greeting(proc: subprocess.Popen[bytes], conn: Any, deadline: float) -> dict[str, Any]:
    if not conn.poll(max(0.0, deadline - time.monotonic())):
        raise TimeoutError(f"terminal worker pid {proc.pid} sent no greeting in time")
    try:
        tag, body = json.loads(conn.recv_bytes())
    except (EOFError, OSError):
        raise ConnectionError(f"terminal worker pid {proc.pid} exited at start "
                              f"(status {proc.poll()})") from None
    except (ValueError, TypeError):
        raise ConnectionError(f"terminal worker pid {proc.pid} greeted with garbage") from None
    if tag == "fatal":
        raise RuntimeError(str(body))
    if tag != "hello" or not isinstance(body, dict):
        raise ConnectionError(f"terminal worker pid {proc.pid} greeted with {tag!r}")
    if body.get("protocol") != PROTOCOL:  # its frames would not be ours: say so, do not misread
        raise ConnectionError(f"terminal worker pid {proc.pid} speaks wire protocol "
                              f"{body.get('protocol')!r}, this client {PROTOCOL}: install the same "
                              "mt5guard version on both sides")
    return dict(body)


def _end(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()
    if proc.stdin is not None:
        try:
            proc.stdin.close()
        except OSError:
            pass


def _spawn_piped(spec: dict[str, Any], deadline: float, base: list[str]) -> WorkerProcess:
    """Windows: a named pipe with a random name, authenticated with a fresh key."""
    key = os.urandom(32)
    proc = _popen(base, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
                  env=_worker_env())
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(key.hex().encode() + b"\n" + json.dumps(spec).encode() + b"\n")
        proc.stdin.flush()
        lines: queue.Queue[bytes] = queue.Queue()
        out = proc.stdout
        threading.Thread(target=lambda: lines.put(out.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError(f"terminal worker pid {proc.pid} did not start in time") from None
        if not line:
            raise ConnectionError(f"terminal worker pid {proc.pid} exited at start")
        where = json.loads(line)
        conn = mpc.Client(where["address"], where["family"], authkey=key)
        try:
            return WorkerProcess(proc, conn, _greeting(proc, conn, deadline))
        except BaseException:
            conn.close()
            raise
    except BaseException:
        _end(proc)
        raise
