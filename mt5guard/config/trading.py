"""Config of the trading surface: quote and trade polls, the quote cache, rate limits."""

from __future__ import annotations

from typing import Any, Final

import attrs

from mt5guard.config.values import (
    DAY,
    HOUR,
    choice,
    documented,
    field_error,
    int_field,
    meta,
    number_field,
    seconds_field,
    show,
    to_tuple,
)
from mt5guard.secret import Secret


def _secret(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Secret):  # never echo the value
        raise field_error(instance, attribute.name, "must be a Secret or None",
                          "in YAML write ${ENV_VAR}; in code Secret(os.environ[...])")

__all__ = ["QuotesConfig", "RateLimitConfig", "TradeEventsConfig", "WebhookConfig"]

WHEN_BREAKER_OPEN: Final = ("raise", "age")


@documented
@attrs.frozen(kw_only=True)
class QuotesConfig:
    """Streaming quotes (``session.subscribe``) and the cache behind ``get_price(max_age=...)``."""

    poll_interval: float = seconds_field(
        0.25, "Seconds between two polls of the subscribed symbols (10ms..1h).",
        low=0.01, high=HOUR)
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

    poll_interval: float = seconds_field(
        1.0, "Seconds between two polls of positions, orders and deals while anyone "
        "watches (50ms..1h).", low=0.05, high=HOUR)


@documented
@attrs.frozen(kw_only=True)
class RateLimitConfig:
    """Token buckets per account for facade requests and orders (rate 0 turns one off)."""

    requests_per_second: float = number_field(
        0.0, "Requests per second every account may send to its session; 0 = no limit.",
        low=0.0, high=100_000.0)
    request_burst: int = int_field(
        20, "Requests that may go at once before the rate applies (1..100000).", 1, 100_000)
    orders_per_second: float = number_field(
        0.0, "Orders and trade changes per second per account; 0 = no limit.",
        low=0.0, high=10_000.0)
    order_burst: int = int_field(
        5, "Orders that may go at once before the rate applies (1..10000).", 1, 10_000)
    max_wait: float = seconds_field(
        1.0, "Seconds a call over the limit is held back before it fails with "
        "MT5RateLimited instead (0..1h).", allow_zero=True, high=HOUR)
    slowdown_factor: float = number_field(
        0.5, "The order rate is multiplied by this after the server answers 10024 "
        "TOO_MANY_REQUESTS (0.01..1).", low=0.01, high=1.0)
    slowdown_period: float = seconds_field(
        60.0, "Seconds the slower order rate lasts (up to 1h).", high=HOUR)


WEBHOOK_EVENTS: Final = ("breaker", "health", "supervisor", "trade")


def _webhook_url(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")) or " " in value:
        raise field_error(instance, attribute.name, f"{show(value)} is not an http(s) URL",
                          "write it like https://alerts.example.com/mt5")


def _webhook_events(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    bad = [e for e in value if e not in WEBHOOK_EVENTS] if isinstance(value, tuple) else [value]
    if bad or not value:
        raise field_error(instance, attribute.name,
                          f"{show(bad[0] if bad else value)} is not an event kind",
                          "a list of: " + ", ".join(WEBHOOK_EVENTS))


@documented
@attrs.frozen(kw_only=True)
class WebhookConfig:
    """One HTTP endpoint that receives events as signed JSON POSTs."""

    url: str = attrs.field(validator=_webhook_url, metadata=meta("Where to POST, http(s)://..."))
    events: tuple[str, ...] = attrs.field(
        default=WEBHOOK_EVENTS,
        converter=to_tuple,
        validator=_webhook_events,
        metadata=meta("Which events: breaker, health, supervisor, trade.", kind="list",
                      default_text="[breaker, health, supervisor, trade]"),
    )
    secret: Secret | None = attrs.field(
        default=None,
        validator=_secret,
        metadata=meta("HMAC-SHA256 signing key, only as ${ENV_VAR}; null sends unsigned.",
                      kind="secret"),
    )
    timeout: float = seconds_field(5.0, "Seconds one POST may take (up to 60s).", high=60.0)
    max_attempts: int = int_field(5, "Attempts per event before it is given up (1..100).", 1, 100)
    retry_backoff: float = seconds_field(
        1.0, "Seconds before the first retry; doubles each time (up to 1h).", high=HOUR)
    queue_size: int = int_field(
        1000, "Events that may wait for this URL; more are dropped and counted.", 1, 1_000_000)
    failure_threshold: int = int_field(
        5, "Consecutive failed POSTs that open this URL's breaker (1..1000).", 1, 1000)
    open_for: float = seconds_field(
        60.0, "Seconds this URL's breaker stays open before one trial POST.", high=DAY)


def webhook_list(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A tuple of WebhookConfig, possibly empty."""
    if not isinstance(value, tuple) or not all(isinstance(v, WebhookConfig) for v in value):
        raise field_error(instance, attribute.name, "must be a list of WebhookConfig",
                          "in YAML write - url: https://...")
