"""Fault scripting for the simulated terminal: what can go wrong, and when it ends.

Faults with a duration end lazily: the terminal compares the deadline with
``clock.monotonic()`` on its next call, so no timer thread is involved.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from mt5guard.clock import Clock
from mt5guard.errors import is_trade_success

#: Every MetaTrader5 function the simulated terminal answers.
API_CALLS = frozenset(
    {
        "initialize",
        "login",
        "shutdown",
        "version",
        "last_error",
        "terminal_info",
        "account_info",
        "symbol_select",
        "symbol_info",
        "symbol_info_tick",
        "order_check",
        "order_send",
        "positions_get",
        "orders_get",
        "history_deals_get",
        "history_orders_get",
        "positions_total",
        "orders_total",
        "history_orders_total",
        "history_deals_total",
        "order_calc_margin",
        "order_calc_profit",
        "market_book_add",
        "market_book_get",
        "market_book_release",
    }
)


@dataclass(frozen=True)
class LostReply:
    """A scripted order_send whose reply never arrives."""

    executed: bool
    retcode: int | None
    last_error: tuple[int, str] | None = None


@dataclass
class FaultPlan:
    """The faults in force; read and written under the terminal's state lock."""

    process_down: bool = False
    down_until: float | None = None
    link_broken: bool = False
    broken_until: float | None = None
    init_times_out: bool = False
    auth_revoked: bool = False
    server_offline: bool = False
    autotrading_off: bool = False
    investor: bool = False
    stale: set[str] = field(default_factory=set)
    hangs: dict[str, deque[float]] = field(default_factory=dict)
    """Seconds each scripted hang lasts, by call, next first; a call is a key only while
    one is left (:meth:`take_hang` removes it with its last), so a probe call checks
    membership."""
    order_retcodes: deque[int] = field(default_factory=deque)
    lost_replies: deque[LostReply] = field(default_factory=deque)

    def expire(self, monotonic: float) -> None:
        """End the faults whose duration has passed (``monotonic`` in seconds)."""
        if self.down_until is not None and monotonic >= self.down_until:
            self.process_down, self.down_until = False, None
        if self.broken_until is not None and monotonic >= self.broken_until:
            self.link_broken, self.broken_until = False, None

    def take_hang(self, call: str) -> float | None:
        """Seconds the next ``call`` must hang, if one is scripted."""
        queue = self.hangs.get(call)
        if not queue:
            return None
        seconds = queue.popleft()
        if not queue:
            del self.hangs[call]
        return seconds

    def quotes_frozen(self, symbol: str) -> bool:
        """Whether ``symbol``'s ticks are stale (per symbol, or the server is offline)."""
        return self.server_offline or symbol in self.stale


