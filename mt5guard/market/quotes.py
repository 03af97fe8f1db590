"""Streaming quotes: which symbols to poll, who listens, and the latest tick of each.

One :class:`QuoteHub` per account outlives SessionActor restarts (like the
order journal). Callers subscribe here from any thread; the SessionActor
polls the subscribed symbols on the clock and hands each poll to
:meth:`QuoteHub.publish_poll`, which publishes a
:class:`~mt5guard.messages.Tick` to the symbol's subscribers only when the
quote changed, on the session's thread (subscribers must be quick: telling
an actor or handing over to an event loop is fine).

The latest ticks live in an immutable snapshot that is replaced, never
mutated, so :meth:`QuoteHub.latest` reads it without a lock or an actor hop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from mt5guard.clock import PollTimer
from mt5guard.errors import MT5DataError
from mt5guard.events.bus import deliver
from mt5guard.market.messages import PollQuotes, Tick

__all__ = ["CachedQuote", "QuoteHub", "QuotePoller", "Subscription"]


@attrs.frozen
class CachedQuote:
    """The latest tick of a symbol (the terminal's Tick record) and when a poll
    last confirmed it (clock monotonic seconds)."""

    tick: Any
    confirmed_at: float


def _changed(before: Any, after: Any) -> bool:
    return before is None or (before.time_msc, before.bid, before.ask, before.last, before.volume) \
        != (after.time_msc, after.bid, after.ask, after.last, after.volume)


class Subscription:
    """A live subscription; :meth:`close` ends it (idempotent)."""

    def __init__(self, close: Callable[[], None]) -> None:
        self._close: Callable[[], None] | None = close

    def close(self) -> None:
        close, self._close = self._close, None
        if close is not None:
            close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class QuoteHub:
    """Subscriptions, subscribers and the quote cache of one account."""

    def __init__(self, account: str) -> None:
        self.account = account
        self._lock = threading.Lock()
        self._wanted: dict[str, int] = {}
        self._listeners: Mapping[str, tuple[Any, ...]] = MappingProxyType({})
        self._snapshot: Mapping[str, CachedQuote] = MappingProxyType({})
        self.published = 0  # ticks handed to subscribers (counted once per tick)

    # subscriptions (any thread) ------------------------------------------------

    def subscribe(self, symbols: Iterable[str], subscriber: Any = None) -> Subscription:
        """Poll ``symbols``; ``subscriber`` (a callable or an ActorRef) gets their Ticks.

        Returns the :class:`Subscription` that undoes exactly this call.
        """
        names = tuple(dict.fromkeys(symbols))
        with self._lock:
            for name in names:
                self._wanted[name] = self._wanted.get(name, 0) + 1
            if subscriber is not None:
                listeners = dict(self._listeners)
                for name in names:
                    listeners[name] = (*listeners.get(name, ()), subscriber)
                self._listeners = MappingProxyType(listeners)

        def undo() -> None:
            with self._lock:
                for name in names:
                    left = self._wanted.get(name, 0) - 1
                    if left > 0:
                        self._wanted[name] = left
                    else:
                        self._wanted.pop(name, None)
                if subscriber is not None:
                    listeners = dict(self._listeners)
                    for name in names:
                        kept = list(listeners.get(name, ()))
                        if subscriber in kept:
                            kept.remove(subscriber)
                        listeners[name] = tuple(kept)
                    self._listeners = MappingProxyType(listeners)

        return Subscription(undo)

    def wanted(self) -> tuple[str, ...]:
        """The symbols some subscription asks the session to poll."""
        with self._lock:
            return tuple(self._wanted)

    # the cache (any thread, no lock) ----------------------------------------------

    def latest(self, symbol: str) -> CachedQuote | None:
        return self._snapshot.get(symbol)

    # publishing (the SessionActor's thread only) -----------------------------------

    def publish_poll(self, ticks: Mapping[str, Any], confirmed_at: float, received_at: datetime) -> int:
        """Record one poll's ticks; publish those that changed. Returns how many did."""
        before = self._snapshot
        after = dict(before)
        changed = []
        for symbol, tick in ticks.items():
            old = before.get(symbol)
            after[symbol] = CachedQuote(tick, confirmed_at)
            if _changed(None if old is None else old.tick, tick):
                changed.append(symbol)
        self._snapshot = MappingProxyType(after)
        listeners = self._listeners
        for symbol in changed:
            tick = ticks[symbol]
            event = Tick(self.account, symbol, float(tick.bid), float(tick.ask), float(tick.last),
                         int(tick.volume), int(tick.time), int(tick.time_msc), int(tick.flags),
                         float(tick.volume_real), received_at)
            self.published += 1
            for subscriber in listeners.get(symbol, ()):
                deliver(subscriber, event)
        return len(changed)


class QuotePoller:
    """The SessionActor's quote poll: one timer on the clock while anything is subscribed.

    ``interval`` is seconds of clock time between polls. A symbol the
    terminal does not know (a data error) is skipped; any other error ends
    the poll and reaches the session's guarded-call handling.
    """

    def __init__(self, hub: QuoteHub, clock: Any, interval: float) -> None:
        self.hub = hub
        self._clock = clock
        self._timer = PollTimer(clock, interval, lambda: PollQuotes(reply_to=Future()))

    @property
    def interval(self) -> float:
        """Seconds of clock time between polls."""
        return self._timer.interval

    def arm(self, actor_ref: Any, *, force: bool = False) -> None:
        """Schedule the next poll unless one is scheduled or (unless ``force``) nothing
        is subscribed."""
        if force or self.hub.wanted():
            self._timer.arm(actor_ref)

    def fired(self) -> None:
        self._timer.fired()

    def cancel(self) -> None:
        self._timer.cancel()

    def poll(self, price: Callable[[str], Any]) -> int:
        """Read every wanted symbol with ``price`` and publish; returns how many changed."""
        ticks = {}
        for symbol in self.hub.wanted():
            try:
                ticks[symbol] = price(symbol)
            except MT5DataError:
                continue
        return self.hub.publish_poll(ticks, self._clock.monotonic(), self._clock.now())
