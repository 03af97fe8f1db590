"""How a :class:`WorkerTerminal` reaches its worker: a local child or the TCP bridge.

A link is one authenticated ``multiprocessing.connection`` plus a way to end
it *now* from any thread: a local child is killed by its PID (never by image
name: that would take down every terminal on the box), a bridge connection
is shut down (the bridge then kills that session's child itself).
"""

from __future__ import annotations

import json
import math
import os
import select
import socket
import sys
from collections.abc import Callable
from multiprocessing import connection as mpc
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # imported when first used, so `python -m mt5guard.terminal.bridge.server` runs
    from mt5guard.terminal.bridge._processes import WorkerProcess

__all__ = ["BridgeLink", "Link", "LocalLink", "bridge_opener", "local_opener", "readiness"]


class Link(Protocol):
    conn: mpc.Connection
    pid: int | None
    reconnectable: bool

    def kill(self) -> None:
        """End the worker (or the connection to it) now; safe from any thread."""

    def close(self) -> None:
        """Release everything; after :meth:`kill`, or instead of it."""

    def describe(self) -> str:
        """``terminal worker pid N`` or ``bridge HOST:PORT``."""


class LocalLink:
    """A ``--child`` worker process this process spawned."""

    reconnectable = False

    def __init__(self, worker: WorkerProcess) -> None:
        self._worker = worker
        self.conn = worker.conn
        self.pid: int | None = worker.pid

    def kill(self) -> None:
        self._worker.kill()

    def close(self) -> None:
        self._worker.kill()
        self._worker.reap(timeout=2.0)
        self.conn.close()

    def exit_status(self) -> int | None:
        return self._worker.proc.poll()

    def describe(self) -> str:
        return f"terminal worker pid {self.pid}"


def local_opener(spec: dict[str, Any], command: list[str] | None = None
                 ) -> Callable[[float], Link]:
    """Spawn a new local worker for ``spec`` each time it is called (timeout in s)."""
    def open_link(timeout: float) -> Link:
        from mt5guard.terminal.bridge._processes import spawn_worker

        return LocalLink(spawn_worker(spec, timeout=timeout, command=command))

    return open_link


class BridgeLink:
    """A TCP session with ``python -m mt5guard.terminal.bridge.server --listen``."""

    reconnectable = True

    def __init__(self, host: str, port: int, key: bytes, timeout: float) -> None:
        self._where = f"{host}:{port}"
        self._sock = socket.create_connection((host, port), timeout=timeout)
        try:
            self._sock.settimeout(timeout)  # bounds the handshake below
            self.conn = mpc.Connection(os.dup(self._sock.fileno()))
            fd = self.conn.fileno()
            os.set_blocking(fd, True)
            self._sock.settimeout(None)
            mpc.answer_challenge(self.conn, key)
            mpc.deliver_challenge(self.conn, key)
            if not self.conn.poll(timeout):
                raise TimeoutError(f"bridge {self._where} sent no greeting within {timeout} s")
            tag, hello = json.loads(self.conn.recv_bytes())
            if tag != "hello":
                raise ConnectionError(f"bridge {self._where} refused the session: {hello}")
        except BaseException:
            self._sock.close()
            raise
        self.pid: int | None = None
        self.hello = hello

    def kill(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes a reader blocked on this connection
        except OSError:
            pass

    def close(self) -> None:
        self.kill()
        self.conn.close()
        self._sock.close()

    def describe(self) -> str:
        return f"bridge {self._where}"


def bridge_opener(host: str, port: int, key: Callable[[], str]) -> Callable[[float], Link]:
    """Open a new bridge session each time it is called; ``key()`` reveals the key."""
    return lambda timeout: BridgeLink(host, port, key().encode(), timeout)


def readiness(conn: mpc.Connection) -> Callable[[float], bool]:
    """``wait(timeout)``: True once ``conn`` has a frame, EOF or an error to read (timeout in s).

    One ``poll(2)`` on a poll object registered once per connection: what
    ``Connection.poll`` does through a selector it builds, registers and
    closes again on every call (about 4 us more per request). Where there is
    no ``poll(2)`` (Windows pipes), ``Connection.poll`` itself.
    """
    if sys.platform == "win32" or not hasattr(select, "poll"):
        return conn.poll
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)

    def wait(timeout: float) -> bool:
        return bool(poller.poll(math.ceil(max(0.0, timeout) * 1000)))

    return wait
