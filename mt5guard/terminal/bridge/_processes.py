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
descriptor it opened. On Linux every child is spawned from one long-lived
thread, so its ``PR_SET_PDEATHSIG`` (see ``server.py``) fires when this
process dies, not when the thread that asked for the worker ends; and a
worker of the default command is forked by this process's zygote
(``_forked.py``), itself spawned that way, instead of being spawned.
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

PROTOCOL = 4  # the same as server.PROTOCOL; a worker greeting with another one is refused


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


class _Spawned:
    """A spawned worker process: ``pid``, ``kill()``, ``wait(timeout)``, ``poll()``, ``close()``."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc, self.pid = proc, proc.pid

    def kill(self) -> None:
        if self.proc.poll() is None:  # reaped: its PID may be another process's now
            try:
                self.proc.kill()
            except OSError:
                pass

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def poll(self) -> int | None:
        return self.proc.poll()

    def close(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass


class WorkerProcess:
    """A ``--child`` worker (spawned, or forked by a zygote) and its authenticated connection."""

    def __init__(self, process: Any, conn: Any, hello: dict[str, Any]):
        self.process, self.conn, self.hello = process, conn, hello
        self.pid: int = process.pid

    def kill(self) -> None:
        """SIGKILL (TerminateProcess) this worker: by its PID while we have not reaped it,
        or through its pidfd (forked); never by name.

        SIGKILL ends a stopped (SIGSTOPped) process too: nothing waits for SIGCONT.
        """
        self.process.kill()

    def reap(self, timeout: float = 1.0) -> int | None:
        """Wait up to ``timeout`` s for its exit status (a negative signal number when
        killed), else None; close our ends of its pipes."""
        status: int | None = self.process.wait(timeout)
        self.process.close()
        return status

    def poll(self) -> int | None:
        """Its exit status if it has exited, else None; does not wait."""
        status: int | None = self.process.poll()
        return status


#: Linux: workers of the default command are forked by a zygote (``_forked.py``);
#: False: every worker is spawned (a fresh interpreter each, as on other systems).
FORK = True


def spawn_worker(spec: dict[str, Any], *, timeout: float = 10.0,
                 command: list[str] | None = None) -> WorkerProcess:
    """Start a child worker for ``spec`` and connect to it within ``timeout`` s.

    On Linux, with the default command, the worker is forked by this
    process's zygote (``_forked.py``: a few ms of CPU instead of a new
    interpreter); should the zygote fail, it is spawned instead, within the
    same timeout. Raises ``TimeoutError``, ``ConnectionError`` or
    ``RuntimeError`` (the worker's backend failed to load; its reason is
    the message). At most ``_STARTING`` spawned workers start at once; the
    timeout of a spawn runs from our turn. A failed start leaves no process
    and no open descriptor behind.
    """
    deadline = time.monotonic() + timeout
    if command is None and FORK and sys.platform.startswith("linux"):
        forked = _sibling("_forked")
        if forked.usable(_worker_env()):
            try:
                worker: WorkerProcess = forked.fork_worker(spec, deadline)
                return worker
            except forked.ZygoteGone:  # said so in a log line
                timeout = max(0.0, deadline - time.monotonic())
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
        spawned = _Spawned(proc)
        return WorkerProcess(spawned, conn, _greeting(spawned, conn, deadline))
    except BaseException:
        conn.close()
        _end(proc)
        raise


def _greeting(proc: Any, conn: Any, deadline: float) -> dict[str, Any]:
    """The worker's hello by ``deadline``; ``proc`` has ``pid`` and ``poll()``."""
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
            spawned = _Spawned(proc)
            return WorkerProcess(spawned, conn, _greeting(spawned, conn, deadline))
        except BaseException:
            conn.close()
            raise
    except BaseException:
        _end(proc)
        raise
