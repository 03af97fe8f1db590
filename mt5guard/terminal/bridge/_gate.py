"""The bridge's front door: accept, TLS, the key handshake, then a session thread.

Standard library only, like :mod:`mt5guard.terminal.bridge.server`.

Nothing a peer does before it has proven the key costs more than one socket
for a few seconds: connections that have not authenticated yet are served
by this one thread (no thread each), each under a handshake deadline
(``handshake_s``), at most ``max_pending`` of them (a new one evicts the
oldest). ``accept()`` failing for want of descriptors (EMFILE, ENFILE)
evicts the oldest pending connection that has shown nothing the bridge
recognises, or pauses accepting with a growing backoff (a handshake that
showed a key id or certificate the bridge holds is never closed for an
unknown peer); it never ends the bridge. Authenticated sessions are capped
(``max_sessions``); one over the cap is told so and closed. Both caps shrink
to fit the process's descriptor limit, so the sessions always have the
descriptors their workers need. On Linux the listener also sets
``TCP_DEFER_ACCEPT``: a connection that sends nothing (both protocols
start with the client speaking) is never handed to ``accept()``, so an
idle flood costs the kernel a request socket each and us nothing.
"""

from __future__ import annotations

import errno
import hmac
import json
import os
import selectors
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Gate", "caps_for_limit", "listen", "run_bridge"]

PROTOCOL = 4  # the frame format (server.PROTOCOL), in the hello
_OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


if __package__:
    from mt5guard.terminal.bridge._siblings import sibling as _sibling
else:  # loaded by path: server.py, run as a plain file, loaded the loader first
    _sibling = sys.modules["_mt5guard_siblings"].sibling


_channel = _sibling("_channel")


