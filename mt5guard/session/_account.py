"""The account's connection and its plain reads, as calls of the Session facades.

Each is one guarded hop to the SessionActor (the reads, on the caller's
thread where ``session._direct`` lets them); ``get_price(symbol, max_age=s)``
may instead answer from the quote cache (see ``_quotes``).
"""

from __future__ import annotations

from typing import Any

from mt5guard.breaker.messages import BreakerState
from mt5guard.errors import MT5Error
from mt5guard.market.messages import GetPrice
from mt5guard.session import messages as msg
from mt5guard.session._args import require_symbol
from mt5guard.session._core import Pending, Ready, Reply, SessionCore
from mt5guard.session._direct import HANDED, PASSED, UNANSWERED
from mt5guard.session._quotes import cached_price
from mt5guard.session._replies import UNSENT
from mt5guard.session.messages import RequestCompleted

__all__ = ["connect", "disconnect", "get_account_info", "get_price", "get_price_now", "orders",
           "positions", "reconnect"]

_OPEN = BreakerState.OPEN  # read per call: an enum member looked up on its class costs ~0.1 us


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


def get_price_now(core: SessionCore, symbol: str, max_age: float | None = None) -> Any:
    """:func:`get_price` for a blocking caller: the lean path of the direct lane.

    With a worker's door open, no rate limits and a breaker snapshot that is not
    OPEN, the read is made through :meth:`Door.price
    <mt5guard.session._direct.Door.price>`: the same guarded call as a
    ``GetPrice`` handled on this thread (the door's lock, ``ready()``, the
    breaker told the outcome, the worker killed at the deadline, the quote
    checks), without the message, its reply and the :class:`Pending`. A snapshot
    that is OPEN is refused here the same way (:meth:`Door.refusal
    <mt5guard.session._direct.Door.refusal>`: counted, its ``RequestCompleted``
    published, the error raised once). Anything else goes the usual way
    (``core.wait(get_price(...))``): a cached quote, rate limits, a refusal the
    door leaves to the actor, a session down, an actor's read. A
    session down has no open door (its actor closes the door under the lock as
    it ends, before anything else), so the door's own check, under that lock,
    stands for the handle's ``running``.
    """
    lane = core.lane
    door = None if lane is None else lane.door
    if door is None or max_age is not None or core.limits is not None:
        return core.wait(get_price(core, symbol, max_age))
    require_symbol(symbol)
    view = core.breaker_view
    snapshot = None if view is None else view.peek()
    if snapshot is not None and snapshot.new is _OPEN:  # refused on this thread
        started = core.clock.monotonic()
        refused = door.refusal("get_price", snapshot)  # an open door stands for running
        if refused is None:
            return core.wait(get_price(core, symbol))
        core.record("get_price", refused.kind, started)
        try:
            raise refused
        finally:  # the traceback keeps this frame: it must not hold the error (a cycle)
            del refused
    started = core.clock.monotonic()
    try:
        result = door.price(symbol, started + core.timeout, core.timeout)
    except MT5Error as error:
        return core.failed("get_price", started, error)
    if result is PASSED:
        return core.wait(get_price(core, symbol))
    if result is HANDED:  # to the actor, which mends the connection: not the door again
        pending: Pending[Any] = Pending("get_price", UNSENT, started, make=lambda r, d: GetPrice(
            symbol, reply_to=r, deadline=d))
        core.send(pending, direct=True, through_door=False)
        return core.wait(pending)
    if result is UNANSWERED:
        return core.failed("get_price", started, None)
    if core.bus.heard(RequestCompleted):
        core.record("get_price", "ok", started)
    return result


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
