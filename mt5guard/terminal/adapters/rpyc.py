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
call is abandoned, the connection closed and :class:`TerminalHung` raised:
the session fails and its supervisor restarts it, and the restart's
``initialize`` opens a new connection. A connection that cannot be opened or
that breaks raises :class:`MT5ConnectionError`. :meth:`RpycTerminal.kill`
ends the connection from any thread, so a thread blocked in a call returns.

rpyc is imported lazily, in the constructor: install ``mt5guard[rpyc]``.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

from mt5guard.errors import MT5ConnectionError, MT5DataError
from mt5guard.terminal.adapters._reads import AccountReads
from mt5guard.terminal.adapters._rpyc_link import RpycLink
from mt5guard.terminal.adapters._rpyc_wire import (
    array,
    epoch,
    given,
    optional,
    records,
)
from mt5guard.terminal.adapters.metatrader5 import TerminalUnavailableError
from mt5guard.terminal.hung import TerminalHung
from mt5guard.terminal.protocol import DateArg
from mt5guard.terminal.records import (
    AccountInfo,
    BookInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
)

__all__ = ["RpycTerminal"]

_SHUTDOWN_TIMEOUT = 5.0  # seconds: a shutdown never waits a whole call_timeout


class RpycTerminal(AccountReads):
    """A terminal behind an rpyc classic server at ``host``:``port``.

    ``path`` is the terminal64.exe on the server's machine. ``call_timeout``
    is in seconds and must exceed the ``initialize`` timeout (60 s by
    default), so MT5 reports its own IPC timeout before we abandon the call.
    Raises :class:`TerminalUnavailableError` when rpyc is not installed.
    """

    def __init__(self, host: str, port: int, *, path: str | None = None,
                 call_timeout: float = 75.0, connect_timeout: float = 10.0) -> None:
        try:
            self._rpyc: Any = importlib.import_module("rpyc")
        except ImportError as exc:
            raise TerminalUnavailableError(
                "rpyc is not installed: pip install 'mt5guard[rpyc]' (rpyc 6.x, the same major "
                "version as the server's)"
            ) from exc
        self._host, self._port, self._path = host, port, path
        self._link = RpycLink(self._rpyc, host, port, call_timeout=call_timeout,
                              connect_timeout=connect_timeout)

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

    def _call(self, name: str, *args: Any, kwargs: tuple[tuple[str, Any], ...] = (),
              dict_arg: bool = False, timeout: float | None = None) -> Any:
        return self._link.call(name, *args, kwargs=kwargs, dict_arg=dict_arg, timeout=timeout)

    # the Terminal protocol -------------------------------------------------------

    def initialize(
        self,
        path: str | None = None,
        *,
        login: int,
        password: str,
        server: str,
        timeout: int = 60000,
        portable: bool = False,
    ) -> bool:
        """Connect if needed, then start or attach to the terminal; ``timeout`` in milliseconds."""
        if not self._link.connected:
            self._link.open()
        target = path if path is not None else self._path
        options = (("login", login), ("password", password), ("server", server),
                   ("timeout", timeout), ("portable", portable))
        args = () if target is None else (target,)
        return bool(self._call("initialize", *args, kwargs=options))

    def login(self, login: int, *, password: str, server: str, timeout: int = 60000) -> bool:
        """Switch accounts on the open connection; ``timeout`` in milliseconds."""
        options = (("password", password), ("server", server), ("timeout", timeout))
        return bool(self._call("login", login, kwargs=options))

    def shutdown(self) -> bool:
        """Shut the terminal connection down on the server (waiting at most 5 s), then ours.

        True, as the module's ``shutdown()`` always is.
        """
        if not self._link.connected:
            return True
        try:
            self._call("shutdown", timeout=min(_SHUTDOWN_TIMEOUT, self._link.call_timeout))
        except (TerminalHung, MT5ConnectionError):
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

    def terminal_info(self) -> TerminalInfo | None:
        """Terminal state; ``connected`` is the link to the trade server."""
        return optional(TerminalInfo, self._call("terminal_info"))

    def account_info(self) -> AccountInfo | None:
        """The logged-in account."""
        return optional(AccountInfo, self._call("account_info"))

    def symbol_select(self, symbol: str, enable: bool) -> bool:
        """Add or remove ``symbol`` in Market Watch."""
        return bool(self._call("symbol_select", symbol, enable))

    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        """The subset of the symbol's specification in :class:`SymbolInfo`."""
        return optional(SymbolInfo, self._call("symbol_info", symbol))

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        """The symbol's last tick."""
        return optional(Tick, self._call("symbol_info_tick", symbol))

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        """Check a trade request; retcode 0 passes."""
        raw = self._call("order_check", tuple(request.items()), dict_arg=True)
        return optional(OrderCheckResult, raw)

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        """Send a trade request; None (or a hang) may mean it executed with its reply lost."""
        raw = self._call("order_send", tuple(request.items()), dict_arg=True)
        return optional(OrderSendResult, raw)

    def positions_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...] | None:
        """Open positions; only the filters given are passed on."""
        raw = self._call("positions_get", kwargs=given(symbol=symbol, group=group, ticket=ticket))
        return records(TradePosition, raw)

    def orders_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...] | None:
        """Active orders; only the filters given are passed on."""
        raw = self._call("orders_get", kwargs=given(symbol=symbol, group=group, ticket=ticket))
        return records(TradeOrder, raw)

    def history_deals_get(
        self,
        date_from: DateArg | None = None,
        date_to: DateArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None:
        """Deals by order ``ticket``, by ``position``, or between two dates (sent as epoch s)."""
        return records(TradeDeal, self._history("history_deals_get", date_from, date_to, group,
                                                ticket, position))

    def _history(self, name: str, date_from: DateArg | None, date_to: DateArg | None,
                 group: str | None, ticket: int | None, position: int | None) -> Any:
        if ticket is not None or position is not None:
            return self._call(name, kwargs=given(ticket=ticket, position=position))
        dates = tuple(epoch(d, rounding) for d, rounding in
                      ((date_from, math.floor), (date_to, math.ceil)) if d is not None)
        return self._call(name, *dates, kwargs=given(group=group))

    # -- market data: numpy arrays cross as dtype + bytes; dates as epoch seconds --

    def copy_rates_from(self, symbol: str, timeframe: int, date_from: DateArg, count: int) -> Any:
        """``count`` bars ending at ``date_from`` (RATE_DTYPE rows) or None."""
        return array(self._call("copy_rates_from", symbol, timeframe,
                                epoch(date_from, math.floor), count))

    def copy_rates_from_pos(self, symbol: str, timeframe: int, start_pos: int, count: int) -> Any:
        """``count`` bars ending ``start_pos`` bars back (0 = current) or None."""
        return array(self._call("copy_rates_from_pos", symbol, timeframe, start_pos, count))

    def copy_rates_range(self, symbol: str, timeframe: int, date_from: DateArg,
                         date_to: DateArg) -> Any:
        """Bars opened within ``date_from..date_to`` or None."""
        return array(self._call("copy_rates_range", symbol, timeframe,
                                epoch(date_from, math.floor), epoch(date_to, math.ceil)))

    def copy_ticks_from(self, symbol: str, date_from: DateArg, count: int, flags: int) -> Any:
        """Up to ``count`` ticks from ``date_from`` (TICK_DTYPE rows) or None."""
        return array(self._call("copy_ticks_from", symbol, epoch(date_from, math.floor), count,
                                flags))

    def copy_ticks_range(self, symbol: str, date_from: DateArg, date_to: DateArg,
                         flags: int) -> Any:
        """The ticks within ``date_from..date_to`` or None."""
        return array(self._call("copy_ticks_range", symbol, epoch(date_from, math.floor),
                                epoch(date_to, math.ceil), flags))

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        """All symbols, or those matching ``group``; the :class:`SymbolInfo` subset of each."""
        return records(SymbolInfo, self._call("symbols_get", kwargs=given(group=group)))

    def history_orders_get(
        self,
        date_from: DateArg | None = None,
        date_to: DateArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...] | None:
        """Orders that left the book, by ``ticket``, by ``position`` or between two dates."""
        return records(TradeOrder, self._history("history_orders_get", date_from, date_to, group,
                                                 ticket, position))

    def _date(self, value: DateArg, upper: bool) -> Any:
        return epoch(value, math.ceil if upper else math.floor)

    def _book(self, raw: Any) -> tuple[BookInfo, ...] | None:
        return records(BookInfo, raw)
