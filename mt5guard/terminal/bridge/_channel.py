"""Frames and the mutual key handshake of the worker and bridge wire.

Standard library only, like :mod:`mt5guard.terminal.bridge.server` (which
loads this file by path when it runs as a plain file under Windows Python).

Frames are ``multiprocessing.connection``'s: a 4-byte big-endian signed
length, then the bytes (wire compatible with its ``Connection``). Unlike
``Connection.recv_bytes``, :meth:`Framed.recv_bytes` refuses a header that
announces more than its cap *before* reading the body
(:class:`FrameTooLarge`): a peer cannot make us allocate 2 GiB, or wait for
them. It works over any socket, TLS included (``pending()`` bytes are seen).

The handshake (bridge, TCP) proves the key both ways and cannot be
reflected: the two directions use distinct labels, and the client answers
only after the server has proven itself::

    client -> server  b"MT5G" version key_id(8) Nc(32)
    server -> client  Ns(32) HMAC(key, b"mt5guard/server" Nc Ns)
    client -> server  HMAC(key, b"mt5guard/client" Ns Nc)

A fake bridge that relays the client's nonce to a second connection of the
same client gets only client-labelled answers, never the server proof it
needs. ``key_id`` (8 bytes of a hash of the key) lets a bridge hold several
keys (one per account, or old and new while rotating).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import select
import socket
import struct
import time
from typing import Any

__all__ = [
    "CLIENT_HELLO",
    "MAGIC",
    "OTHER_PROTOCOL",
    "REPLY_CAP",
    "REQUEST_CAP",
    "UNKNOWN_KEY",
    "FrameTooLarge",
    "Framed",
    "HandshakeClosed",
    "HandshakeError",
    "KeyRefused",
    "ProtocolRefused",
    "client_handshake",
    "client_proof",
    "key_id",
    "read_exact",
    "server_proof",
]

MAGIC = b"MT5G\x04"  # its last byte: the wire protocol (4: the usual record reply binary)
NONCE = 32
#: What a bridge answers a hello whose key id it does not hold, instead of its nonce and
#: proof: the client can then say "wrong key" (a configuration fault, not an outage).
UNKNOWN_KEY = b"mt5guard/unknown-key".ljust(2 * NONCE, b"\0")
#: What a bridge answers a hello of another wire protocol (``MT5G`` and another last byte),
#: instead of its nonce and proof, its own protocol in the last byte: the client can then
#: name both versions. (A bridge of protocol 3 or before closes the connection instead.)
OTHER_PROTOCOL = b"mt5guard/other-protocol".ljust(2 * NONCE - 1, b"\0") + MAGIC[-1:]
CLIENT_HELLO = len(MAGIC) + 8 + NONCE  # bytes the client sends first
#: Largest request frame a worker or the bridge accepts (bytes); requests are small.
REQUEST_CAP = 1 << 20
#: Largest reply frame a client accepts (bytes): a year of ticks fits, 2 GiB does not.
REPLY_CAP = 256 << 20


_LENGTH = struct.Struct("!i")  # a frame's header: its length, 4 bytes big-endian, signed


class FrameTooLarge(OSError):
    """A frame header announced more bytes than this side accepts; the stream is unusable."""


class HandshakeError(ConnectionError):
    """The peer did not prove the key (or did not finish in time)."""


class HandshakeClosed(HandshakeError):
    """The peer closed the connection before the handshake was done."""


class KeyRefused(HandshakeError):
    """The bridge holds no key with the id of ours: terminal.key is not the bridge's key."""


class ProtocolRefused(HandshakeError):
    """The bridge speaks another wire protocol: another mt5guard version runs there."""


def key_id(key: bytes) -> bytes:
    """8 bytes naming ``key`` without revealing it."""
    return hashlib.sha256(b"mt5guard/key-id" + key).digest()[:8]


def server_proof(key: bytes, client_nonce: bytes, server_nonce: bytes) -> bytes:
    return hmac.new(key, b"mt5guard/server" + client_nonce + server_nonce, "sha256").digest()


def client_proof(key: bytes, client_nonce: bytes, server_nonce: bytes) -> bytes:
    return hmac.new(key, b"mt5guard/client" + server_nonce + client_nonce, "sha256").digest()


def read_exact(sock: Any, count: int, deadline: float) -> bytes:
    """``count`` bytes from a blocking socket by ``deadline`` (time.monotonic) or HandshakeError."""
    data = b""
    while len(data) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise HandshakeError("the peer did not finish the handshake in time")
        sock.settimeout(left)
        try:
            chunk = sock.recv(count - len(data))
        except TimeoutError:
            raise HandshakeError("the peer did not finish the handshake in time") from None
        except ConnectionResetError:  # closed with our bytes unread: a close all the same
            chunk = b""
        if not chunk:
            raise HandshakeClosed("the peer closed the connection during the handshake")
        data += chunk
    return data


