"""Rate limits per account: token buckets on the injected clock.

Two buckets guard each account: one for every request the facade sends to
the session, one more for orders and trade changes. A call that finds its
bucket empty is *scheduled* for the moment a token frees up (no thread
sleeps; the request is told to the session then), if that moment is at most
``max_wait`` seconds away; otherwise it fails at once with
:class:`~mt5guard.errors.MT5RateLimited` carrying ``retry_at``. The trade
server's ``TRADE_RETCODE_TOO_MANY_REQUESTS`` (10024) slows the order bucket
down by ``slowdown_factor`` for ``slowdown_period`` seconds.

:class:`TokenBucket` is pure (time is an argument), prior art: the classic
token bucket of network traffic shaping, with reservations that may go
negative so waiting callers are served in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from mt5guard.config.trading import RateLimitConfig
from mt5guard.errors import MT5Error, MT5RateLimited

__all__ = ["ORDER_OPERATIONS", "RateLimits", "TokenBucket"]

#: Operations that also take a token from the order bucket.
ORDER_OPERATIONS = frozenset({"place_order", "modify_position", "close_position", "cancel_order",
                              "place_pending_order", "modify_order"})
_TOO_MANY_REQUESTS = 10024


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; times are monotonic seconds."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._at = now
        self._slow_until = now
        self._slow_factor = 1.0

    def _rate(self, now: float) -> float:
        return self.rate * (self._slow_factor if now < self._slow_until else 1.0)

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self._rate(now))
            self._at = now

    def wait_for_token(self, now: float) -> float:
        """Seconds until one more token is free (0: one is free now); takes nothing."""
        self._refill(now)
        missing = 1.0 - self._tokens
        return 0.0 if missing <= 1e-9 else missing / self._rate(now)  # 1e-9: float dust

    def take(self, now: float) -> None:
        """Reserve one token (the balance may go negative: later callers wait longer)."""
        self._refill(now)
        self._tokens -= 1.0

    def give_back(self, now: float) -> None:
        """Return one token taken for a call that was refused before it was sent."""
        self._refill(now)
        self._tokens = min(float(self.burst), self._tokens + 1.0)

    def slow_down(self, now: float, factor: float, period: float) -> None:
        """Refill at ``factor`` times the rate for ``period`` seconds from ``now``."""
        self._refill(now)
        self._slow_factor = factor
        self._slow_until = now + period


class RateLimits:
    """The buckets of one account; thread-safe. ``rate`` 0 turns a bucket off."""

    def __init__(self, config: RateLimitConfig, monotonic: float) -> None:
        self._config = c = config
        self._lock = threading.Lock()
        self._requests = TokenBucket(c.requests_per_second, c.request_burst, monotonic) \
            if c.requests_per_second > 0 else None
        self._orders = TokenBucket(c.orders_per_second, c.order_burst, monotonic) \
            if c.orders_per_second > 0 else None
        self._max_wait = c.max_wait
        self.limited = 0  # calls refused with MT5RateLimited
        self.delayed = 0  # calls scheduled for later

    @classmethod
    def configured(cls, config: RateLimitConfig | None, monotonic: float) -> RateLimits | None:
        """The buckets ``config`` turns on, or None when it turns none on (no bookkeeping per
        request then: nothing is limited, slowed down or counted)."""
        if config is None or not (config.requests_per_second > 0 or config.orders_per_second > 0):
            return None
        return cls(config, monotonic)

    def _buckets(self, operation: str) -> list[TokenBucket]:
        return [b for b in (self._requests, self._orders if operation in ORDER_OPERATIONS else None)
                if b is not None]

    def refund(self, operation: str, monotonic: float) -> None:
        """``operation`` was admitted but refused before it was sent (session down,
        breaker open): its tokens are given back, so refusals spend no rate."""
        with self._lock:
            for bucket in self._buckets(operation):
                bucket.give_back(monotonic)

    def admit(self, operation: str, monotonic: float, now: Callable[[], datetime]) -> float:
        """Seconds to hold ``operation`` back (0: send now); raises MT5RateLimited, whose
        ``retry_at`` is counted from ``now()`` (read only then)."""
        buckets = self._buckets(operation)
        if not buckets:
            return 0.0
        with self._lock:
            wait = max(b.wait_for_token(monotonic) for b in buckets)
            if wait > self._max_wait:
                self.limited += 1
                raise MT5RateLimited(operation=operation, retry_at=now() + timedelta(seconds=wait),
                                     detail=f"over the account's rate limit; a token frees up in "
                                            f"{wait:.3f} s, more than max_wait {self._max_wait:g} s")
            for bucket in buckets:
                bucket.take(monotonic)
            if wait > 0:
                self.delayed += 1
            return wait

    def observe(self, error: BaseException, monotonic: float) -> None:
        """A 10024 TOO_MANY_REQUESTS from the server slows the order bucket down."""
        if isinstance(error, MT5Error) and error.code == _TOO_MANY_REQUESTS and self._orders:
            c = self._config
            with self._lock:
                self._orders.slow_down(monotonic, c.slowdown_factor, c.slowdown_period)
