"""The SessionActor's reads: the messages its door also lets callers handle themselves.

:meth:`Reads.handle` runs on the actor's thread (a read from its mailbox) or on
a caller's thread holding the session's door (``direct``, see
:mod:`~mt5guard.session._direct`); either way one guarded call of
:class:`~mt5guard.session._calls.GuardedCalls`.
"""

from __future__ import annotations

import functools
from typing import Any

import pykka

from mt5guard.market import data as market_data
from mt5guard.market.messages import GetPrice, ReadMarketData
from mt5guard.session._breaker_link import BreakerLink
from mt5guard.session._calls import GuardedCalls
from mt5guard.session._connection import Connection
from mt5guard.session.messages import GetAccountInfo, GetOrders, GetPositions, SessionFailed
from mt5guard.terminal import Terminal
from mt5guard.terminal import calls as ops

__all__ = ["Reads", "fail_later"]


class Reads:
    """get_price, the account, positions, orders and market-data reads of one session."""

    def __init__(self, calls: GuardedCalls, terminal_ops: ops.TerminalOps, terminal: Terminal,
                 connection: Connection, link: BreakerLink) -> None:
        self._calls = calls
        self._ops = terminal_ops
        self._terminal = terminal
        self._connection = connection
        self._link = link
        #: ``price(symbol, deadline)``: a ``get_price`` without a message, on a caller's thread
        #: holding the door once :meth:`ready` said go (:meth:`GuardedCalls.now`).
        self.price = functools.partial(calls.now, "get_price", terminal_ops.price)

    def handle(self, message: Any, direct: bool = True) -> bool:
        """Answer a read (``direct``: on a caller's thread); False if ``message`` is not one."""
        guarded, ops_ = self._calls.run, self._ops
        if isinstance(message, GetPrice):
            guarded(message, "get_price", lambda: ops_.price(message.symbol), direct=direct)
        elif isinstance(message, GetAccountInfo):
            guarded(message, "get_account_info", ops_.account_info, direct=direct)
        elif isinstance(message, GetPositions):
            guarded(message, "positions", lambda: ops_.positions(message.symbol), direct=direct)
        elif isinstance(message, GetOrders):
            guarded(message, "orders", lambda: ops_.orders(message.symbol), direct=direct)
        elif isinstance(message, ReadMarketData):
            guarded(message, message.operation, lambda: market_data.read(
                self._terminal, ops_.select, ops_.forget, message.operation, message.args),
                direct=direct)
        else:
            return False
        return True

    def ready(self) -> bool:
        """Whether a caller's read may go now (asked under the door's lock): connected, the
        worker serving, and the breaker letting calls through freely (CLOSED or DISABLED)."""
        worker = self._connection.worker
        return (self._connection.connected and self._link.live and worker is not None
                and worker.lost is None)


def fail_later(actor: pykka.ActorRef[Any], reason: str) -> None:
    """Tell the SessionActor to fail (a caller's read found the session lost)."""
    try:
        actor.tell(SessionFailed(reason))
    except pykka.ActorDeadError:
        pass  # it ended meanwhile
