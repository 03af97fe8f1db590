"""Config of accounts and observability, and the top-level Config.

The terminal section of an account is in ``terminal.py``.

Durations and validation are as the package says (:mod:`mt5guard.config`).
"""

from __future__ import annotations

import attrs

from mt5guard.config.api import ApiConfig
from mt5guard.config.distinct import shared_terminal
from mt5guard.config.orders import OrdersConfig
from mt5guard.config.policy import BreakerConfig, HealthConfig, SupervisionConfig
from mt5guard.config.terminal import REAL_KINDS, TerminalConfig, TerminalKind
from mt5guard.config.trading import (
    QuotesConfig,
    RateLimitConfig,
    TradeEventsConfig,
    WebhookConfig,
    webhook_list,
)
from mt5guard.config.values import (
    HOUR,
    choice_field,
    did_you_mean,
    documented,
    field_error,
    flag_field,
    instance_of,
    int_field,
    meta,
    seconds_field,
    section_field,
    text,
    text_field,
    to_tuple,
    tuple_of,
)

__all__ = [
    "AccountConfig",
    "Config",
    "HttpConfig",
    "ObservabilityConfig",
    "TerminalConfig",
    "TerminalKind",
]

#: type_filling choices of an account (``filling``).
FILLING_CHOICES = ("auto", "fok", "ioc", "return")
#: The longest symbol name the MetaTrader5 module accepts (29 + the terminating zero < 31).
SYMBOL_NAME_LIMIT = 29


def _first_symbol(account: AccountConfig) -> str:
    symbols = account.symbols
    return symbols[0] if isinstance(symbols, tuple) and symbols else ""


@documented
@attrs.frozen(kw_only=True)
class AccountConfig:
    """One supervised account: its terminal and the symbols it trades."""

    name: str = attrs.field(
        validator=text(
            pattern=r"[a-z0-9_-]{1,32}",
            pattern_hint="use 1-32 characters from a-z, 0-9, _ and -",
        ),
        metadata=meta("Unique account name, [a-z0-9_-]{1,32}; used in logs, metrics and URLs."),
    )
    terminal: TerminalConfig = attrs.field(
        validator=instance_of(TerminalConfig),
        metadata=meta("The terminal this account uses.", kind="section", section=TerminalConfig),
    )
    symbols: tuple[str, ...] = attrs.field(
        converter=to_tuple,
        validator=tuple_of(str, what="symbol name"),
        metadata=meta("Symbols this account trades (non-empty).", kind="list"),
    )
    probe_symbol: str = attrs.field(
        default=attrs.Factory(_first_symbol, takes_self=True),
        validator=text(),
        metadata=meta(
            "Symbol whose tick the health probe reads; one of symbols.",
            default_text="first of symbols",
        ),
    )
    request_timeout: float = seconds_field(
        70.0, "Seconds a Session facade call waits for its reply (up to 1h).", high=HOUR)
    filling: str = choice_field(
        "auto", FILLING_CHOICES, "type_filling of this account's orders: auto (chosen per symbol "
        "from its filling_mode and execution mode), fok, ioc or return; an order's own "
        "filling= wins.")
    vital: bool = flag_field(
        False, "When this account gives up, the whole process gives up (exit 3); "
        "otherwise an account gives up alone and the process exits 3 only "
        "once every account has given up.")

    def __attrs_post_init__(self) -> None:
        for symbol in self.symbols:
            if len(symbol.encode("utf-16-le")) // 2 > SYMBOL_NAME_LIMIT:
                raise field_error(
                    self, "symbols", f"{symbol!r} is longer than {SYMBOL_NAME_LIMIT} characters",
                    "the MetaTrader5 module refuses longer symbol names (its limit counts the "
                    "terminating zero); use the name the terminal shows")
        if self.probe_symbol not in self.symbols:
            raise field_error(
                self,
                "probe_symbol",
                f"{self.probe_symbol!r} is not in symbols",
                did_you_mean(self.probe_symbol, self.symbols),
            )


