"""How a :class:`WorkerTerminal` reaches its worker: a local child or the TCP bridge.

A link is one framed connection (``bridge._channel.Framed``: a socket pair to
a local child, TCP or TLS to a bridge; a ``multiprocessing`` pipe on Windows) plus a way to end
it *now* from any thread: a local child is killed by its PID (never by image
name: that would take down every terminal on the box), a bridge connection
is shut down (the bridge then kills that session's child itself).
"""

from __future__ import annotations

import json
import math
import select
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # imported when first used, so `python -m mt5guard.terminal.bridge.server` runs
    from mt5guard.terminal.bridge._processes import WorkerProcess

_PROTOCOL = 4  # the frame format this client reads (bridge.server.PROTOCOL)

__all__ = ["BridgeLink", "Link", "LocalLink", "bridge_opener", "local_opener", "readiness",
           "receiver", "tls_client"]


class Link(Protocol):
    conn: Any  # send_bytes, recv_bytes, poll, fileno, close (our Framed, or a Windows pipe)
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
        self._worker.kill()  # SIGKILL: ends it at once, stopped (SIGSTOP) or not
        self._worker.reap(timeout=2.0)
        self.conn.close()

    def exit_status(self) -> int | None:
        return self._worker.poll()

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
    """A session with ``python -m mt5guard.terminal.bridge.server --listen``.

    Over mutual TLS (``tls``: a ``_tls.TlsSide``, the bridge's certificate
    pinned), or plaintext when the config says so (loopback only). The TCP
    connect, TLS and the key handshake (the bridge proves the key first) and
    the bridge's greeting all finish within ``timeout`` seconds, or the
    connection is closed and the start fails.
    """

    reconnectable = True

    def __init__(self, host: str, port: int, key: bytes, timeout: float,
                 tls: Any = None) -> None:
        from mt5guard.terminal.bridge import _channel

        self._where = f"{host}:{port}"
        deadline = time.monotonic() + timeout
        raw = socket.create_connection((host, port), timeout=timeout)
        sock: Any = raw
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                raw.settimeout(max(0.001, deadline - time.monotonic()))
                sock = tls.context.wrap_socket(raw, server_side=False)
                tls.check(sock)
            _channel.client_handshake(sock, key, deadline)
            self.conn: Any = _channel.Framed(sock, _channel.REPLY_CAP)
            if not self.conn.poll(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"bridge {self._where} sent no greeting within {timeout} s")
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            tag, hello = json.loads(self.conn.recv_bytes())
            sock.settimeout(None)
            if tag != "hello":
                raise ConnectionError(f"bridge {self._where} refused the session: {hello}")
            if not isinstance(hello, dict) or hello.get("protocol") != _PROTOCOL:
                theirs = hello.get("protocol") if isinstance(hello, dict) else None
                raise ConnectionError(f"bridge {self._where} speaks wire protocol {theirs!r}, "
                                      f"this client {_PROTOCOL}: run the same mt5guard version "
                                      "on both sides")
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self.pid: int | None = None
        self.hello = hello

    def kill(self) -> None:
        self.conn.shutdown()  # wakes a reader blocked on this connection

    def close(self) -> None:
        self.kill()
        self.conn.close()

    def describe(self) -> str:
        return f"bridge {self._where}"


def bridge_opener(host: str, port: int, key: Callable[[], str], tls: Any = None
                  ) -> Callable[[float], Link]:
    """Open a new bridge session each time it is called; ``key()`` reveals the key.

    ``tls``: a ``_tls.TlsSide`` (see :func:`tls_client`), or None for plaintext.
    """
    return lambda timeout: BridgeLink(host, port, key().encode(), timeout, tls)


def tls_client(folder: str) -> Any:
    """mt5guard's TLS side for a bridge, from the folder the certs command made."""
    from mt5guard.terminal.bridge import _tls

    return _tls.client_side(folder)


def readiness(conn: Any) -> Callable[[float], bool]:
    """``wait(timeout)``: True once ``conn`` has a frame, EOF or an error to read (timeout in s).

    One ``poll(2)`` on a poll object registered once per connection: what
    ``Connection.poll`` does through a selector it builds, registers and
    closes again on every call (about 4 us more per request). Bytes already
    buffered (ours, or TLS's) count as readable. Where there is
    no ``poll(2)`` (Windows pipes), ``Connection.poll`` itself.
    """
    if sys.platform == "win32" or not hasattr(select, "poll"):
        polled: Callable[[float], bool] = conn.poll
        return polled
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    pending: Callable[[], bool] = getattr(conn, "pending", lambda: False)

    def wait(timeout: float) -> bool:
        return pending() or bool(poller.poll(math.ceil(max(0.0, timeout) * 1000)))

    return wait


def receiver(conn: Any, slice_s: float) -> Callable[[float], bytes | None]:
    """``receive(timeout)``: the next frame on ``conn``, or None if none came within
    ``timeout`` seconds (at most ``slice_s``; the caller re-reads its clock between slices).

    On Linux, over a plain socket (a local worker's socket pair, a plaintext
    bridge), one blocking ``recv(2)`` whose wait the kernel ends after
    ``slice_s`` (``SO_RCVTIMEO``, set once per connection) instead of a
    ``poll(2)`` before every ``recv(2)``: one system call per reply. A wait
    shorter than the slice (a deadline near) polls for exactly that long, as
    before; a frame only partly read when the slice ends stays buffered in
    the ``Framed`` for the next call. Elsewhere (TLS, Windows pipes) the poll
    of :func:`readiness`, then the read.
    """
    wait, recv = readiness(conn), conn.recv_bytes

    def polled(timeout: float) -> bytes | None:
        try:
            return recv() if wait(timeout) else None
        except BlockingIOError:  # a frame's rest did not come within the slice: kept buffered
            return None

    sock = getattr(conn, "socket", None)
    if not sys.platform.startswith("linux") or type(sock) is not socket.socket:
        return polled
    seconds = int(slice_s)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                    struct.pack("ll", seconds, int((slice_s - seconds) * 1e6)))

    def receive(timeout: float) -> bytes | None:
        if timeout < slice_s:
            return polled(timeout)
        try:
            return recv()  # type: ignore[no-any-return]
        except BlockingIOError:  # SO_RCVTIMEO: nothing (or a frame's rest) within the slice
            return None

    return receive
