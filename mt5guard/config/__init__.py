"""mt5guard configuration: YAML -> frozen, validated attrs objects.

Load a file with :func:`load_config`, or build the objects in code (every
class has defaults except what identifies an account); both paths run the same
validation and raise :class:`ConfigError`. All durations are float seconds; in
YAML they may also be written ``250ms``, ``60s``, ``10m``, ``1h``, ``1h30m``.

Passwords never live in files: ``terminal.password`` is only accepted as a
``${ENV_VAR}`` reference, resolved from the environment into a
:class:`~mt5guard.secret.Secret`. No other value is interpolated.
"""

from __future__ import annotations

from mt5guard.config.api import ApiConfig, ApiTokenConfig
from mt5guard.config.durations import parse_duration
from mt5guard.config.errors import ConfigError
from mt5guard.config.orders import MEMORY, OrdersConfig
from mt5guard.config.packaged import default_config_path
from mt5guard.config.parse import load_config, parse_config
from mt5guard.config.policy import (
    BackoffConfig,
    BreakerConfig,
    HealthConfig,
    SupervisionConfig,
)
from mt5guard.config.render import render_config, schema_reference
from mt5guard.config.schema import (
    AccountConfig,
    Config,
    HttpConfig,
    ObservabilityConfig,
)
from mt5guard.config.terminal import TerminalConfig, TerminalKind
from mt5guard.config.trading import (
    QuotesConfig,
    RateLimitConfig,
    TradeEventsConfig,
    WebhookConfig,
)

__all__ = [
    "MEMORY",
    "AccountConfig",
    "ApiConfig",
    "ApiTokenConfig",
    "BackoffConfig",
    "BreakerConfig",
    "Config",
    "ConfigError",
    "HealthConfig",
    "HttpConfig",
    "ObservabilityConfig",
    "OrdersConfig",
    "QuotesConfig",
    "RateLimitConfig",
    "SupervisionConfig",
    "TerminalConfig",
    "TerminalKind",
    "TradeEventsConfig",
    "WebhookConfig",
    "default_config_path",
    "load_config",
    "parse_config",
    "parse_duration",
    "render_config",
    "schema_reference",
]
