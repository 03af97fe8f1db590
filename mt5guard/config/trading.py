"""Config of the trading surface: quote and trade polls, the quote cache, rate limits."""

from __future__ import annotations

from typing import Final

import attrs

from mt5guard.config.values import (
    HOUR,
    choice,
    documented,
    duration,
    integer,
    meta,
    number,
    to_float,
)

__all__ = ["QuotesConfig", "RateLimitConfig", "TradeEventsConfig"]

WHEN_BREAKER_OPEN: Final = ("raise", "age")


@documented
@attrs.frozen(kw_only=True)
class QuotesConfig:
    """Streaming quotes (``session.subscribe``) and the cache behind ``get_price(max_age=...)``."""

    poll_interval: float = attrs.field(
        default=0.25,
        converter=to_float,
        validator=duration(low=0.01, high=HOUR),
        metadata=meta("Seconds between two polls of the subscribed symbols (10ms..1h).",
                      kind="duration"),
    )
    when_breaker_open: str = attrs.field(
        default="raise",
        validator=choice(WHEN_BREAKER_OPEN),
        metadata=meta("A cached quote while the breaker is OPEN: raise MT5CircuitBreakerOpen, "
                      "or answer a StaleQuote carrying its age (raise, age)."),
    )


@documented
@attrs.frozen(kw_only=True)
class TradeEventsConfig:
    """Trade events (``session.watch_trades``): the book poll that diffs positions, orders, deals."""

    poll_interval: float = attrs.field(
        default=1.0,
        converter=to_float,
        validator=duration(low=0.05, high=HOUR),
        metadata=meta("Seconds between two polls of positions, orders and deals while anyone "
                      "watches (50ms..1h).", kind="duration"),
    )


@documented
@attrs.frozen(kw_only=True)
class RateLimitConfig:
    """Token buckets per account for facade requests and orders (rate 0 turns one off)."""

    requests_per_second: float = attrs.field(
        default=0.0,
        converter=to_float,
        validator=number(low=0.0, high=100_000.0),
        metadata=meta("Requests per second every account may send to its session; 0 = no limit."),
    )
    request_burst: int = attrs.field(
        default=20,
        validator=integer(1, 100_000),
        metadata=meta("Requests that may go at once before the rate applies (1..100000)."),
    )
    orders_per_second: float = attrs.field(
        default=0.0,
        converter=to_float,
        validator=number(low=0.0, high=10_000.0),
        metadata=meta("Orders and trade changes per second per account; 0 = no limit."),
    )
    order_burst: int = attrs.field(
        default=5,
        validator=integer(1, 10_000),
        metadata=meta("Orders that may go at once before the rate applies (1..10000)."),
    )
    max_wait: float = attrs.field(
        default=1.0,
        converter=to_float,
        validator=duration(allow_zero=True, high=HOUR),
        metadata=meta("Seconds a call over the limit is held back before it fails with "
                      "MT5RateLimited instead (0..1h).", kind="duration"),
    )
    slowdown_factor: float = attrs.field(
        default=0.5,
        converter=to_float,
        validator=number(low=0.01, high=1.0),
        metadata=meta("The order rate is multiplied by this after the server answers 10024 "
                      "TOO_MANY_REQUESTS (0.01..1)."),
    )
    slowdown_period: float = attrs.field(
        default=60.0,
        converter=to_float,
        validator=duration(high=HOUR),
        metadata=meta("Seconds the slower order rate lasts (up to 1h).", kind="duration"),
    )