class FaultScripting:
    """The fault-scripting half of :class:`SimulatedTerminal`.

    Called from the test thread between clock advances. Each method takes
    effect at once and only takes the internal state lock, so it never trips
    the concurrent-call guard, even while an API call is hanging.
    """

    _clock: Clock
    _state_lock: threading.RLock
    _faults: FaultPlan
    _ipc_connected: bool
    _symbol_names: frozenset[str]

    def disconnect(self, *, for_seconds: float | None = None) -> None:
        """Connection lost: every call fails with (-10004, 'No IPC connection').

        Lasts until :meth:`reconnect_allowed` (or :meth:`restore`), or for
        ``for_seconds`` of clock time when given; then the client must call
        ``initialize`` again, as with the real module after losing IPC.
        """
        with self._state_lock:
            self._ipc_connected = False
            self._faults.link_broken = True
            self._faults.broken_until = self._deadline(for_seconds)

    def reconnect_allowed(self) -> None:
        """End a :meth:`disconnect`: ``initialize`` can succeed again."""
        with self._state_lock:
            self._faults.link_broken, self._faults.broken_until = False, None

    def set_down(self, down: bool) -> None:
        """Terminal process not running (True) or running again (False).

        While down, ``initialize`` fails with (-10003, 'IPC initialize failed,
        MetaTrader 5 x64 not found') and every other call with -10004.
        """
        with self._state_lock:
            self._faults.process_down, self._faults.down_until = down, None
            if down:
                self._ipc_connected = False

    def restart(self, *, downtime: float = 0.0) -> None:
        """The terminal process restarts; it is down for ``downtime`` seconds of clock time.

        The IPC connection drops (calls fail with -10004 until ``initialize``);
        balance, positions, orders, deals and ticket counters persist.
        """
        with self._state_lock:
            self._ipc_connected = False
            if downtime > 0:
                self._faults.process_down = True
                self._faults.down_until = self._deadline(downtime)

    def initialize_times_out(self, enabled: bool = True) -> None:
        """``initialize`` blocks for its whole ``timeout`` (ms), then fails with -10005."""
        with self._state_lock:
            self._faults.init_times_out = enabled

    def revoke_auth(self) -> None:
        """Credentials refused by the server.

        initialize/login fail with (-6, 'Terminal: Authorization failed'), and
        so do account_info, order_check and order_send on an open connection;
        quotes keep flowing.
        """
        with self._state_lock:
            self._faults.auth_revoked = True

    def restore_auth(self) -> None:
        """End :meth:`revoke_auth` (the client still needs a successful login)."""
        with self._state_lock:
            self._faults.auth_revoked = False

    def hang_next(self, call: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls of ``call`` hang, then time out.

        Each blocks ``seconds`` of clock time (``clock.sleep``, holding the
        concurrent-call guard) and then fails with (-10005, 'IPC timeout')
        without doing anything: a hung order_send is not executed (script an
        executed order with a lost reply with :meth:`lose_next_order_reply`).
        Raises ValueError for a name that is not a terminal call.
        """
        if call not in API_CALLS or call == "last_error":
            raise ValueError(f"cannot hang {call!r}: not a terminal call")
        if seconds < 0 or times < 1:
            raise ValueError("seconds must be >= 0 and times >= 1")
        with self._state_lock:
            self._faults.hangs.setdefault(call, deque()).extend([float(seconds)] * times)

    def stale_quotes(self, symbol: str | None = None) -> None:
        """Ticks stop (time and prices frozen) for ``symbol``, or for all symbols."""
        with self._state_lock:
            self._faults.stale.update(self._symbols_named(symbol))

    def fresh_quotes(self, symbol: str | None = None) -> None:
        """Ticks move again for ``symbol``, or for all symbols."""
        with self._state_lock:
            self._faults.stale.difference_update(self._symbols_named(symbol))

    def server_offline(self, offline: bool = True) -> None:
        """Terminal up but cut off from the trade server.

        ``terminal_info().connected`` is False, ticks are stale, order_send
        answers retcode 10031 without filling, and initialize/login fail with -6.
        """
        with self._state_lock:
            self._faults.server_offline = offline

    def autotrading_off(self, off: bool = True) -> None:
        """AutoTrading switched off in the terminal (as after a restart by image name):
        ``terminal_info().trade_allowed`` is False and order_send answers 10027."""
        with self._state_lock:
            self._faults.autotrading_off = off

    def investor_login(self, investor: bool = True) -> None:
        """Logged in with the investor (read-only) password: ``account_info().trade_allowed``
        is False and order_send answers 10017; reads work."""
        with self._state_lock:
            self._faults.investor = investor

    def script_order_retcodes(self, *retcodes: int) -> None:
        """The next order_send calls answer these retcodes without filling, one per call."""
        if any(is_trade_success(code) for code in retcodes):
            raise ValueError("scripted retcodes must be failures; a success needs a real fill")
        with self._state_lock:
            self._faults.order_retcodes.extend(retcodes)

    def lose_next_order_reply(self, executed: bool = True, retcode: int | None = None, *,
                              last_error: tuple[int, str] | None = None) -> None:
        """The next order_send executes (or not, ``executed=False``) but its reply is lost.

        It returns None with ``last_error`` (default (-10005, 'IPC timeout'))
        when ``retcode`` is None, otherwise a result with that retcode
        (typically 10012 'Request timed out', or one MT5 does not document)
        and deal=0, order=0. The session must reconcile by comment/magic.
        """
        if retcode is not None and retcode in (10008, 10009, 10010):
            raise ValueError("a lost reply cannot report success")
        with self._state_lock:
            self._faults.lost_replies.append(LostReply(executed, retcode, last_error))

    def restore(self) -> None:
        """Clear every fault; the client must still call ``initialize``."""
        with self._state_lock:
            self._faults = FaultPlan()

    def _deadline(self, seconds: float | None) -> float | None:
        return None if seconds is None else self._clock.monotonic() + seconds

    def _symbols_named(self, symbol: str | None) -> frozenset[str]:
        if symbol is None:
            return self._symbol_names
        if symbol not in self._symbol_names:
            raise ValueError(f"unknown symbol {symbol!r}")
        return frozenset({symbol})
