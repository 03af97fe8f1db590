"""The zygote: one preloaded, single-threaded process that forks terminal workers (Linux).

Standard library only, like :mod:`mt5guard.terminal.bridge.server`, which runs
it as ``server.py --zygote --parent PID --fd N``. The idea is Android's zygote
and ``multiprocessing``'s forkserver: pay for the interpreter, numpy and the
simulator once, then fork a worker in a few milliseconds instead of starting
an interpreter per worker. Our side of the conversation is ``_forked.py``.

Ties to its parent, exactly like a spawned worker: spawned from the parent's
process-long spawner thread, ``PR_SET_PDEATHSIG`` (SIGKILL) then a check that
the parent still lives, and an exit at the EOF of its stdin (a pipe only the
parent holds). Every worker it forks sets its own ``PR_SET_PDEATHSIG`` against
the zygote and reads its own stdin pipe, whose write end only the parent
holds: when the parent dies, the zygote dies, and with it every worker,
stopped or not; when the parent closes a worker's pipe, that worker exits.

The control socket (SOCK_SEQPACKET, one message per datagram, JSON)::

    parent -> zygote  ["fork", token]  + fds [channel end, stdin read end]
    zygote -> parent  ["forked", token, pid]  + fd [pidfd of the worker]
                      ["failed", token, reason]
                      ["exit", token, returncode]   (each worker, when reaped)
                      ["unusable", reason]          (then it exits)

The zygote never sees a spec: the worker reads its spec (the password) from
its own stdin after the fork, as a spawned one does. It holds no descriptor
of a worker after forking it, and it forks only while it has one thread.
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["serve_forks"]


if __package__:
    from mt5guard.terminal.bridge._siblings import sibling as _sibling
else:  # loaded by path: server.py, run as a plain file, loaded the loader first
    _sibling = sys.modules["_mt5guard_siblings"].sibling


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _send(ctl: socket.socket, message: list[Any], fds: tuple[int, ...] = ()) -> None:
    socket.send_fds(ctl, [json.dumps(message).encode()], list(fds), socket.MSG_NOSIGNAL)


def serve_forks(ctl_fd: int, parent: int, preload: Callable[[], None],
                run_child: Callable[[int, int], int]) -> int:
    """Preload, then fork a worker per request until stdin or the control socket ends.

    ``run_child(fd, parent)`` is what a forked worker runs (``server.run_child``).
    Returns only when the zygote cannot serve; otherwise it exits with ``os._exit``.
    """
    _sibling("_child").die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the parent's to handle
    ctl = socket.socket(fileno=ctl_fd)
    try:
        preload()
        os.close(os.pidfd_open(os.getpid()))  # kernels before 5.3 have no pidfd: no zygote
        problem = None if _threads() == 1 else f"{_threads()} threads after the preload, not one"
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:  # a fork copies one thread: locks others hold would stay held
        try:
            _send(ctl, ["unusable", problem])
        except OSError:  # the parent is gone
            pass
        return 1
    gc.freeze()  # preloaded objects stay out of the workers' collections: fewer copied pages
    wake_r, wake_w = os.pipe()
    for end in (wake_r, wake_w):
        os.set_blocking(end, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    poller = select.poll()
    for fd in (0, ctl.fileno(), wake_r):
        poller.register(fd, select.POLLIN)
    zygote = _Zygote(ctl, run_child)
    while True:
        for fd, _event in poller.poll():
            if fd == 0 and not os.read(0, 4096):
                zygote.reap()
                os._exit(0)  # the parent is gone or let us go
            if fd == wake_r:
                while True:
                    try:
                        if not os.read(wake_r, 512):
                            break
                    except BlockingIOError:
                        break
            if fd == ctl.fileno() and not zygote.request():
                os._exit(0)
        zygote.reap()


class _Zygote:
    """The zygote's state between requests: its control socket and its workers' tokens."""

    def __init__(self, ctl: socket.socket, run_child: Callable[[int, int], int]) -> None:
        self.ctl, self.run_child = ctl, run_child
        self.tokens: dict[int, Any] = {}  # pid -> the token it was forked for

    def request(self) -> bool:
        """One fork request; False at the EOF of the control socket."""
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.ctl, 4096, 2, socket.MSG_CMSG_CLOEXEC)
        except OSError:  # the parent died with our replies unread: the kernel reset the socket
            return False
        if not data:
            for fd in fds:
                os.close(fd)
            return False
        token = None
        try:
            tag, token = json.loads(data)
            if tag != "fork" or len(fds) != 2:
                raise ValueError(f"not a fork request: {tag!r} with {len(fds)} descriptors")
            self._fork(token, fds[0], fds[1])
        except (ValueError, TypeError, OSError) as exc:
            try:
                _send(self.ctl, ["failed", token, f"{type(exc).__name__}: {exc}"])
            except OSError:  # the parent is gone
                return False
        finally:
            for fd in fds:
                os.close(fd)
        return True

    def _fork(self, token: Any, channel: int, stdin: int) -> None:
        pid = os.fork()
        if pid == 0:
            self._become_worker(channel, stdin)
        try:
            pidfd = os.pidfd_open(pid)  # before any reaping: it names this very process
        except OSError:
            os.kill(pid, signal.SIGKILL)
            raise
        self.tokens[pid] = token
        try:
            _send(self.ctl, ["forked", token, pid], (pidfd,))
        finally:
            os.close(pidfd)

    def _become_worker(self, channel: int, stdin: int) -> None:
        """In the child: its own stdin and channel, nothing of the zygote's; never returns."""
        code = 1
        try:
            zygote = os.getppid()
            signal.set_wakeup_fd(-1)
            for signum, handler in ((signal.SIGCHLD, signal.SIG_DFL),
                                    (signal.SIGINT, signal.default_int_handler)):
                signal.signal(signum, handler)
            self.ctl.close()
            os.dup2(stdin, 0)
            keep = {0, 1, 2, channel}
            for name in os.listdir("/proc/self/fd"):  # the zygote's pipes, the request's stdin
                if int(name) not in keep:
                    try:
                        os.close(int(name))
                    except OSError:  # the listing's own descriptor, closed already
                        pass
            numpy = sys.modules.get("numpy.random")
            if numpy is not None:  # the legacy global generator was seeded in the zygote
                numpy.seed()
            code = self.run_child(channel, zygote)
            sys.stdout.flush()
        except BaseException:  # as a spawned worker would: say why on stderr
            sys.excepthook(*sys.exc_info())
        finally:
            os._exit(code)

    def reap(self) -> None:
        """Collect every exited worker and report its status (a negative signal number)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            try:
                _send(self.ctl, ["exit", self.tokens.pop(pid, None),
                                 os.waitstatus_to_exitcode(status)])
            except OSError:  # the parent is gone: stdin says so next
                return
