"""The futures the pykka glue hands out (pykka's public ``Future`` API only).

:class:`_DrivenFuture` is the reply of every ``ask``: a ``ThreadingFuture``
that a loop host (the deterministic runtime) drives until it is set.
:data:`UNREAD` is the reply of a stop whose sender never reads it
(:func:`~mt5guard.supervision._pykka.stop_unread`).
"""

from __future__ import annotations

import sys
from typing import Any

import pykka

from mt5guard.supervision._hosting import driver_of_current_thread

__all__ = ["UNREAD"]


class _DrivenFuture(pykka.ThreadingFuture[Any]):
    """A ThreadingFuture that lets a loop host drive the waiting thread until it is set."""

    _done = False

    def set(self, value: Any | None = None) -> None:
        super().set(value)
        self._done = True

    def set_exception(self, exc_info: Any = None) -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        super().set_exception(exc_info)
        self._done = True

    def set_get_hook(self, func: Any) -> None:
        super().set_get_hook(func)
        self._done = True  # the hook computes the value on get (and waits there if it must)

    def get(self, *, timeout: float | None = None) -> Any:
        driver = driver_of_current_thread()
        if (driver is not None and not self._done
                and not driver.wait_until(lambda: self._done, timeout)):
            raise pykka.Timeout(f"{timeout} seconds (simulated)")
        return super().get(timeout=timeout)


class _Unread(pykka.Future[Any]):
    """A reply nobody reads: setting it does nothing, so one serves every such message."""

    def set(self, value: Any | None = None) -> None:
        pass

    def set_exception(self, exc_info: Any = None) -> None:
        pass


UNREAD = _Unread()
