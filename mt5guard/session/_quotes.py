"""Streaming quotes and the quote cache on Session and AsyncSession.

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
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, Literal

import pykka

from mt5guard.breaker.messages import BreakerState
from mt5guard.breaker.view import BreakerView
from mt5guard.errors import MT5CircuitBreakerOpen, MT5ValidationError
from mt5guard.events.bus import deliver
from mt5guard.events.messages import TradeEvent
from mt5guard.events.trade import TradeWatch
from mt5guard.market.data import check_symbol
from mt5guard.market.messages import StaleQuote, SubscribeQuotes, Tick
from mt5guard.market.quotes import QuoteHub, Subscription
from mt5guard.supervision import ChildHandle, ChildUnavailable

if TYPE_CHECKING:
    from mt5guard.clock import Clock
    from mt5guard.events.bus import EventBus
    from mt5guard.session.facade import Session

__all__ = ["AsyncQuoteCalls", "QuoteCalls", "WhenBreakerOpen"]

WhenBreakerOpen = Literal["raise", "age"]


class QuoteCalls:
    """Blocking side (mixed into Session)."""

    _quotes: QuoteHub
    _breaker_view: BreakerView | None
    _when_breaker_open: WhenBreakerOpen
    _trades: TradeWatch
    if TYPE_CHECKING:
        _session: ChildHandle
        _clock: Clock
        _bus: EventBus
        account: str

    def subscribe(self, symbols: Iterable[str] | str, subscriber: Any = None) -> Subscription:
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
        subscription = self._quotes.subscribe(names, subscriber)
        self._rearm()
        return subscription

    def watch_trades(self, subscriber: Any) -> Subscription:
        """Give ``subscriber`` (a callable or an ActorRef) this account's trade events.

        While anyone watches, the session polls positions, orders and deals
        (``trade_events.poll_interval``) and publishes PositionOpened,
        PositionModified, PositionClosed, OrderPlaced, OrderFilled and
        OrderCancelled on the EventBus, whoever made the change. The first
        poll takes a baseline. Close the returned Subscription to stop.
        """
        _require_subscriber("watch_trades", subscriber, required=True)
        account = self.account

        def forward(event: object) -> None:
            if isinstance(event, TradeEvent) and event.account == account:
                deliver(subscriber, event)

        unsubscribe = self._bus.subscribe(forward)
        unwatch = self._trades.watch()
        self._rearm()

        def close() -> None:
            unwatch()
            unsubscribe()

        return Subscription(close)

    def _rearm(self) -> None:
        try:
            self._session.tell(SubscribeQuotes())
        except ChildUnavailable:
            pass  # a restarting session re-arms its polls in on_start

    def _cached_price(self, symbol: str, max_age: float) -> Any:
        """The cached tick, a StaleQuote, a raise while OPEN, or None for the guarded path."""
        if isinstance(max_age, bool) or not isinstance(max_age, (int, float)) \
                or not math.isfinite(max_age) or max_age < 0:
            raise MT5ValidationError(operation="get_price", field="max_age",
                                     detail=f"max_age must be seconds >= 0, got {max_age!r}")
        cached = self._quotes.latest(symbol)
        view = None if self._breaker_view is None else self._breaker_view.get()
        if view is not None and view.new is BreakerState.OPEN:
            if cached is None:
                return None  # the guarded path refuses it with retry_at
            age = self._clock.monotonic() - cached.confirmed_at
            if self._when_breaker_open == "age":
                return StaleQuote(symbol, cached.tick, age, "circuit breaker open")
            raise MT5CircuitBreakerOpen(operation="get_price", retry_at=view.retry_at,
                                        detail=f"the cached tick is {age:.3f} s old, not live")
        if cached is not None and self._clock.monotonic() - cached.confirmed_at <= max_age:
            return cached.tick
        return None


def _require_subscriber(operation: str, subscriber: Any, *, required: bool) -> None:
    if subscriber is None and not required:
        return
    if not callable(subscriber) and not isinstance(subscriber, pykka.ActorRef):
        raise MT5ValidationError(operation=operation, field="subscriber",
                                 detail="subscriber must be a callable or a pykka ActorRef")


class AsyncQuoteCalls:
    """Awaitable side (mixed into AsyncSession)."""

    if TYPE_CHECKING:
        _s: Session

    async def subscribe(self, symbols: Iterable[str] | str, subscriber: Any = None) -> Subscription:
        return self._s.subscribe(symbols, subscriber)

    async def watch_trades(self, subscriber: Any) -> Subscription:
        return self._s.watch_trades(subscriber)

    async def trade_events(self, *, buffer: int = 1000) -> AsyncIterator[TradeEvent]:
        """``async for event in session.aio.trade_events()``: trade events as they come.

        At most ``buffer`` events wait for a slow consumer (oldest dropped).
        """
        loop = asyncio.get_running_loop()
        waiting: asyncio.Queue[TradeEvent] = asyncio.Queue(maxsize=max(1, buffer))

        def offer(event: TradeEvent) -> None:
            if waiting.full():
                waiting.get_nowait()
            waiting.put_nowait(event)

        with self._s.watch_trades(lambda e: loop.call_soon_threadsafe(offer, e)):
            while True:
                yield await waiting.get()

    async def ticks(self, *symbols: str, buffer: int = 1000) -> AsyncIterator[Tick]:
        """``async for tick in session.aio.ticks("EURUSD")``: changed quotes as they come.

        At most ``buffer`` ticks wait for a slow consumer; past that the
        oldest are dropped. Leaving the loop ends the subscription.
        """
        loop = asyncio.get_running_loop()
        waiting: asyncio.Queue[Tick] = asyncio.Queue(maxsize=max(1, buffer))

        def offer(tick: Tick) -> None:
            if waiting.full():
                waiting.get_nowait()
            waiting.put_nowait(tick)

        def push(tick: Tick) -> None:
            loop.call_soon_threadsafe(offer, tick)

        with self._s.subscribe(symbols, push):
            while True:
                yield await waiting.get()
