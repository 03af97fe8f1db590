"""The SessionActor's connection: its worker process, connecting, mending, shutting down.

A connection loss that one shutdown + initialize cannot mend raises
:class:`SessionLost`: the session fails and its supervisor restarts it.
"""

from __future__ import annotations

import logging

import attrs

from mt5guard.clock import Clock
from mt5guard.config import AccountConfig
from mt5guard.errors import MT5Error
from mt5guard.events.bus import EventBus
from mt5guard.orders.desk import OrderDesk
from mt5guard.session._breaker_link import BreakerLink
from mt5guard.session.messages import SessionConnected, SessionDisconnected
from mt5guard.terminal import Terminal
from mt5guard.terminal import calls as ops
from mt5guard.terminal.worker import WorkerTerminal

__all__ = ["Connection", "SessionLost"]

_log = logging.getLogger("mt5guard.session")

_REQUESTED = ("session stopped", "disconnect requested", "reconnect requested")


class SessionLost(Exception):
    """The connection is gone and could not be mended in place: restart me."""


def _worker(connection: Connection) -> WorkerTerminal | None:
    terminal = connection._terminal
    return terminal if isinstance(terminal, WorkerTerminal) else None


@attrs.define(eq=False)
class Connection:
    """The terminal connection (and worker process) a SessionActor owns.

    Runs on the actor's thread only. Each connect and failure is reported to
    the breaker through ``link``; every connect catches the account up
    (``desk.catch_up``: its deals and orders since the last one seen, every
    unresolved order reconciled against them) before any new request.
    """

    account: AccountConfig
    _terminal: Terminal
    _ops: ops.TerminalOps
    _clock: Clock
    _bus: EventBus
    _desk: OrderDesk
    _link: BreakerLink
    #: A terminal in a worker process: ours from on_start to the session's end.
    worker: WorkerTerminal | None = attrs.field(
        init=False, default=attrs.Factory(_worker, takes_self=True))
    connected: bool = attrs.field(init=False, default=False)

    def start_worker(self) -> None:
        if self.worker is None:
            return
        started = self._clock.monotonic()
        try:
            self.worker.start()
        except MT5Error as err:
            self._link.report("connect", started, err)
            raise

    def end_worker(self) -> None:
        if self.worker is not None:
            self.worker.close()

    def fail_if_worker_lost(self) -> None:
        """A worker killed at a deadline (or dead) leaves the terminal unknown: restart."""
        lost = self.worker.lost if self.worker is not None else None
        if lost is not None:
            raise SessionLost(f"terminal worker {lost}")

    def deadline(self, deadline: float | None) -> None:
        """A worker is killed once the clock's monotonic seconds pass ``deadline``."""
        if self.worker is not None:
            self.worker.set_deadline(deadline)

    def connect_or_fail(self) -> None:
        started = self._clock.monotonic()
        try:
            self.ensure_connected()
        except MT5Error as err:
            self._link.report("connect", started, err)
            self.shutdown(f"connect failed: {err}")
            raise
        self._link.report("connect", started, None)

    def ensure_connected(self) -> None:
        if self.connected:
            return
        self._ops.connect()
        self.connected = True
        if self._ops.trading_off is not None:  # the status line an operator needs to see
            _log.warning("session %s: connected, but trading is disabled: %s; reads work, "
                         "orders are refused (MT5TradingDisabled) until that changes",
                         self.account.name, self._ops.trading_off)
        terminal_account = self.account.terminal
        self._bus.publish(SessionConnected(self.account.name, terminal_account.login,
                                           terminal_account.server, self._clock.now()))
        self._desk.catch_up()  # after every connect: start, restart or in-place mend

    def reconnect(self) -> None:
        self.shutdown("reconnect requested")
        self.ensure_connected()

    def mend(self) -> bool:
        """One in-place reconnect (shutdown + initialize); False if it failed."""
        self.shutdown("connection lost")
        try:
            self.ensure_connected()
        except MT5Error as err:
            _log.warning("session %s: reconnect in place failed: %s", self.account.name, err)
            return False
        return True

    def mend_auth(self) -> bool:
        """One in-place login with the configured account; False if refused."""
        try:
            self._ops.login()
        except MT5Error as err:
            _log.warning("session %s: login in place failed: %s", self.account.name, err)
            return False
        return True

    def shutdown(self, reason: str) -> None:
        was_connected, self.connected = self.connected, False
        try:
            self._terminal.shutdown()
        except Exception:
            _log.exception("session %s: terminal shutdown failed", self.account.name)
        if was_connected:
            expected = reason in _REQUESTED
            self._bus.publish(SessionDisconnected(self.account.name, reason, self._clock.now(), expected))
