"""Workers forked by a zygote (Linux), and our end of that zygote.

Standard library only, like :mod:`mt5guard.terminal.bridge.server`: the
bridge's ``--listen`` mode forks its sessions' workers the same way. The
zygote's side, and the messages both sides exchange, are in ``_zygote.py``.

One zygote per process at a time, started with the first worker and killed
when the last worker it forked is killed or reaped: nothing of ours stays
behind when no worker runs. A worker is killed through its pidfd (a pidfd
names one process, never a PID reused after it was reaped) and waited for
by polling it; its exit status comes from the zygote, which reaps it.
Whatever the zygote cannot do (it died, was stopped past a start's
timeout, or cannot fork here at all) ``_processes.spawn_worker`` does by
spawning, and says so in a log line.
"""

from __future__ import annotations

import json
import logging
import math
import os
import select
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

__all__ = ["Forked", "ZygoteGone", "fork_worker", "usable"]

if __package__:
    from mt5guard.terminal.bridge._siblings import sibling as _sibling
else:  # loaded by path: server.py, run as a plain file, loaded the loader first
    _sibling = sys.modules["_mt5guard_siblings"].sibling

_processes = _sibling("_processes")
_channel = _sibling("_channel")
_link = _sibling("_zygote_link")
ZygoteGone = _link.ZygoteGone
if TYPE_CHECKING:
    from mt5guard.terminal.bridge._zygote_link import ZygoteLink
_log = logging.getLogger("mt5guard.worker")


def usable(env: dict[str, str]) -> bool:
    """Linux with pidfds, and one BLAS thread: a zygote forks only while it has one thread."""
    return (sys.platform.startswith("linux") and hasattr(os, "pidfd_open") and not _REFUSED
            and all(env.get(name) == "1" for name in _processes._ONE_THREAD))


class Forked:
    """A worker forked by a zygote: ``pid``, ``kill()``, ``wait(timeout)``, ``poll()``, ``close()``."""

    def __init__(self, zygote: ZygoteLink, token: int, pid: int, pidfd: int, stdin: int
                 ) -> None:
        self.zygote, self.token, self.pid = zygote, token, pid
        self._pidfd, self._stdin = pidfd, stdin
        self._lock = threading.Lock()
        self._status: int | None = None
        self._released = False

    def kill(self) -> None:
        """SIGKILL through its pidfd (no PID reuse can misdirect it), stopped or not."""
        with self._lock:
            if self._pidfd >= 0 and self._status is None:
                try:
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                except OSError:  # it has exited already
                    pass
        self._release()

    def wait(self, timeout: float) -> int | None:
        """Its exit status within ``timeout`` s, else None. If its zygote is gone, the
        status went with it: -9, which is what the zygote's death does to a worker."""
        if self._status is not None:
            return self._status
        deadline = time.monotonic() + timeout
        with self._lock:
            pidfd = self._pidfd
        if pidfd >= 0:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)  # readable once the process has exited
            if not poller.poll(math.ceil(max(0.0, timeout) * 1000)):
                return None
        try:
            self._status = self.zygote.exit_status(self.token, max(deadline, time.monotonic()
                                                                   + 0.001))
        except ZygoteGone:
            self._status = -signal.SIGKILL
        except TimeoutError:
            return None
        return self._status

    def poll(self) -> int | None:
        return self.wait(0.0)

    def close(self) -> None:
        """Close its stdin (it exits at the EOF, if it still runs) and our pidfd."""
        with self._lock:
            for fd in (self._stdin, self._pidfd):
                if fd >= 0:
                    os.close(fd)
            self._stdin = self._pidfd = -1
        self._release()

    def _release(self) -> None:
        with self._lock:
            released, self._released = self._released, True
        if not released:
            _release(self.zygote)


_LOCK = threading.Lock()
_CURRENT: list[ZygoteLink] = []  # the zygote new workers come from: at most one
_REFUSED: list[str] = []  # a zygote could not serve here: every worker is spawned


def _refuse(why: str) -> None:
    if not _REFUSED:
        _REFUSED.append(why)
        _log.warning("%s: this process spawns its terminal workers instead", why)


def _acquire(env: dict[str, str]) -> ZygoteLink:
    with _LOCK:
        if _REFUSED:
            raise ZygoteGone(_REFUSED[0])
        zygote = _CURRENT[0] if _CURRENT else None
        if zygote is not None and zygote.owner != os.getpid():  # we are a fork of its owner
            _CURRENT.clear()
            zygote = None
        if zygote is not None and (zygote.gone is not None or zygote.env != env):
            _retire(zygote)
            zygote = None
        if zygote is None:
            try:
                zygote = _link.ZygoteLink(env)
            except OSError as exc:
                raise ZygoteGone(f"it could not start ({exc})") from None
            _CURRENT[:] = [zygote]
        zygote.workers += 1
        return zygote


def _retire(zygote: ZygoteLink) -> None:
    """No new worker from it; closed now if none of its workers is left (under _LOCK)."""
    zygote.retired = True
    if _CURRENT and _CURRENT[0] is zygote:
        _CURRENT.clear()
    if zygote.workers == 0:
        zygote.close()


def _release(zygote: ZygoteLink) -> None:
    with _LOCK:
        zygote.workers -= 1
        if zygote.workers == 0:
            _retire(zygote)


def fork_worker(spec: dict[str, Any], deadline: float) -> Any:
    """A ``WorkerProcess`` forked by this process's zygote, greeted by ``deadline``.

    Raises ``ZygoteGone`` (then spawn it), or what ``spawn_worker`` raises. A
    failed start leaves no worker and no open descriptor behind.
    """
    zygote = _acquire(_processes._worker_env())
    try:
        token, pid, pidfd, ours, write = zygote.fork(deadline)
    except TimeoutError:
        with _LOCK:  # stopped, or starved: its workers keep it, new ones come from a new one
            if not zygote.retired:
                _log.warning("terminal worker zygote pid %s did not fork within the start "
                             "timeout: the next start uses a new one", zygote.pid)
                _retire(zygote)
        _release(zygote)
        raise
    except ZygoteGone as exc:
        if zygote.refused is not None:
            _refuse(f"terminal worker zygote pid {zygote.pid} {zygote.refused}")
        else:
            _log.warning("terminal worker zygote pid %s: %s; spawning this worker instead",
                         zygote.pid, exc)
        _release(zygote)
        raise
    except BaseException:
        _release(zygote)
        raise
    forked = Forked(zygote, token, pid, pidfd, write)
    conn = _channel.Framed(ours, _channel.REPLY_CAP)
    try:
        _write_all(write, b"\n" + json.dumps(spec).encode() + b"\n")
        return _processes.WorkerProcess(forked, conn, _processes._greeting(forked, conn, deadline))
    except BaseException:
        conn.close()
        forked.kill()
        forked.wait(1.0)
        forked.close()
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
