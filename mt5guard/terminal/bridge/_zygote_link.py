"""Our end of one zygote (``_zygote.py``): it starts the zygote, asks it for forks, reads its news.

Standard library only, like :mod:`mt5guard.terminal.bridge.server`. Linux.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["ZygoteGone", "ZygoteLink"]

if __package__:
    from mt5guard.terminal.bridge._siblings import sibling as _sibling
else:  # loaded by path: server.py, run as a plain file, loaded the loader first
    _sibling = sys.modules["_mt5guard_siblings"].sibling

_processes = _sibling("_processes")


class ZygoteGone(Exception):
    """The zygote cannot fork this worker (it died or cannot serve here): spawn it instead."""


class ZygoteLink:
    """One zygote process: we start it, ask it for forks and read the messages from it.

    Whichever thread waits for a message (a fork's answer, a worker's exit
    status) reads the control socket, one thread at a time, and files what
    it reads for the others.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = _processes._popen(
                [*_processes._command(), "--zygote", "--parent", str(os.getpid()),
                 "--fd", str(theirs.fileno())],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, close_fds=True,
                pass_fds=(theirs.fileno(),), env=env)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.pid, self.owner = self.proc.pid, os.getpid()
        self.workers = 0  # forked and not released yet (guarded by _LOCK)
        self.retired = False  # no new worker comes from it (guarded by _LOCK)
        self.gone: str | None = None  # why it cannot fork any more
        self.refused: str | None = None  # why no zygote can fork in this process
        self._ctl = ours
        self._poller = select.poll()
        self._poller.register(ours.fileno(), select.POLLIN)
        self._sending = threading.Lock()
        self._news = threading.Condition()
        self._reading = False
        self._closed = False
        self._tokens = itertools.count(1)
        self._answers: dict[int, tuple[int, int] | str] = {}
        self._abandoned: set[int] = set()  # tokens of starts that gave up waiting
        self._exits: dict[int, int] = {}  # token -> exit status

    def fork(self, deadline: float) -> tuple[int, int, int, socket.socket, int]:
        """A new worker: ``(token, pid, pidfd, our channel end, the write end of its stdin)``.

        Raises ``ZygoteGone``, or ``TimeoutError`` when the zygote did not answer by
        ``deadline`` (``time.monotonic()``); a worker forked after that finds its
        stdin closed and exits.
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        read, write = os.pipe()
        token = next(self._tokens)
        try:
            try:
                with self._sending:
                    socket.send_fds(self._ctl, [json.dumps(["fork", token]).encode()],
                                    [theirs.fileno(), read], socket.MSG_NOSIGNAL)
            except OSError as exc:
                with self._news:
                    self.gone = self.gone or f"its control socket failed ({exc})"
                raise ZygoteGone(self.gone) from None
            finally:
                theirs.close()
                os.close(read)
            answer: tuple[int, int] | str = self._await(
                lambda: self._answers.pop(token, None), deadline, token)
            if isinstance(answer, str):
                raise ZygoteGone(f"it could not fork ({answer})")
            pid, pidfd = answer
        except BaseException:
            ours.close()
            os.close(write)
            raise
        return token, pid, pidfd, ours, write

    def exit_status(self, token: int, deadline: float) -> int:
        """The exit status of the worker forked for ``token`` (a negative signal number when
        a signal ended it), as the zygote reaped it: by ``deadline``, else ``TimeoutError``."""
        status: int = self._await(lambda: self._exits.pop(token, None), deadline)
        return status

    def _await(self, take: Callable[[], Any], deadline: float, token: int | None = None) -> Any:
        """What ``take()`` returns once it is not None, reading messages meanwhile."""
        with self._news:
            while True:
                value = take()
                if value is not None:
                    return value
                if self.gone is not None:
                    raise ZygoteGone(self.gone)
                left = deadline - time.monotonic()
                if left <= 0:
                    if token is not None:
                        self._abandoned.add(token)
                    raise TimeoutError(f"terminal worker zygote pid {self.pid} did not answer "
                                       "in time")
                if self._reading:
                    self._news.wait(left)
                    continue
                self._reading = True
                self._news.release()
                try:
                    message = self._receive(left)
                finally:
                    self._news.acquire()
                    self._reading = False
                    self._news.notify_all()
                if message is not None:
                    self._file(*message)
                if self._closed and self.gone is not None:
                    self._ctl.close()

    def _receive(self, timeout: float) -> tuple[bytes, list[int]] | None:
        if not self._poller.poll(math.ceil(timeout * 1000)):
            return None
        try:
            data, fds, _flags, _addr = socket.recv_fds(self._ctl, 4096, 1,
                                                       socket.MSG_CMSG_CLOEXEC)
        except OSError:  # as good as its end: nothing more comes from it
            return b"", []
        return data, fds

    def _file(self, data: bytes, fds: list[int]) -> None:
        """One message, under ``_news``."""
        try:
            message: list[Any] = json.loads(data) if data else ["lost", "it exited"]
            tag = message[0]
            if tag == "forked" and len(fds) == 1:
                token, pid = int(message[1]), int(message[2])
                if token in self._abandoned:  # its start gave up: it exits at its stdin's EOF
                    os.close(fds.pop())
                else:
                    self._answers[token] = (pid, fds.pop())
            elif tag == "failed":
                if message[1] not in self._abandoned:
                    self._answers[message[1]] = str(message[2])
                self._abandoned.discard(message[1])
            elif tag == "exit":
                token = int(message[1])
                if token in self._abandoned:
                    self._abandoned.discard(token)
                else:
                    self._exits[token] = int(message[2])
            elif tag == "unusable":
                self.gone = self.refused = f"cannot fork here ({message[1]})"
            else:
                self.gone = self.gone or (str(message[1]) if tag == "lost"
                                          else f"it sent {tag!r}")
        except (ValueError, TypeError, IndexError) as exc:
            self.gone = f"it sent garbage ({exc})"
        finally:
            for fd in fds:
                os.close(fd)

    def close(self) -> None:
        """Kill and reap the zygote (it has no worker left); our socket closes after any read."""
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        with self._news:
            self.gone = self.gone or "it was closed"
            self._closed = True
            if not self._reading:
                self._ctl.close()
            for answer in self._answers.values():
                if not isinstance(answer, str):
                    os.close(answer[1])
            self._answers.clear()
