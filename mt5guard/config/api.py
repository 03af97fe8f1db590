"""Config of the authenticated HTTP trading API (``api:``): tokens, limits, TLS, alerts.

The API is served only when at least one token (or the alert secret) is
configured; it then shares the health endpoint's host and port
(``observability.http``). Every token comes from the environment
(``token: ${NAME}``) and carries its scopes and the accounts it may touch.
``alert_secret`` turns on the signed inbound alert route
(``POST /v1/alerts/{account}``).
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from mt5guard.config.values import (
    Validator,
    documented,
    field_error,
    int_field,
    meta,
    number_field,
    seconds_field,
    text,
    text_field,
    to_tuple,
    tuple_of,
)
from mt5guard.secret import Secret

__all__ = ["API_SCOPES", "ApiConfig", "ApiTokenConfig"]

API_SCOPES: Final = ("read", "trade")
MIN_TOKEN_LENGTH: Final = 16
MIN_ALERT_SECRET_LENGTH: Final = 32
_TOKEN_HINT = ("export a long random value, e.g. python -c 'import secrets; "
               "print(secrets.token_urlsafe(32))'")


def _secret_of(minimum: int, yaml: str, *, optional: bool = False) -> Validator:
    """A Secret of at least ``minimum`` characters (or None when ``optional``)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        # Never echo the value: it is a credential.
        if value is None and optional:
            return
        if not isinstance(value, Secret):
            raise field_error(instance, attribute.name,
                              "must be a Secret or None" if optional else "must be a Secret",
                              f"in YAML write {yaml}")
        if len(value.reveal()) < minimum:
            raise field_error(instance, attribute.name,
                              f"is shorter than {minimum} characters", _TOKEN_HINT)

    return check


def _scopes(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(str, what="scope")(instance, attribute, value)
    for index, scope in enumerate(value):
        if scope not in API_SCOPES:
            raise field_error(instance, f"{attribute.name}[{index}]", f"{scope!r} is not a scope",
                              "use read (prices, book, history, stream) and/or trade (orders)")


@documented
@attrs.frozen(kw_only=True)
class ApiTokenConfig:
    """One bearer token of the trading API: who may do what, on which accounts."""

    name: str = attrs.field(
        validator=text(pattern=r"[a-z0-9_-]{1,32}",
                       pattern_hint="use 1-32 characters from a-z, 0-9, _ and -"),
        metadata=meta("Name of the token's holder, [a-z0-9_-]{1,32}; in logs, never the token."),
    )
    token: Secret = attrs.field(
        validator=_secret_of(MIN_TOKEN_LENGTH, "token: ${MT5GUARD_API_TOKEN}"),
        metadata=meta(f"The bearer token, only as ${{ENV_VAR}}, at least {MIN_TOKEN_LENGTH} "
                      "characters.", kind="secret"),
    )
    scopes: tuple[str, ...] = attrs.field(
        default=("read",),
        converter=to_tuple,
        validator=_scopes,
        metadata=meta("read (accounts, prices, stream, book, history, breaker) and/or trade "
                      "(place, modify, cancel, close).", kind="list", default_text="[read]"),
    )
    accounts: tuple[str, ...] = attrs.field(
        default=("*",),
        converter=to_tuple,
        validator=tuple_of(str, what="account name"),
        metadata=meta("Accounts this token may touch; * is every account.", kind="list",
                      default_text="['*']"),
    )


def _token_list(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, ApiTokenConfig) for v in value):
        raise field_error(instance, attribute.name, "must be a list of ApiTokenConfig",
                          "in YAML write - name: ops  token: ${MT5GUARD_API_TOKEN}")
    names = [token.name for token in value]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise field_error(instance, f"{attribute.name}[{index}].name",
                              f"{name!r} is already used", "token names must be unique")
    secrets = [token.token for token in value]
    for index, secret in enumerate(secrets):
        if secret in secrets[:index]:
            raise field_error(instance, f"{attribute.name}[{index}].token",
                              "is the same value as an earlier token's", "give each holder its own")


@documented
@attrs.frozen(kw_only=True)
class ApiConfig:
    """The HTTP trading API under /v1, next to /healthz, /readyz and /metrics."""

    tokens: tuple[ApiTokenConfig, ...] = attrs.field(
        default=(),
        converter=to_tuple,
        validator=_token_list,
        metadata=meta("Bearer tokens; the API is served only when there is at least one.",
                      kind="sections", section=ApiTokenConfig, default_text="[]"),
    )
    requests_per_second: float = number_field(
        20.0, "Requests per second each token may make (a token bucket).",
        low=0.001, high=100_000.0)
    burst: int = int_field(
        40, "Requests a token may make at once before the rate applies.", 1, 1_000_000)
    max_body_bytes: int = int_field(
        16_384, "Largest request body accepted, in bytes (256..1 MiB); more is 413.",
        256, 1_048_576)
    tls_certfile: str | None = text_field(
        None, "PEM certificate chain: serve HTTPS (with tls_keyfile); null serves HTTP.")
    tls_keyfile: str | None = text_field(None, "PEM private key of tls_certfile.")

    alert_secret: Secret | None = attrs.field(
        default=None,
        validator=_secret_of(MIN_ALERT_SECRET_LENGTH, "alert_secret: ${MT5GUARD_ALERT_SECRET}",
                             optional=True),
        metadata=meta(f"HMAC-SHA256 key of POST /v1/alerts/{{account}}, only as ${{ENV_VAR}}, "
                      f"at least {MIN_ALERT_SECRET_LENGTH} characters; null: no alert route.",
                      kind="secret"),
    )
    alert_max_age: float = seconds_field(
        30.0, "How far an alert's X-Mt5guard-Timestamp may be from now (1s..10m); "
        "older or newer is 401.", low=1.0, high=600.0)

    def __attrs_post_init__(self) -> None:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            missing = "tls_keyfile" if self.tls_keyfile is None else "tls_certfile"
            raise field_error(self, missing, "is required with the other tls_ file",
                              "give both tls_certfile and tls_keyfile, or neither")

    @property
    def enabled(self) -> bool:
        """Whether the API is served (at least one token, or the alert route)."""
        return bool(self.tokens) or self.alert_secret is not None