def caps_for_limit(max_pending: int, max_sessions: int) -> tuple[int, int]:
    """``(max_pending, max_sessions)`` lowered to fit RLIMIT_NOFILE (about 5 fds a session)."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return max_pending, max_sessions
    if soft == getattr(resource, "RLIM_INFINITY", -1) or soft <= 0:
        return max_pending, max_sessions
    budget = max(8, soft - 24)  # the interpreter, the listener, a spawn's transient pipes
    pending = max(2, min(max_pending, budget // 4))
    return pending, max(1, min(max_sessions, (budget - pending) // 6))


class _Pending:
    __slots__ = ("data", "deadline", "fd", "key", "nonce", "server_nonce", "sock", "stage",
                 "standing")

    def __init__(self, sock: Any, deadline: float, stage: str) -> None:
        self.sock, self.deadline, self.stage = sock, deadline, stage
        self.fd: int = sock.fileno()  # its key here, valid even once the socket is closed
        #: 0 silent so far; 1 sent something; 2 showed a certificate we pin or a key id we hold
        self.standing = 0
        self.data = b""
        self.key = b""
        self.nonce = b""
        self.server_nonce = b""


class Gate:
    """Accepts on ``listener`` and hands authenticated sockets to ``session(sock)``.

    ``keys``: key id -> key (see ``_channel.key_id``). ``tls``: a server
    ``_tls.TlsSide`` (its context requires a client certificate, and the
    client's must be the pinned one), or None (plaintext).
    """

    def __init__(self, listener: socket.socket, keys: dict[bytes, bytes],
                 session: Callable[[Any], None], *, tls: Any = None,
                 handshake_s: float = 3.0, max_pending: int = 64, max_sessions: int = 64) -> None:
        self._listener, self._keys, self._session, self._tls = listener, keys, session, tls
        self._handshake_s = handshake_s
        self.max_pending, self.max_sessions = caps_for_limit(max_pending, max_sessions)
        self._pending: dict[int, _Pending] = {}  # by fd, oldest first
        self._sessions = 0
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._paused_until = 0.0
        self._backoff = 0.0
        self._listening = False
        self.evicted = 0  # pending connections closed to make room

    def serve_forever(self) -> None:
        """Never returns; a bug in one round is reported and the next round runs."""
        self._listener.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._listening = True
        while True:
            try:
                self._round()
            except Exception as exc:  # the front door must not fall off its hinges
                print(f"mt5guard terminal bridge: {type(exc).__name__}: {exc}", file=sys.stderr,
                      flush=True)
                time.sleep(0.01)

    def _round(self) -> None:
        listening = self._listening
        now = time.monotonic()
        if not listening and now >= self._paused_until:
            self._selector.register(self._listener, selectors.EVENT_READ, None)
            listening = self._listening = True
        wake = [p.deadline for p in self._pending.values()]
        if not listening:
            wake.append(self._paused_until)
        timeout = max(0.0, min(wake) - now) if wake else None
        for key, _ in self._selector.select(timeout):
            if key.data is None:
                if listening and not self._accept():
                    self._selector.unregister(self._listener)
                    listening = self._listening = False
            else:
                pending = self._pending.get(key.fd)
                if pending is not None and pending is key.data:  # not dropped earlier this round
                    self._advance(pending)
        now = time.monotonic()
        for pending in [p for p in self._pending.values() if p.deadline <= now]:
            self._drop(pending)

    # accepting ------------------------------------------------------------------

    def _accept(self) -> bool:
        """Accept what is waiting; False to pause accepting (out of descriptors)."""
        for _ in range(64):
            try:
                sock, _ = self._listener.accept()
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno not in _OUT_OF_DESCRIPTORS:
                    continue  # ECONNABORTED and friends: that peer is gone already
                if self._pending and self._evict(for_descriptor=True):
                    continue  # a descriptor back, then accept again
                self._backoff = min(1.0, max(0.01, self._backoff * 2))
                self._paused_until = time.monotonic() + self._backoff
                return False
            self._backoff = 0.0
            self._admit(sock)
        return True

    def _admit(self, sock: socket.socket) -> None:
        if len(self._pending) >= self.max_pending:
            self._evict()
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stage = "hello" if self._tls is None else "wait"  # TLS: wrapped once it speaks
        pending = _Pending(sock, time.monotonic() + self._handshake_s, stage)
        self._pending[pending.fd] = pending
        self._selector.register(sock, selectors.EVENT_READ, pending)
        self._advance(pending)  # an honest client's first bytes are usually here already

    def _evict(self, *, for_descriptor: bool = False) -> bool:
        """Close the pending connection with the least standing, oldest first; False if
        none was closed and none has gone meanwhile (no place or descriptor came back).

        Silent ones go first, then those that spoke but have shown nothing
        this bridge recognises; one that has shown a pinned certificate or a
        key id the bridge holds only to make room for a new connection when
        nothing else is left, never for a descriptor (``for_descriptor``: the
        connection it would make room for is unknown, and accepting pauses
        instead). A flood of idle (or babbling) connections therefore never
        pushes out an honest client's handshake.
        """
        before = len(self._pending)
        for pending in [p for p in self._pending.values() if p.standing == 0]:
            if self._spoke(pending):  # its bytes came after we last looked: read them now
                self._advance(pending)
        if len(self._pending) < (before if for_descriptor else self.max_pending):
            return True  # that freed a place (a peer hung up, or a handshake finished)
        if not self._pending:
            return False
        waiting = list(self._pending.values())
        least = min(p.standing for p in waiting)
        if for_descriptor and least >= 2:
            return False  # only honest handshakes hold descriptors: let them finish
        victim = next(p for p in waiting if p.standing == least)
        self.evicted += 1
        self._drop(victim)
        return True

    @staticmethod
    def _spoke(pending: _Pending) -> bool:
        """Whether a connection that looked silent has bytes (or EOF) waiting."""
        try:
            pending.sock.recv(1, socket.MSG_PEEK)  # bytes, or b"" at EOF: either is news
            return True
        except BlockingIOError:
            return False
        except OSError:
            return True  # _advance meets the error and drops it

    def _drop(self, pending: _Pending) -> None:
        self._forget(pending)
        try:
            pending.sock.close()
        except OSError:
            pass

    def _forget(self, pending: _Pending) -> None:
        if self._pending.get(pending.fd) is pending:
            del self._pending[pending.fd]
        try:
            self._selector.unregister(pending.fd)
        except (KeyError, ValueError):
            pass

    # the handshake, without blocking ---------------------------------------------

    def _advance(self, pending: _Pending) -> None:
        try:
            if pending.stage == "wait" and not self._wrap(pending):
                return
            if pending.stage == "tls":
                try:
                    pending.sock.do_handshake()
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    return
                self._tls.check(pending.sock)
                pending.stage, pending.standing = "hello", 2
            while True:
                want = _channel.CLIENT_HELLO if pending.stage == "hello" else 32
                try:
                    chunk = pending.sock.recv(want - len(pending.data))
                except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    return
                if not chunk:
                    raise ConnectionError("closed during the handshake")
                pending.standing = max(pending.standing, 1)
                pending.data += chunk
                if pending.stage == "hello" and not _channel.MAGIC.startswith(
                        pending.data[:len(_channel.MAGIC)]):
                    self._other_protocol(pending)
                if len(pending.data) < want:
                    continue
                if pending.stage == "hello":
                    self._hello(pending)
                else:
                    self._proof(pending)
                    return
        except (OSError, ValueError):
            self._drop(pending)

    def _wrap(self, pending: _Pending) -> bool:
        """Start TLS once the peer has sent its first bytes; False while it is silent.

        A peer whose whole first record (a ClientHello) is already here ranks
        above one that sent a fragment: the fragment is what a cheap flood sends.
        """
        try:
            head = pending.sock.recv(5, socket.MSG_PEEK)
        except BlockingIOError:
            return False
        if head[:1] != b"\x16":  # EOF, or not a TLS handshake record: no need to wait for more
            raise ConnectionError("not TLS")
        whole = False
        if len(head) == 5:
            size = 5 + int.from_bytes(head[3:5], "big")
            whole = len(pending.sock.recv(size, socket.MSG_PEEK)) == size
        self._selector.unregister(pending.sock)
        pending.sock = self._tls.context.wrap_socket(pending.sock, server_side=True,
                                                     do_handshake_on_connect=False)
        self._selector.register(pending.sock, selectors.EVENT_READ, pending)
        pending.stage, pending.standing = "tls", 2 if whole else 1
        return True

    @staticmethod
    def _other_protocol(pending: _Pending) -> None:
        """Refuse a hello that is not ours; one of another mt5guard wire protocol (our
        magic, another last byte) is told ours first, so that its client can name both."""
        magic = _channel.MAGIC
        if len(pending.data) >= len(magic) and pending.data.startswith(magic[:-1]):
            try:
                pending.sock.send(_channel.OTHER_PROTOCOL)
            except OSError:
                pass
            raise ConnectionError("another wire protocol")
        raise ConnectionError("not our protocol")

    def _hello(self, pending: _Pending) -> None:
        data, pending.data = pending.data, b""
        magic = _channel.MAGIC
        key = self._keys.get(data[len(magic):len(magic) + 8])
        if not data.startswith(magic):
            raise ConnectionError("not our protocol")
        if key is None:  # say so: a wrong key is the client's configuration, not an outage
            try:
                pending.sock.send(_channel.UNKNOWN_KEY)
            except OSError:
                pass
            raise ConnectionError("a key this bridge does not hold")
        pending.key, pending.nonce = key, data[len(magic) + 8:]
        pending.server_nonce = os.urandom(32)
        answer = pending.server_nonce + _channel.server_proof(key, pending.nonce,
                                                              pending.server_nonce)
        if pending.sock.send(answer) != len(answer):
            raise ConnectionError("the peer does not read")
        pending.stage, pending.standing = "proof", 2

    def _proof(self, pending: _Pending) -> None:
        expected = _channel.client_proof(pending.key, pending.nonce, pending.server_nonce)
        if not hmac.compare_digest(pending.data, expected):
            raise ConnectionError("the client did not prove the key")
        self._forget(pending)
        sock = pending.sock
        sock.setblocking(True)
        with self._lock:
            full = self._sessions >= self.max_sessions
            if not full:
                self._sessions += 1
        if full:
            conn = _channel.Framed(sock, _channel.REQUEST_CAP)
            try:
                conn.send_bytes(json.dumps(["refused", f"the bridge serves at most "
                                            f"{self.max_sessions} sessions"]).encode())
            finally:
                conn.close()
            return
        threading.Thread(target=self._run_session, args=(sock,), name="bridge-session",
                         daemon=True).start()

    def _run_session(self, sock: Any) -> None:
        try:
            self._session(sock)
        finally:
            with self._lock:
                self._sessions -= 1


def listen(host: str, port: int) -> socket.socket:
    """The bridge's listening socket: backlog 1024, silent peers deferred by the kernel."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "TCP_DEFER_ACCEPT"):  # Linux: silent peers never reach accept() at all
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 3)
    listener.bind((host, port))
    listener.listen(1024)
    return listener


def run_bridge(host: str, port: int, keys: dict[bytes, bytes], spec: dict[str, Any], *,
               tls: Any = None, max_sessions: int = 64) -> int:
    """Serve on ``host:port`` until killed; every session gets its own worker."""
    relay = _sibling("_relay")

    def session(sock: Any) -> None:
        conn = _channel.Framed(sock, _channel.REQUEST_CAP)
        try:
            conn.send_bytes(json.dumps(["hello", {"pid": os.getpid(), "backend": spec.get(
                "backend"), "protocol": PROTOCOL, "tls": tls is not None}]).encode())
        except OSError:
            conn.close()
            return
        relay.Relay(conn, spec).run()

    listener = listen(host, port)
    gate = Gate(listener, keys, session, tls=tls, max_sessions=max_sessions)
    bound = listener.getsockname()
    mode = "mutual TLS" if tls is not None else "PLAINTEXT (insecure, loopback only)"
    print(f"mt5guard terminal bridge: {mode}, at most {gate.max_sessions} sessions and "
          f"{gate.max_pending} unauthenticated connections", file=sys.stderr, flush=True)
    print(f"mt5guard terminal bridge listening on {bound[0]}:{bound[1]}", flush=True)
    gate.serve_forever()
    return 0
