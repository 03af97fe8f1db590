"""Config of the trading surface: the quote poll and cache."""

from __future__ import annotations

from typing import Final

import attrs

from mt5guard.config.values import HOUR, choice, documented, duration, meta, to_float

__all__ = ["QuotesConfig", "TradeEventsConfig"]

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
