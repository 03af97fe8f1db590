"""RpycTerminal: the Terminal protocol through an rpyc classic server.

mt5linux, mt5-remote and MetaTrader5-Docker run the ``MetaTrader5`` module
under Windows Python (often in Wine) behind rpyc's classic server
(``SlaveService``). Our side of the connection lends the server nothing of
our process (``_rpyc_wire.client_service``). We install one small helper in
the connection's namespace on the server: it calls the module and turns every
reply into tuples of primitives (records as ``(name, value)`` pairs, via
``_asdict()``), which rpyc's brine sends by value. No netref outlives a call,
nothing is unpickled here, and our records are rebuilt on our side.

Every call has a deadline (``call_timeout``, seconds). Past it the call is
abandoned, the connection closed and :class:`TerminalHung` raised: the
session fails and its supervisor restarts it, and the restart's
``initialize`` opens a new connection. A connection that cannot be opened or
that breaks raises :class:`MT5ConnectionError`.

rpyc is imported lazily, in the constructor: install ``mt5guard[rpyc]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mt5guard.errors import MT5ConnectionError
from mt5guard.terminal.adapters import _rpyc_wire as wire
from mt5guard.terminal.adapters._base import ModuleTerminal, Record, import_or_explain
from mt5guard.terminal.hung import TerminalHung
from mt5guard.terminal.protocol import DateArg

__all__ = ["RpycTerminal"]

_SHUTDOWN_TIMEOUT = 5.0  # seconds: a shutdown never waits a whole call_timeout


class RpycTerminal(ModuleTerminal):
    """A terminal behind an rpyc classic server at ``host``:``port``.

    ``path`` is the terminal64.exe on the server's machine. ``call_timeout``
    is in seconds and must exceed the ``initialize`` timeout (60 s by
    default), so MT5 reports its own IPC timeout before we abandon the call.
    Raises :class:`TerminalUnavailableError` when rpyc is not installed.
    """

    def __init__(self, host: str, port: int, *, path: str | None = None,
                 call_timeout: float = 75.0) -> None:
        self._rpyc = import_or_explain(
            "rpyc", "rpyc is not installed: pip install 'mt5guard[rpyc]' (rpyc 6.x, the same "
            "major version as the server's)")
        self._host, self._port, self._path = host, port, path
        self._call_timeout = call_timeout
        self._conn: Any = None
        self._remote: Any = None  # the helper's async wrapper on the open connection

    def __repr__(self) -> str:
        return f"RpycTerminal({self._host}:{self._port}, path={self._path!r})"

    @property
    def connected(self) -> bool:
        """Whether a connection to the server is open (it may still be broken)."""
        return self._conn is not None

    # the connection ------------------------------------------------------------

    def _where(self) -> str:
        return f"the rpyc server at {self._host}:{self._port}"

    def _open(self) -> None:
        if self._conn is not None:
            return
        rpyc = self._rpyc
        try:
            conn = rpyc.connect(self._host, self._port, service=wire.client_service(),
                                config={"sync_request_timeout": self._call_timeout})
        except OSError as exc:
            raise MT5ConnectionError(
                operation="initialize",
                detail=f"cannot reach {self._where()} ({type(exc).__name__}: {exc}); is the "
                       "server running, and is terminal.host/port right?",
            ) from None
        try:
            conn.execute(wire.HELPER)
            self._remote = rpyc.async_(conn.namespace["_mt5guard_call"])
        except Exception as exc:
            conn.close()
            raise MT5ConnectionError(
                operation="initialize",
                detail=f"{self._where()} would not run our helper ({type(exc).__name__}); it must "
                       "be an rpyc classic server (SlaveService) of the same major version as "
                       "ours with the MetaTrader5 package installed",
            ) from None
        self._conn = conn

    def _close(self) -> None:
        conn, self._conn, self._remote = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass  # already broken: closing is best effort

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], dict):  # a trade request: sent as pairs, a dict there
            return self._remote_call(name, (tuple(args[0].items()), *args[1:]),
                                     tuple(kwargs.items()), dict_arg=True)
        return self._remote_call(name, args, tuple(kwargs.items()))

    def _remote_call(self, name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...],
                     *, dict_arg: bool = False, timeout: float | None = None) -> Any:
        """The helper's call on the server, abandoned after ``timeout`` seconds."""
        if self._remote is None:
            raise MT5ConnectionError(operation=name, detail=f"not connected to {self._where()}; "
                                     "initialize() opens the connection")
        limit = self._call_timeout if timeout is None else timeout
        try:
            pending = self._remote(name, args, kwargs, dict_arg)
            pending.set_expiry(limit)
            return pending.value
        except self._rpyc.AsyncResultTimeout:
            self._close()
            raise TerminalHung(
                operation=name,
                detail=f"no reply from {self._where()} within {limit:g} s; the connection was "
                       "closed and the session restarts",
            ) from None
        except (EOFError, OSError) as exc:
            self._close()
            raise MT5ConnectionError(
                operation=name, detail=f"{self._where()} closed the connection "
                                       f"({type(exc).__name__})",
            ) from None

    def _record(self, kind: type[Record], raw: Any) -> Record:
        return wire.record(kind, raw)

    def _date(self, value: DateArg, rounding: Callable[[float], int]) -> int:
        return wire.epoch(value, rounding)  # datetimes cannot cross as values

    def _array(self, raw: Any) -> Any:
        return wire.array(raw)  # numpy arrays cross as dtype + bytes

    # the Terminal protocol -------------------------------------------------------

    def shutdown(self) -> bool:
        """Shut the terminal connection down on the server (waiting at most 5 s), then ours.

        True, as the module's ``shutdown()`` always is.
        """
        if self._conn is None:
            return True
        try:
            self._remote_call("shutdown", (), (), timeout=min(_SHUTDOWN_TIMEOUT, self._call_timeout))
        except (TerminalHung, MT5ConnectionError):
            pass  # the server is gone or stuck: closing our side is all we can do
        finally:
            self._close()
        return True
