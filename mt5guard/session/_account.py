"""The account's connection and its plain reads, as calls of the Session facades.

Each is one guarded hop to the SessionActor (the reads, on the caller's
thread where ``session._direct`` lets them); ``get_price(symbol, max_age=s)``
may instead answer from the quote cache (see ``_quotes``).
"""

from __future__ import annotations

from typing import Any

from mt5guard.market.messages import GetPrice
from mt5guard.session import messages as msg
from mt5guard.session._args import require_symbol
from mt5guard.session._core import Pending, Ready, Reply, SessionCore
from mt5guard.session._quotes import cached_price

__all__ = ["connect", "disconnect", "get_account_info", "get_price", "orders", "positions",
           "reconnect"]


def connect(core: SessionCore) -> Pending[None]:
    """Connect now if the session is up but disconnected."""
    return core.submit("connect", lambda r, d: msg.Connect(reply_to=r, deadline=d))


def disconnect(core: SessionCore) -> Pending[None]:
    """Shut the terminal connection; the next request reconnects."""
    return core.submit("disconnect", lambda r, d: msg.Disconnect(reply_to=r, deadline=d))


def reconnect(core: SessionCore) -> Pending[None]:
    """Shut down and connect again in place."""
    return core.submit("reconnect", lambda r, d: msg.Reconnect(reply_to=r, deadline=d))


def get_account_info(core: SessionCore) -> Pending[Any]:
    """The terminal's ``AccountInfo`` named tuple."""
    return core.submit("get_account_info", lambda r, d: msg.GetAccountInfo(reply_to=r, deadline=d),
                       read=True)


def get_price(core: SessionCore, symbol: str, max_age: float | None = None) -> Reply[Any]:
    """The latest ``Tick`` for ``symbol`` (time in s, time_msc in ms).

    With ``max_age`` (seconds) a subscribed symbol is answered from the
    quote cache without an actor hop when fresh enough (see ``subscribe``).
    """
    if max_age is not None and (cached := cached_price(core, symbol, max_age)) is not None:
        return Ready(cached)
    require_symbol(symbol)
    return core.submit("get_price", lambda r, d: GetPrice(symbol, reply_to=r, deadline=d), read=True)


def positions(core: SessionCore, symbol: str | None = None) -> Pending[tuple[Any, ...]]:
    """Open positions, optionally of one symbol; empty when there are none."""
    if symbol is not None:
        require_symbol(symbol)
    return core.submit("positions", lambda r, d: msg.GetPositions(symbol, reply_to=r, deadline=d),
                       read=True)


def orders(core: SessionCore, symbol: str | None = None) -> Pending[tuple[Any, ...]]:
    """Pending orders, optionally of one symbol."""
    if symbol is not None:
        require_symbol(symbol)
    return core.submit("orders", lambda r, d: msg.GetOrders(symbol, reply_to=r, deadline=d),
                       read=True)
