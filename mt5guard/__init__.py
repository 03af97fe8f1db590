"""mt5guard: a supervised MetaTrader 5 session layer built on pykka actors.

Import from here; submodules may change. Importing mt5guard changes nothing
global: it adds a ``NullHandler`` to its own logger and nothing else.
"""

import logging

from mt5guard.breaker.messages import BreakerSnapshot, BreakerState, BreakerStateChanged
from mt5guard.clock import Clock, SystemClock, Timer
from mt5guard.config import (
    AccountConfig,
    ApiConfig,
    ApiTokenConfig,
    BackoffConfig,
    BreakerConfig,
    Config,
    ConfigError,
    HealthConfig,
    HttpConfig,
    ObservabilityConfig,
    OrdersConfig,
    QuotesConfig,
    RateLimitConfig,
    SupervisionConfig,
    TerminalConfig,
    TradeEventsConfig,
    WebhookConfig,
    load_config,
    parse_config,
    render_config,
)
from mt5guard.errors import _hierarchy as _errors
from mt5guard.errors._hierarchy import *  # noqa: F403 (every MT5Error class, listed there once)
from mt5guard.events.bus import EventBus
from mt5guard.health.messages import HealthChanged, HealthReport, HealthStatus
from mt5guard.orders.journal import JournalUnavailable
from mt5guard.orders.messages import OrderOutcome
from mt5guard.secret import Secret
from mt5guard.session.facade import AsyncSession, Session
from mt5guard.session.guard import Guard, start

logging.getLogger("mt5guard").addHandler(logging.NullHandler())

__version__ = "0.1.0"

__all__ = [
    "AccountConfig",
    "ApiConfig",
    "ApiTokenConfig",
    "AsyncSession",
    "BackoffConfig",
    "BreakerConfig",
    "BreakerSnapshot",
    "BreakerState",
    "BreakerStateChanged",
    "Clock",
    "Config",
    "ConfigError",
    "EventBus",
    "Guard",
    "HealthChanged",
    "HealthConfig",
    "HealthReport",
    "HealthStatus",
    "HttpConfig",
    "JournalUnavailable",
    "ObservabilityConfig",
    "OrderOutcome",
    "OrdersConfig",
    "QuotesConfig",
    "RateLimitConfig",
    "Secret",
    "Session",
    "SupervisionConfig",
    "SystemClock",
    "TerminalConfig",
    "Timer",
    "TradeEventsConfig",
    "WebhookConfig",
    "__version__",
    "load_config",
    "parse_config",
    "render_config",
    "start",
]
__all__ += _errors.__all__
