"""SIGINT and SIGTERM for ``run``: the handler only wakes a thread, the thread stops the run.

A Python signal handler runs in the main thread between two bytecodes, wherever
that thread is, also inside ``threading.Event.wait`` while it holds the event's
own lock, which is not re-entrant: an ``Event.set()`` made by the handler there
never returns (run.py hung for ever on a SIGTERM that came as it wrote a status
line). So the handler does nothing; the interpreter writes the signal's number
to a pipe (``signal.set_wakeup_fd``) and a thread of ours reads it, logs it and
sets the stop event like any other thread.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["StopSignals"]

_STOPPING = (signal.SIGINT, signal.SIGTERM)


def _nothing(_signum: int, _frame: FrameType | None) -> None:
    """The Python-level handler: the byte in the wakeup pipe is the whole message."""


class StopSignals:
    """While installed, SIGINT or SIGTERM logs "received X: stopping" and sets ``stop``."""

    def __init__(self, stop: threading.Event, log: logging.Logger) -> None:
        self._stop, self._log = stop, log
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)  # set_wakeup_fd's rule: a full pipe drops, never blocks
        self._previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}
        self._previous_fd, self._installed = -1, False
        self._relay = threading.Thread(target=self._forward, name="mt5guard-signals", daemon=True)

    def install(self) -> None:
        """From the main thread (Python's rule for signal handlers)."""
        self._relay.start()
        self._installed = True
        self._previous_fd = signal.set_wakeup_fd(self._write)
        for signum in _STOPPING:
            self._previous[signum] = signal.signal(signum, _nothing)

    def close(self) -> None:
        """Puts the previous handlers back and ends the relay thread (main thread)."""
        if self._installed:
            self._installed = False
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)
            self._previous.clear()
            signal.set_wakeup_fd(self._previous_fd)  # before its pipe closes
        os.close(self._write)  # the relay reads the end of the pipe and returns
        self._relay.join(timeout=5.0)
        if not self._relay.is_alive():
            os.close(self._read)

    def _forward(self) -> None:
        while True:
            try:
                received = os.read(self._read, 64)
            except OSError:
                return
            if not received:
                return
            for signum in received:
                if signum in _STOPPING:
                    self._log.info("received %s: stopping", signal.Signals(signum).name)
                    self._stop.set()