@documented
@attrs.frozen(kw_only=True)
class HttpConfig:
    """The HTTP endpoint serving /healthz, /readyz and /metrics."""

    enabled: bool = flag_field(True, "Serve the endpoint at all.")
    host: str = text_field("127.0.0.1", "Address to bind; keep it loopback unless a proxy guards it.")
    port: int = int_field(9108, "TCP port, 0..65535; 0 picks a free port.", 0, 65535)


@documented
@attrs.frozen(kw_only=True)
class ObservabilityConfig:
    """What the process reports about itself."""

    http: HttpConfig = section_field(HttpConfig, "Health and metrics endpoint.")
    status_interval: float = seconds_field(
        60.0, "Seconds between status log lines, up to 24h; 0 disables them.", allow_zero=True)


@documented
@attrs.frozen(kw_only=True)
class Config:
    """Everything one mt5guard process runs: its accounts and the shared policies."""

    accounts: tuple[AccountConfig, ...] = attrs.field(
        converter=to_tuple,
        validator=tuple_of(AccountConfig, what="AccountConfig"),
        metadata=meta("The supervised accounts (at least one).", kind="accounts"),
    )
    supervision: SupervisionConfig = section_field(SupervisionConfig, "Restart policy.")
    breaker: BreakerConfig = section_field(BreakerConfig, "Circuit breaker policy.")
    health: HealthConfig = section_field(HealthConfig, "Health probe policy.")
    observability: ObservabilityConfig = section_field(ObservabilityConfig, "Logs and endpoints.")
    quotes: QuotesConfig = section_field(QuotesConfig, "Quote polling and cache.")
    trade_events: TradeEventsConfig = section_field(TradeEventsConfig, "Trade event polling.")
    rate_limits: RateLimitConfig = section_field(
        RateLimitConfig, "Request and order rate limits per account.")
    orders: OrdersConfig = section_field(OrdersConfig, "Order journal and reconciliation.")
    webhooks: tuple[WebhookConfig, ...] = attrs.field(
        default=(),
        converter=to_tuple,
        validator=webhook_list,
        metadata=meta("HTTP endpoints that receive events (see WebhookConfig).", kind="sections",
                      section=WebhookConfig, default_text="[]"),
    )
    api: ApiConfig = section_field(
        ApiConfig, "The authenticated HTTP trading API (off without tokens or alert_secret).")
    source: str | None = attrs.field(
        default=None,
        eq=False,
        validator=text(optional=True),
        metadata=meta("File this config was loaded from (not compared).", kind="internal"),
    )

    def __attrs_post_init__(self) -> None:
        seen: dict[str, int] = {}
        for index, account in enumerate(self.accounts):
            if account.name in seen:
                raise field_error(
                    self,
                    f"accounts[{index}].name",
                    f"{account.name!r} is already used by accounts[{seen[account.name]}]",
                    "account names must be unique",
                )
            seen[account.name] = index
        if self.api.enabled and not self.observability.http.enabled:
            raise field_error(self, "observability.http.enabled", "is false, but api is configured",
                              "the api is served on observability.http's host and port: "
                              "enable it, or remove api.tokens and api.alert_secret")
        for index, token in enumerate(self.api.tokens):
            for position, name in enumerate(token.accounts):
                if name != "*" and name not in seen:
                    raise field_error(self, f"api.tokens[{index}].accounts[{position}]",
                                      f"{name!r} is not a configured account",
                                      did_you_mean(name, list(seen)) or "use * for every account")
        clash = shared_terminal(self.accounts, REAL_KINDS)
        if clash is not None:
            raise field_error(self, *clash)

    def account(self, name: str) -> AccountConfig:
        """The account called ``name``; KeyError if there is none."""
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)

    @classmethod
    def default(cls) -> Config:
        """The demo config of ``config/default.yaml``: two simulated accounts, no secrets."""
        return cls(
            accounts=(
                AccountConfig(
                    name="demo",
                    terminal=TerminalConfig(login=5001, server="MetaQuotes-Demo"),
                    symbols=("EURUSD", "GBPUSD"),
                ),
                AccountConfig(
                    name="demo2",
                    terminal=TerminalConfig(login=5002, server="MetaQuotes-Demo"),
                    symbols=("USDJPY", "XAUUSD"),
                ),
            ),
            observability=ObservabilityConfig(status_interval=10.0),
        )
