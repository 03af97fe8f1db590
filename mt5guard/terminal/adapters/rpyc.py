"""RpycTerminal: the Terminal protocol through an rpyc classic server.

mt5linux, mt5-remote and MetaTrader5-Docker run the ``MetaTrader5`` module
under Windows Python (often in Wine) behind rpyc's classic server
(``SlaveService``). Our side of the connection lends the server nothing of
our process (``_rpyc_wire.client_service``). We install one small helper in
the connection's namespace on the server: it calls the module and turns every
reply into tuples of primitives (records as ``(name, value)`` pairs, via
``_asdict()``), which rpyc's brine sends by value. No netref outlives a call,
nothing is unpickled here, and our records are rebuilt on our side.

The server is foreign and untrusted: every reply is copied to plain Python
values of exact builtin types (``_rpyc_wire.plain``); a remote object (a
netref) anywhere in it is an :class:`~mt5guard.errors.MT5DataError`, never a
field of our records. Opening the connection (TCP, rpyc's greeting, our
helper) must finish within ``connect_timeout`` seconds, without rpyc's own
retries. Every call has a deadline (``call_timeout``, seconds). Past it the
call is abandoned (a reply already received by then is still taken), the
connection closed and :class:`TerminalHung` raised:
the session fails and its supervisor restarts it, and the restart's
``initialize`` opens a new connection. A connection that cannot be opened or
that breaks raises :class:`MT5ConnectionError`. :meth:`RpycTerminal.kill`
ends the connection from any thread, so a thread blocked in a call returns.

rpyc is imported lazily, in the constructor: install ``mt5guard[rpyc]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mt5guard.errors import MT5ConnectionError, MT5DataError
from mt5guard.terminal.adapters import _rpyc_wire as wire
from mt5guard.terminal.adapters._base import ModuleTerminal, Record, import_or_explain
from mt5guard.terminal.adapters._rpyc_link import RpycLink
from mt5guard.terminal.hung import TerminalHung
from mt5guard.terminal.protocol import DateArg

__all__ = ["RpycTerminal"]

_SHUTDOWN_TIMEOUT = 5.0  # seconds: a shutdown never waits a whole call_timeout


class RpycTerminal(ModuleTerminal):
    """A terminal behind an rpyc classic server at ``host``:``port``.

    ``path`` is the terminal64.exe on the server's machine. ``call_timeout``
    is in seconds and must exceed the ``initialize`` timeout (60 s by
    default), so MT5 reports its own IPC timeout before we abandon the call;
    ``connect_timeout`` (seconds) bounds opening the connection. ``monotonic``
    (seconds) is the clock call deadlines are measured on; tests hand their own.
    Raises :class:`TerminalUnavailableError` when rpyc is not installed.
    """

    def __init__(self, host: str, port: int, *, path: str | None = None,
                 call_timeout: float = 75.0, connect_timeout: float = 10.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        rpyc = import_or_explain(
            "rpyc", "rpyc is not installed: pip install 'mt5guard[rpyc]' (rpyc 6.x, the same "
            "major version as the server's)")
        self._host, self._port, self._path = host, port, path
        self._link = RpycLink(rpyc, host, port, call_timeout=call_timeout,
                              connect_timeout=connect_timeout, monotonic=monotonic)

    def __repr__(self) -> str:
        return f"RpycTerminal({self._host}:{self._port}, path={self._path!r})"

    @property
    def connected(self) -> bool:
        """Whether a connection to the server is open (it may still be broken)."""
        return self._link.connected

    # the connection ------------------------------------------------------------

    def kill(self, reason: str = "killed") -> None:
        """End the connection now, from any thread: a call blocked on it returns at once."""
        self._link.kill(reason)

    def _where(self) -> str:
        return self._link.where()

    def _open(self) -> None:
        if not self._link.connected:
            self._link.open()

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], dict):  # a trade request: sent as pairs, a dict there
            return self._link.call(name, tuple(args[0].items()), *args[1:],
                                   kwargs=tuple(kwargs.items()), dict_arg=True)
        return self._link.call(name, *args, kwargs=tuple(kwargs.items()))

    def _record(self, kind: type[Record], raw: Any) -> Record:
        return wire.record(kind, raw)

    def _date(self, value: DateArg, rounding: Callable[[float], int]) -> int:
        return wire.epoch(value, rounding)  # datetimes cannot cross as values

    def _array(self, raw: Any) -> Any:
        return wire.array(raw)  # numpy arrays cross as dtype + bytes

    # the Terminal protocol -------------------------------------------------------

    def shutdown(self) -> bool:
        """Shut the terminal connection down on the server (waiting at most 5 s), then ours.

        While another thread is inside a call (hung, perhaps), the server is not
        asked: that request would queue behind the hung call for the rest of its
        call_timeout. Our side is closed at once, which ends that call too.
        True, as the module's ``shutdown()`` always is.
        """
        if not self._link.connected:
            return True
        if self._link.busy_elsewhere():
            self._link.close()
            return True
        try:
            self._link.call("shutdown", timeout=min(_SHUTDOWN_TIMEOUT, self._link.call_timeout))
        except (TerminalHung, MT5ConnectionError, MT5DataError):
            pass  # the server is gone or stuck: closing our side is all we can do
        finally:
            self._link.close()
        return True

    def version(self) -> tuple[int, int, str] | None:
        """``(500, build, 'release date')`` or None."""
        raw = self._call("version")
        try:
            return None if raw is None else (int(raw[0]), int(raw[1]), str(raw[2]))
        except (TypeError, ValueError, IndexError):
            raise MT5DataError(operation="version", detail=f"{self._where()} sent a version "
                               "that is not (major, build, date)") from None

    def last_error(self) -> tuple[int, str]:
        """``(code, message)`` of the previous call, read on the server."""
        raw = self._call("last_error")
        if not (type(raw) is tuple and len(raw) == 2 and type(raw[0]) is int):
            raise MT5DataError(operation="last_error", detail=f"{self._where()} sent a "
                               "last_error that is not (code, message)")
        return raw[0], str(raw[1])
