"""The worker's quote watch, seen from the client: ``watch`` and the pushed rounds.

A :class:`~mt5guard.terminal.worker.WorkerTerminal` that was told
:meth:`PushedQuotes.watch` receives one unsolicited
:class:`~mt5guard.terminal.worker.wire.Polled` frame per completed poll round
of its worker. Frames read while a call waits for its reply are kept (at most
``_KEPT`` rounds, the oldest dropped first); :meth:`PushedQuotes.take_pushed`
hands them over together with whatever is waiting on the connection, without
sending anything and without blocking.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from typing import Any

from mt5guard.errors import MT5DataError
from mt5guard.terminal.worker.wire import Polled, ShapeTable, decode_frame

__all__ = ["PushedQuotes"]

_log = logging.getLogger("mt5guard.worker")
_KEPT = 256  # pushed rounds kept between two takes


class PushedQuotes:
    """Mixin of WorkerTerminal: its ``_link``, ``_call`` and ``_lose`` do the work."""

    _link: Any
    lost: str | None
    _shapes: ShapeTable
    name: str

    def _init_pushed(self) -> None:
        self._pushed: deque[Polled] = deque(maxlen=_KEPT)
        self.pushed_dropped = 0  # rounds dropped because nobody took them in time

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _lose(self, name: str, code: int, text: str, link: Any = None) -> Any:
        raise NotImplementedError

    def watch(self, symbols: Iterable[str], interval: float) -> dict[str, Any] | None:
        """Make the worker poll ``symbols`` every ``interval`` real seconds (none: stop).

        Rounds pushed before the reply belong to the previous watch: they are
        discarded here. None (with ``last_error``) if the worker is gone.
        """
        result: dict[str, Any] | None = self._call("watch", list(symbols), float(interval))
        self._pushed.clear()
        return result

    def _keep_pushed(self, frame: Polled) -> None:
        if len(self._pushed) == self._pushed.maxlen:
            self.pushed_dropped += 1
        self._pushed.append(frame)

    def take_pushed(self) -> list[Polled]:
        """The rounds pushed since the last take, oldest first; never blocks.

        A closed connection marks the worker lost (see ``lost``); a frame that
        is neither a push nor a reply is logged and dropped.
        """
        link = self._link
        if link is not None and self.lost is None:
            try:
                while link.conn.poll(0):
                    self._read_one(link.conn.recv_bytes())
            except BlockingIOError:
                pass  # a frame's rest still on its way (links.receiver): kept buffered for later
            except (OSError, EOFError, ValueError):
                self._lose("watch", -10004, f"No IPC connection: {link.describe()} ended")
        taken = list(self._pushed)
        self._pushed.clear()
        return taken

    def _read_one(self, raw: bytes) -> None:
        try:
            frame = decode_frame(raw, "watch", self._shapes)
        except MT5DataError as err:
            _log.warning("%s: dropped a frame: %s", self.name, err)
            return
        if isinstance(frame, Polled):
            self._keep_pushed(frame)
        else:
            _log.debug("%s: dropped a late reply to request %s", self.name, frame.ident)
