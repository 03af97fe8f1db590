"""The connection of an RpycTerminal: opened within a deadline, ended from any thread.

Everything about the connection's life is here; the Terminal protocol is in
``rpyc.py``. One :class:`RpycLink` per terminal, and so per account: it
outlives session incarnations, so a thread whose call :meth:`RpycLink.kill`
ended is refused a new connection (an abandoned session must not reconnect
and block again), and a failed call closes only the connection it used.
"""

from __future__ import annotations

import importlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from mt5guard.errors import MT5ConnectionError, MT5DataError
from mt5guard.terminal.adapters._rpyc_wire import HELPER, client_service, plain
from mt5guard.terminal.hung import TerminalHung

__all__ = ["RpycLink"]

#: Seconds a call's wait blocks on the socket before it looks at its deadline again
#: (a reply wakes it at once; only an injected clock's jumps are noticed this late).
_STEP = 0.05


class _Expired(Exception):
    """A call's deadline passed with no reply received."""


class RpycLink:
    """One rpyc classic connection at a time to ``host``:``port`` (timeouts in seconds).

    ``monotonic`` is the clock call deadlines are measured on (seconds): the
    system's by default; a test hands its own to say when a deadline passes.
    """

    def __init__(self, rpyc: Any, host: str, port: int, *, call_timeout: float,
                 connect_timeout: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._rpyc = rpyc
        self._monotonic = monotonic
        self._host, self._port = host, port
        self.call_timeout = call_timeout
        self._connect_timeout = connect_timeout
        self._conn: Any = None
        self._sock: socket.socket | None = None
        self._remote: Any = None  # the helper's async wrapper on the open connection
        self._lock = threading.Lock()  # guards _sock against kill() from another thread
        self._using: set[int] = set()  # threads inside a call or an open right now
        self._ended: set[int] = set()  # threads whose call kill() ended: they get no new one

    @property
    def connected(self) -> bool:
        """Whether a connection to the server is open (it may still be broken)."""
        return self._conn is not None

    def where(self) -> str:
        return f"the rpyc server at {self._host}:{self._port}"

    def _enter(self, operation: str) -> None:
        """Note this thread as using the connection; refuse one whose call kill() ended.

        The account's terminal outlives session incarnations: the abandoned
        one's thread, woken by kill(), must not reconnect and block again.
        """
        me = threading.get_ident()
        with self._lock:
            if me in self._ended:
                raise MT5ConnectionError(
                    operation=operation, detail=f"the connection to {self.where()} was ended "
                    "from another thread (the session was abandoned or the tree stopped)")
            self._using.add(me)

    def _leave(self) -> None:
        with self._lock:
            self._using.discard(threading.get_ident())

    def busy_elsewhere(self) -> bool:
        """Whether another thread is inside a call (or an open) on this link right now."""
        with self._lock:
            return bool(self._using - {threading.get_ident()})

    def open(self) -> None:
        self._enter("initialize")
        try:
            self._connect()
        finally:
            self._leave()

    def _connect(self) -> None:
        rpyc = self._rpyc
        limit = self._connect_timeout
        try:
            sock = socket.create_connection((self._host, self._port), timeout=limit)
        except OSError as exc:
            raise MT5ConnectionError(
                operation="initialize",
                detail=f"cannot reach {self.where()} within {limit:g} s ({type(exc).__name__}: "
                       f"{exc}); is the server running, and is terminal.host/port right?",
            ) from None
        with self._lock:
            self._sock = sock
        conn = None
        try:
            stream = importlib.import_module("rpyc.core.stream").SocketStream(sock)
            # sync requests (rpyc's greeting, our helper) are bounded by the connect timeout;
            # calls carry their own deadline (async, below)
            conn = rpyc.utils.factory.connect_stream(stream, service=client_service(),
                                                     config={"sync_request_timeout": limit})
            conn.execute(HELPER)
            self._remote = rpyc.async_(conn.namespace["_mt5guard_call"])
        except Exception as exc:
            with self._lock:
                self._sock = None
            _shut(sock)
            if conn is not None:
                _quietly_close(conn)
            sock.close()
            raise MT5ConnectionError(
                operation="initialize",
                detail=f"{self.where()} did not open an rpyc session with our helper within "
                       f"{limit:g} s ({type(exc).__name__}); it must be an rpyc classic server "
                       "(SlaveService) of the same major version as ours (6) with the MetaTrader5 "
                       "package installed",
            ) from None
        self._conn = conn

    def kill(self, reason: str = "killed") -> None:
        """End the connection now, from any thread: a call blocked on it returns at once.

        The threads that were using it get no new connection from this
        terminal (see ``_enter``); a new session incarnation's thread does.
        """
        with self._lock:
            sock = self._sock
            self._ended |= self._using
        _shut(sock)

    def close(self, conn: Any = None) -> None:
        """Drop the connection: the socket first, so rpyc's close cannot wait on the server.

        (rpyc's ``Connection.close`` asks the server to close and waits for the
        answer: on a hung server that wait used to double every timeout.)
        ``conn``: the connection a failed call used; if another has replaced
        it meanwhile (a new session incarnation), only that old one is closed.
        """
        if conn is not None and conn is not self._conn:
            _quietly_close(conn)
            return
        conn = self._conn
        self._conn, self._remote = None, None
        with self._lock:
            sock, self._sock = self._sock, None
        _shut(sock)
        if conn is not None:
            _quietly_close(conn)
        if sock is not None:
            sock.close()

    def call(self, name: str, *args: Any, kwargs: tuple[tuple[str, Any], ...] = (),
             dict_arg: bool = False, timeout: float | None = None) -> Any:
        """``name(*args, **kwargs)`` on the server within ``timeout`` (else call_timeout) s."""
        if self._remote is None:
            raise MT5ConnectionError(operation=name, detail=f"not connected to {self.where()}; "
                                     "initialize() opens the connection")
        limit = self.call_timeout if timeout is None else timeout
        self._enter(name)
        try:
            return self._await(name, args, kwargs, dict_arg, limit)
        finally:
            self._leave()

    def _await(self, name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...],
               dict_arg: bool, limit: float) -> Any:
        conn = self._conn
        try:
            pending = self._remote(name, args, kwargs, dict_arg)
            value = self._wait(conn, pending, limit)
        except _Expired:
            self.close(conn)
            raise TerminalHung(
                operation=name,
                detail=f"no reply from {self.where()} within {limit:g} s; the connection was "
                       "closed and the session restarts",
            ) from None
        except (EOFError, OSError) as exc:
            self.close(conn)
            raise MT5ConnectionError(
                operation=name, detail=f"{self.where()} closed the connection "
                                       f"({type(exc).__name__})",
            ) from None
        except Exception as exc:
            if getattr(exc, "_remote_tb", None) is None:
                # Not the server's (rpyc marks those with the remote traceback) but rpyc's
                # own, e.g. its send lock released twice when our close raced this call's
                # send: the request may have reached the server, the connection is suspect.
                self.close(conn)
                raise MT5ConnectionError(
                    operation=name, detail=f"the connection to {self.where()} broke during "
                                           f"the call ({type(exc).__name__}); the request may "
                                           "have reached the server",
                ) from None
            # the server raised: its exception is a foreign object too
            raise MT5DataError(operation=name, detail=f"{self.where()} raised in {name}() "
                               f"({type(exc).__name__})") from None
        return plain(value, name, self.where())

    def _wait(self, conn: Any, pending: Any, limit: float) -> Any:
        """``pending``'s value, waited for at most ``limit`` seconds of ``monotonic``.

        No expiry is set on rpyc's AsyncResult: rpyc drops a reply that arrives
        once its expiry has passed, and a reply is a fact (an order_send reply
        says whether the order executed). At the deadline every message already
        received is served first, so a reply that arrived as the wait expired is
        delivered, not thrown away. Raises :class:`_Expired` if none arrived.
        """
        deadline = self._monotonic() + limit
        while not pending.ready:  # serves what has arrived, without blocking
            left = deadline - self._monotonic()
            if left <= 0:
                if _drain(conn, pending):
                    break
                raise _Expired
            conn.serve(min(left, _STEP))
        return pending.value


def _drain(conn: Any, pending: Any) -> bool:
    """Serve every message already received; whether ``pending``'s reply was among them."""
    while not pending.ready:
        if not conn.poll(0):
            return False
    return True


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _quietly_close(conn: Any) -> None:
    try:
        conn.close()
    except Exception:
        pass  # already broken: closing is best effort
