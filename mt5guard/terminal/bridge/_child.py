"""The worker's side of its channel, and its ties to its parent.

Standard library only, like :mod:`mt5guard.terminal.bridge.server`. On POSIX
the channel is the socket-pair end the parent passed (``--fd``), checked to
belong to our own user; on Windows a named pipe with a random name and the
per-worker key. The worker exits when its parent's end of stdin closes, and
on Linux the kernel kills it when the parent dies, stopped or not.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

__all__ = ["die_with_parent", "piped_channel", "socket_channel", "watch_parent"]


if __package__:
    from mt5guard.terminal.bridge._siblings import sibling as _sibling
else:  # loaded by path: server.py, run as a plain file, loaded the loader first
    _sibling = sys.modules["_mt5guard_siblings"].sibling


def watch_parent(stdin: Any) -> None:
    """Exit the moment our parent's end of stdin closes (the parent ended)."""
    def watch() -> None:
        while stdin.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def die_with_parent(parent: int) -> None:
    """Linux: SIGKILL when the parent dies, even while stopped (SIGSTOP); then check it lives.

    The stdin watch cannot run in a stopped process; the kernel's death signal
    can. The parent spawns every worker from one process-long thread, since
    the signal follows the thread that forked.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent and os.getppid() != parent:  # it died before the signal was armed
        os._exit(0)


def _private_address() -> tuple[str, str]:
    token = os.urandom(16).hex()
    if sys.platform == "win32":
        return rf"\\.\pipe\mt5guard-worker-{token}", "AF_PIPE"
    import tempfile

    folder = tempfile.mkdtemp(prefix="mt5guard-")  # mode 0700: only this user enters it
    return os.path.join(folder, "worker"), "AF_UNIX"


def socket_channel(fd: int) -> Any:
    """The socket-pair end our parent passed us, checked to belong to our own user."""
    import socket

    sock = socket.socket(fileno=fd)
    if hasattr(socket, "SO_PEERCRED"):
        import struct

        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        if uid != os.getuid():
            raise PermissionError(f"the worker channel belongs to uid {uid}, not ours")
    channel = _sibling("_channel")
    return channel.Framed(sock, channel.REQUEST_CAP)


def piped_channel(key: bytes) -> Any:
    """A named pipe (Windows) or a socket in a private folder, authenticated with ``key``."""
    # Imported here: multiprocessing brings shutil, tempfile, bz2, lzma, subprocess... (~20 ms
    # of CPU), which a POSIX worker on its socket pair (socket_channel) never uses.
    from multiprocessing import connection as mpc

    address, family = _private_address()
    with mpc.Listener(address, family, authkey=key) as listener:
        try:
            sys.stdout.write(json.dumps({"address": address, "family": family}) + "\n")
            sys.stdout.flush()
        except OSError:  # the parent is already gone
            return None
        conn = listener.accept()
    if family == "AF_UNIX":
        os.unlink(address)
        os.rmdir(os.path.dirname(address))
    return conn
