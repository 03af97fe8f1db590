"""Spawning terminal workers, and the bridge that relays TCP sessions to them.

Standard library only, like :mod:`mt5guard.terminal.bridge.server` (which loads
this file by path when it runs as a plain file under Windows Python in Wine).
Used by mt5guard to start its local workers, and by ``server.py --listen``
to give every client session a worker of its own.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import subprocess
import sys
import threading
import time
from multiprocessing import connection as mpc
from typing import Any

__all__ = ["WorkerProcess", "run_bridge", "spawn_worker"]

PROTOCOL = 1  # the same as server.PROTOCOL


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


class WorkerProcess:
    """A spawned ``--child`` worker and its authenticated connection."""

    def __init__(self, proc: subprocess.Popen[bytes], conn: mpc.Connection, hello: dict[str, Any]):
        self.proc, self.conn, self.hello = proc, conn, hello
        self.pid: int = proc.pid

    def kill(self) -> None:
        """SIGKILL (TerminateProcess) this worker by its PID; never by name."""
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
    """
    with _STARTING:
        return _spawn(spec, timeout, command)


def _spawn(spec: dict[str, Any], timeout: float, command: list[str] | None) -> WorkerProcess:
    key = os.urandom(32)
    proc = subprocess.Popen((command or _command()) + ["--child"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, close_fds=True, env=_worker_env())
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(key.hex().encode() + b"\n" + json.dumps(spec).encode() + b"\n")
        proc.stdin.flush()
        lines: queue.Queue[bytes] = queue.Queue()
        out = proc.stdout
        threading.Thread(target=lambda: lines.put(out.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"terminal worker pid {proc.pid} did not start within {timeout} s"
                               ) from None
        if not line:
            raise ConnectionError(f"terminal worker pid {proc.pid} exited at start "
                                  f"(status {proc.wait(timeout)})")
        where = json.loads(line)
        conn = mpc.Client(where["address"], where["family"], authkey=key)
        if not conn.poll(timeout):
            raise TimeoutError(f"terminal worker pid {proc.pid} sent no greeting in {timeout} s")
        tag, body = json.loads(conn.recv_bytes())
        if tag == "fatal":
            raise RuntimeError(str(body))
        return WorkerProcess(proc, conn, dict(body))
    except BaseException:
        proc.kill()
        proc.wait()
        raise


# -- the bridge ------------------------------------------------------------------


class _Relay:
    """One bridge session: its requests go to its own child worker.

    One request is in flight at a time; while it is, frames from the worker
    are relayed as they come: the reply ends the wait, pushed quote rounds
    (``["push", ...]``) and late replies pass through to the client. Between
    requests pushes are relayed too. A worker that dies ends the session
    (the client reconnects in ``initialize``).
    """

    def __init__(self, client: mpc.Connection, spec: dict[str, Any]) -> None:
        self.client, self.spec = client, spec
        self.worker: WorkerProcess | None = None
        self.pending: tuple[Any, float, float] | None = None  # (id, deadline, budget_s)

    def run(self) -> None:
        try:
            while True:
                self._step()
        except (EOFError, OSError):
            pass  # the client went away (or its worker died); its worker goes with it
        finally:
            self._drop()
            self.client.close()

    def _drop(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker.reap()
            self.worker = None

    def _send(self, reply: list[Any]) -> None:
        self.client.send_bytes(json.dumps(reply).encode())

    def _step(self) -> None:
        waiting: list[Any] = [] if self.pending is not None else [self.client]
        if self.worker is not None:
            waiting.append(self.worker.conn)
        timeout = None if self.pending is None else max(0.0, self.pending[1] - time.monotonic())
        ready = mpc.wait(waiting, timeout)
        if self.worker is not None and self.worker.conn in ready:
            self._from_worker(self.worker)
        elif self.pending is not None and time.monotonic() >= self.pending[1]:
            ident, _, budget = self.pending
            pid = self.worker.pid if self.worker is not None else None
            self.pending = None
            self._drop()  # hung past its budget: kill this session's child only
            self._send(["timeout", ident, f"no reply within {budget:g} s; the bridge killed "
                                          f"worker pid {pid}"])
        if self.client in ready:
            self._one(self.client.recv_bytes())

    def _from_worker(self, worker: WorkerProcess) -> None:
        try:
            raw = worker.conn.recv_bytes()
        except (EOFError, OSError):
            self._drop()
            if self.pending is not None:
                self._send(["lost", self.pending[0], f"the session's worker pid {worker.pid} died"])
            raise EOFError("the session's worker died") from None
        if self.pending is not None and not raw.startswith(b'["push"'):
            try:
                ident = json.loads(raw)[1]
            except (ValueError, TypeError, IndexError, KeyError):
                ident = None
            if ident == self.pending[0]:
                self.pending = None
        self.client.send_bytes(raw)

    def _one(self, raw: bytes) -> None:
        try:
            request = json.loads(raw)
            ident, budget = request[1], float(request[3])
        except (ValueError, TypeError, IndexError, KeyError):
            self._send(["error", None, "malformed request"])
            return
        if self.worker is None:
            try:
                self.worker = spawn_worker(self.spec)
            except Exception as exc:
                self._send(["lost", ident, f"the bridge could not start a worker: {exc}"])
                return
        worker = self.worker
        try:
            worker.conn.send_bytes(raw)
        except (EOFError, OSError):
            self._drop()
            self._send(["lost", ident, f"the session's worker pid {worker.pid} died"])
            raise EOFError("the session's worker died") from None
        self.pending = (ident, time.monotonic() + max(0.0, budget), budget)


def _authenticated(conn: mpc.Connection, key: bytes, spec: dict[str, Any]) -> None:
    try:
        mpc.deliver_challenge(conn, key)
        mpc.answer_challenge(conn, key)
        conn.send_bytes(json.dumps(["hello", {"pid": os.getpid(), "backend": spec.get("backend"),
                                              "protocol": PROTOCOL}]).encode())
    except (multiprocessing.AuthenticationError, EOFError, OSError):
        conn.close()
        return
    _Relay(conn, spec).run()


def run_bridge(host: str, port: int, key: bytes, spec: dict[str, Any]) -> int:
    with mpc.Listener((host, port), "AF_INET") as listener:
        bound = listener.address
        print(f"mt5guard terminal bridge listening on {bound[0]}:{bound[1]}", flush=True)
        while True:
            conn = listener.accept()
            threading.Thread(target=_authenticated, args=(conn, key, spec), daemon=True).start()


