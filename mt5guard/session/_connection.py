"""The SessionActor's connection: its worker process, connecting, mending, shutting down.

A connection loss that one shutdown + initialize cannot mend raises
:class:`SessionLost`: the session fails and its supervisor restarts it.
"""

from __future__ import annotations

import logging

from mt5guard.config import AccountConfig
from mt5guard.errors import MT5Error
from mt5guard.events.bus import EventBus
from mt5guard.orders.desk import OrderDesk
from mt5guard.session._breaker_link import BreakerLink
from mt5guard.session.messages import SessionConnected, SessionDisconnected
from mt5guard.terminal import Terminal
from mt5guard.terminal import calls as ops
from mt5guard.terminal.worker import WorkerTerminal

__all__ = ["ConnectionKeeping", "SessionLost"]

_log = logging.getLogger("mt5guard.session")

_REQUESTED = ("session stopped", "disconnect requested", "reconnect requested")


class SessionLost(Exception):
    """The connection is gone and could not be mended in place: restart me."""


class ConnectionKeeping(BreakerLink):
    """Part of SessionActor: the terminal connection (and worker) it owns."""

    account: AccountConfig
    _terminal: Terminal
    _worker: WorkerTerminal | None
    _ops: ops.TerminalOps
    _bus: EventBus
    _desk: OrderDesk
    _connected: bool

    def _start_worker(self) -> None:
        assert self._worker is not None
        started = self._clock.monotonic()
        try:
            self._worker.start()
        except MT5Error as err:
            self._report("connect", started, err)
            raise

    def _end_worker(self) -> None:
        if self._worker is not None:
            self._worker.close()

    def _fail_if_worker_lost(self) -> None:
        """A worker killed at a deadline (or dead) leaves the terminal unknown: restart."""
        lost = self._worker.lost if self._worker is not None else None
        if lost is not None:
            raise SessionLost(f"terminal worker {lost}")

    def _deadline(self, deadline: float | None) -> None:
        if self._worker is not None:
            self._worker.set_deadline(deadline)

    def _connect_or_fail(self) -> None:
        started = self._clock.monotonic()
        try:
            self._ensure_connected()
        except MT5Error as err:
            self._report("connect", started, err)
            self._shutdown(f"connect failed: {err}")
            raise
        self._report("connect", started, None)

    def _ensure_connected(self) -> None:
        if self._connected:
            return
        self._ops.connect()
        self._connected = True
        if self._ops.trading_off is not None:  # the status line an operator needs to see
            _log.warning("session %s: connected, but trading is disabled: %s; reads work, "
                         "orders are refused (MT5TradingDisabled) until that changes",
                         self.account.name, self._ops.trading_off)
        terminal_account = self.account.terminal
        self._bus.publish(SessionConnected(self.account.name, terminal_account.login,
                                           terminal_account.server, self._clock.now()))
        self._desk.reconcile_all()  # after every connect: start, restart or in-place mend

    def _reconnect(self) -> None:
        self._shutdown("reconnect requested")
        self._ensure_connected()

    def _mend(self) -> bool:
        """One in-place reconnect (shutdown + initialize); False if it failed."""
        self._shutdown("connection lost")
        try:
            self._ensure_connected()
        except MT5Error as err:
            _log.warning("session %s: reconnect in place failed: %s", self.account.name, err)
            return False
        return True

    def _mend_auth(self) -> bool:
        """One in-place login with the configured account; False if refused."""
        try:
            self._ops.login()
        except MT5Error as err:
            _log.warning("session %s: login in place failed: %s", self.account.name, err)
            return False
        return True

    def _shutdown(self, reason: str) -> None:
        was_connected, self._connected = self._connected, False
        try:
            self._terminal.shutdown()
        except Exception:
            _log.exception("session %s: terminal shutdown failed", self.account.name)
        if was_connected:
            expected = reason in _REQUESTED
            self._bus.publish(SessionDisconnected(self.account.name, reason, self._clock.now(), expected))