def client_handshake(sock: Any, key: bytes, deadline: float) -> None:
    """Prove ``key`` to a bridge, after it has proven it to us; HandshakeError if not."""
    nonce = os.urandom(NONCE)
    sock.settimeout(max(0.001, deadline - time.monotonic()))
    sock.sendall(MAGIC + key_id(key) + nonce)
    try:
        answer = read_exact(sock, 2 * NONCE, deadline)
    except HandshakeClosed as exc:
        raise HandshakeClosed(f"{exc} (a bridge of an older mt5guard, wire protocol "
                              f"{MAGIC[-1] - 1} or before, closes it at our hello: run the same "
                              "mt5guard version on both sides)") from None
    if answer[:-1] == OTHER_PROTOCOL[:-1]:
        raise ProtocolRefused(f"the bridge speaks wire protocol {answer[-1]}, this client "
                              f"{MAGIC[-1]}: run the same mt5guard version on both sides")
    if answer == UNKNOWN_KEY:
        raise KeyRefused("the bridge holds no key with this key's id: terminal.key differs "
                         "from the bridge's key")
    server_nonce, proof = answer[:NONCE], answer[NONCE:]
    if not hmac.compare_digest(proof, server_proof(key, nonce, server_nonce)):
        raise HandshakeError("the bridge did not prove the key: it is not our bridge, or its "
                             "key differs from terminal.key")
    sock.sendall(client_proof(key, nonce, server_nonce))


class Framed:
    """Length-framed messages over a connected socket (plain or TLS), blocking."""

    def __init__(self, sock: socket.socket, cap: int) -> None:
        sock.settimeout(None)
        self._sock = sock
        self._cap = cap
        self._buffer = bytearray()
        self._tls_pending = getattr(sock, "pending", None)  # bytes TLS decrypted, not read yet

    def fileno(self) -> int:
        return self._sock.fileno()

    @property
    def closed(self) -> bool:
        return self._sock.fileno() < 0

    @property
    def socket(self) -> socket.socket:
        return self._sock

    def pending(self) -> bool:
        """Whether bytes are already read into a buffer (ours or TLS's): poll would miss them."""
        return bool(self._buffer) or (self._tls_pending is not None and self._tls_pending() > 0)

    def send_bytes(self, data: bytes) -> None:
        size = len(data)
        header = struct.pack("!i", size) if size < 0x7FFFFFFF else \
            struct.pack("!i", -1) + struct.pack("!Q", size)
        if size > 16384:
            self._sock.sendall(header)
            self._sock.sendall(data)
        else:
            self._sock.sendall(header + data)

    def _fill(self, count: int) -> None:
        while len(self._buffer) < count:
            chunk = self._sock.recv(max(65536, min(count - len(self._buffer), 1 << 22)))
            if not chunk:
                raise EOFError("the peer closed the connection")
            self._buffer += chunk

    def recv_bytes(self) -> bytes:
        """The next frame; :class:`FrameTooLarge` (before reading it) if above the cap."""
        buffer = self._buffer
        if not buffer:  # the usual case: one recv holds exactly one whole frame
            chunk = self._sock.recv(65536)
            if not chunk:
                raise EOFError("the peer closed the connection")
            if len(chunk) >= 4:
                size = _LENGTH.unpack_from(chunk)[0]  # no slice, no keyword arguments
                if 0 <= size <= self._cap and len(chunk) == 4 + size:
                    return chunk[4:]
            buffer += chunk
        self._fill(4)
        size, start = int.from_bytes(buffer[:4], "big", signed=True), 4
        if size == -1:
            self._fill(12)
            size, start = int.from_bytes(buffer[4:12], "big"), 12
        if size < 0 or size > self._cap:
            raise FrameTooLarge(f"a frame of {size} bytes announced; at most {self._cap} accepted")
        end = start + size
        self._fill(end)
        data = bytes(buffer[start:end])
        del buffer[:end]
        return data

    def poll(self, timeout: float | None = 0.0) -> bool:
        """Whether a frame (or EOF) can be read within ``timeout`` seconds."""
        if self.pending():
            return True
        if self._sock.fileno() < 0:
            raise OSError("the connection is closed")
        ready, _, _ = select.select([self._sock], [], [], timeout)
        return bool(ready)

    def shutdown(self) -> None:
        """Wake a reader blocked on this connection (from any thread)."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass
