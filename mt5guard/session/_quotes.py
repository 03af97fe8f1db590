"""Streaming quotes, trade events and the quote cache, as Session calls.

``subscribe(symbols, subscriber)`` makes the session poll ``symbols`` and
hand each changed quote, as a :class:`~mt5guard.messages.Tick`, to
``subscriber`` (a callable or a pykka ActorRef) on the session's thread.
``get_price(symbol, max_age=s)`` answers a subscribed symbol from the latest
polled tick without an actor hop when a poll confirmed it at most ``s``
seconds ago, else makes the guarded call. While the breaker is OPEN a cached
tick is never passed off as live: per ``when_breaker_open`` the call raises
:class:`~mt5guard.errors.MT5CircuitBreakerOpen` (``"raise"``) or returns a
:class:`~mt5guard.messages.StaleQuote` carrying its age (``"age"``).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import pykka

from mt5guard.breaker.messages import BreakerState
from mt5guard.errors import MT5CircuitBreakerOpen, MT5ValidationError
from mt5guard.events.bus import deliver
from mt5guard.events.messages import TradeEvent
from mt5guard.market.data import check_symbol
from mt5guard.market.messages import StaleQuote, SubscribeQuotes
from mt5guard.market.quotes import Subscription
from mt5guard.session._core import Ready, SessionCore
from mt5guard.supervision import ChildUnavailable

__all__ = ["cached_price", "stream", "subscribe", "watch_trades"]

T = TypeVar("T")


def subscribe(core: SessionCore, symbols: Iterable[str] | str,
              subscriber: Any = None) -> Ready[Subscription]:
    """Poll ``symbols`` and give ``subscriber`` every changed quote as a Tick.

    ``subscriber`` is a callable or a pykka ActorRef; None only keeps the
    symbols polled for ``get_price(max_age=...)``. Close the returned
    :class:`Subscription` to stop.
    """
    names = (symbols,) if isinstance(symbols, str) else tuple(symbols)
    if not names:
        raise MT5ValidationError(operation="subscribe", field="symbols",
                                 detail="give at least one symbol, e.g. subscribe(['EURUSD'])")
    for name in names:
        check_symbol("subscribe", name)
    _require_subscriber("subscribe", subscriber, required=False)
    subscription = core.quotes.subscribe(names, subscriber)
    _rearm(core)
    return Ready(subscription)


def watch_trades(core: SessionCore, subscriber: Any) -> Ready[Subscription]:
    """Give ``subscriber`` (a callable or an ActorRef) this account's trade events.

    While anyone watches, the session polls positions, orders and deals
    (``trade_events.poll_interval``) and publishes PositionOpened,
    PositionModified, PositionClosed, OrderPlaced, OrderFilled and
    OrderCancelled on the EventBus, whoever made the change. The first
    poll takes a baseline. Close the returned Subscription to stop.
    """
    _require_subscriber("watch_trades", subscriber, required=True)
    account = core.account

    def forward(event: object) -> None:
        if isinstance(event, TradeEvent) and event.account == account:
            deliver(subscriber, event)

    unsubscribe = core.bus.subscribe(forward)
    unwatch = core.trades.watch()
    _rearm(core)

    def close() -> None:
        unwatch()
        unsubscribe()

    return Ready(Subscription(close))


async def stream(start: Callable[[Callable[[T], None]], AbstractContextManager[Any]],
                 buffer: int) -> AsyncIterator[T]:
    """What ``start(push)`` pushes from another thread, as an async iterator.

    At most ``buffer`` items wait for a slow consumer; past that the oldest
    are dropped. Leaving the loop closes what ``start`` returned.
    """
    loop = asyncio.get_running_loop()
    waiting: asyncio.Queue[T] = asyncio.Queue(maxsize=max(1, buffer))

    def offer(item: T) -> None:
        if waiting.full():
            waiting.get_nowait()
        waiting.put_nowait(item)

    def push(item: T) -> None:
        loop.call_soon_threadsafe(offer, item)

    with start(push):
        while True:
            yield await waiting.get()


def _rearm(core: SessionCore) -> None:
    try:
        core.session.tell(SubscribeQuotes())
    except ChildUnavailable:
        pass  # a restarting session re-arms its polls in on_start


def cached_price(core: SessionCore, symbol: str, max_age: float) -> Any:
    """The cached tick, a StaleQuote, a raise while OPEN, or None for the guarded path."""
    if isinstance(max_age, bool) or not isinstance(max_age, (int, float)) \
            or not math.isfinite(max_age) or max_age < 0:
        raise MT5ValidationError(operation="get_price", field="max_age",
                                 detail=f"max_age must be seconds >= 0, got {max_age!r}")
    cached = core.quotes.latest(symbol)
    view = None if core.breaker_view is None else core.breaker_view.get()
    if view is not None and view.new is BreakerState.OPEN:
        if cached is None:
            return None  # the guarded path refuses it with retry_at
        age = core.clock.monotonic() - cached.confirmed_at
        if core.when_breaker_open == "age":
            return StaleQuote(symbol, cached.tick, age, "circuit breaker open")
        raise MT5CircuitBreakerOpen(operation="get_price", retry_at=view.retry_at,
                                    detail=f"the cached tick is {age:.3f} s old, not live")
    if cached is not None and core.clock.monotonic() - cached.confirmed_at <= max_age:
        return cached.tick
    return None


def _require_subscriber(operation: str, subscriber: Any, *, required: bool) -> None:
    if subscriber is None and not required:
        return
    if not callable(subscriber) and not isinstance(subscriber, pykka.ActorRef):
        raise MT5ValidationError(operation=operation, field="subscriber",
                                 detail="subscriber must be a callable or a pykka ActorRef")

