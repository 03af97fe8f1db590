"""Streaming quotes for a terminal in a worker process: the worker polls, we publish.

For an in-process terminal the SessionActor polls ``symbol_info_tick`` itself
(:class:`~mt5guard.market.quotes.QuotePoller`). For a process-isolated one
that would be one request over the worker pipe per poll; instead the session
tells its worker what to watch (one ``watch`` request when the subscribed
symbols, the breaker's verdict or the worker change) and the worker pushes a
frame per poll round with only the ticks that changed
(:mod:`mt5guard.terminal.bridge._watch`). On the same clock timer as the in-process
poll, :meth:`WorkerQuoteFeed.step` takes the pushed rounds off the connection
(no request) and hands them to the :class:`~mt5guard.market.quotes.QuoteHub`,
which publishes Ticks and refreshes the cache exactly as for a poll.

The breaker rule is the in-process one: quotes are polled only while the
breaker is CLOSED (or DISABLED). Otherwise the worker is told to stop
watching and whatever it pushed is dropped, so the cache keeps aging and a
cached tick is never passed off as live. A round is "confirmed" when the
session takes it (clock monotonic seconds), at most about one interval after
the worker read it.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from mt5guard.clock import Clock
from mt5guard.market.quotes import QuotePoller
from mt5guard.terminal.worker import WorkerTerminal

__all__ = ["WorkerQuoteFeed"]

_log = logging.getLogger("mt5guard.session")


def _plausible(tick: Any) -> bool:
    bid, ask = tick.bid, tick.ask
    return math.isfinite(bid) and math.isfinite(ask) and 0 < bid <= ask


class WorkerQuoteFeed:
    """What the worker watches, and its pushed rounds turned into publications."""

    def __init__(self, worker: WorkerTerminal, poller: QuotePoller, clock: Clock) -> None:
        self._worker = worker
        self._poller = poller
        self._clock = clock
        self._told: frozenset[str] | None = None  # what the worker watches; None: unknown
        self._told_to = -1  # the worker (its ``starts`` count) that was told
        self._failing: frozenset[str] = frozenset()

    @property
    def watching(self) -> bool:
        """True while the worker may be polling something (the timer must go on)."""
        return bool(self._told) or self._told is None

    def step(self, live: bool) -> bool:
        """Publish what the worker pushed, then tell it what to watch now.

        ``live``: the breaker lets calls through freely (CLOSED or DISABLED).
        Returns True when a symbol newly failed in the worker: the caller then
        polls once in-process, so the failure meets the session's usual
        handling (breaker outcome, in-place reconnect, restart).
        """
        rounds = self._worker.take_pushed()
        failed = self._publish(rounds) if live and self._told_to == self._worker.starts else False
        self._sync(live)
        return failed

    def _publish(self, rounds: list[Any]) -> bool:
        hub = self._poller.hub
        watched = set(hub.wanted()) & (self._told or frozenset())
        newly_failed = False
        for polled in rounds:
            ticks = {}
            for symbol in watched:
                if symbol in polled.failed:
                    continue
                tick = polled.changed.get(symbol)
                if tick is None:  # unchanged: the round confirms the cached tick
                    cached = hub.latest(symbol)
                    tick = None if cached is None else cached.tick
                if tick is not None and _plausible(tick):
                    ticks[symbol] = tick
            failing = frozenset(polled.failed)
            newly_failed = newly_failed or bool(failing - self._failing)
            self._failing = failing
            hub.publish_poll(ticks, self._clock.monotonic(), self._clock.now())
        return newly_failed

    def _sync(self, live: bool) -> None:
        wanted = frozenset(self._poller.hub.wanted()) if live else frozenset()
        if wanted == self._told and self._told_to == self._worker.starts:
            return
        starts = self._worker.starts
        told = self._worker.watch(sorted(wanted), self._poller.interval)
        if told is None:  # the worker is gone: the session restarts and tells the new one
            self._told = None
            _log.debug("%s: watch not told: %s", self._worker.name, self._worker.last_error())
            return
        self._told, self._told_to, self._failing = wanted, starts, frozenset()
