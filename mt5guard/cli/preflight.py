"""Configuration faults that no retry can fix, found before anything starts.

A backend that cannot run on this operating system or a package that is not
installed would otherwise look like an outage: sessions restarting with
retryable errors for hours. ``mt5guard check`` and ``mt5guard run`` both
refuse them (exit status 2), each with the fix.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping

import attrs

from mt5guard.config import ApiConfig, ApiTokenConfig, Config, ConfigError
from mt5guard.secret import Secret

__all__ = ["API_TOKEN_ENV", "preflight", "with_env_token"]

#: With the packaged default config, this variable's value is a read+trade API token.
API_TOKEN_ENV = "MT5GUARD_API_TOKEN"


def with_env_token(config: Config, environ: Mapping[str, str]) -> Config:
    """The packaged default with the trading API on when ``MT5GUARD_API_TOKEN`` is set:
    one token, ``operator``, scopes read and trade, every account."""
    value = environ.get(API_TOKEN_ENV)
    if not value or config.api.enabled:
        return config
    try:
        token = ApiTokenConfig(name="operator", token=Secret(value), scopes=("read", "trade"))
    except ConfigError as error:
        raise ConfigError(f"{API_TOKEN_ENV} {error.problem}", source="environment",
                          hint=error.hint) from None
    return attrs.evolve(config, api=ApiConfig(tokens=(token,)))


def preflight(config: Config, *, platform: str | None = None) -> list[str]:
    """One line per problem (key, what is wrong, the fix); empty when the config can run here.

    ``platform`` replaces ``sys.platform`` (tests).
    """
    platform = sys.platform if platform is None else platform
    problems: list[str] = []
    for index, account in enumerate(config.accounts):
        key = f"accounts[{index}].terminal.kind"
        kind = account.terminal.kind
        if kind == "metatrader5" and platform != "win32":
            problems.append(
                f"{key}: metatrader5 cannot run on {platform}: the MetaTrader5 package ships "
                "Windows wheels only. Fix: run the terminal under Wine with the bridge "
                "(`mt5guard bridge --listen 127.0.0.1:18812` in the Windows Python) and set "
                "kind: bridge, key: ${MT5GUARD_BRIDGE_KEY}; see docs/operations.md")
        elif kind == "metatrader5" and not _installed("MetaTrader5"):
            problems.append(f"{key}: metatrader5 needs the MetaTrader5 package, which is not "
                            "installed. Fix: pip install 'mt5guard[mt5]'")
        elif kind == "rpyc" and not _installed("rpyc"):
            problems.append(f"{key}: rpyc needs the rpyc package, which is not installed. "
                            "Fix: pip install 'mt5guard[rpyc]'")
    if config.api.enabled and not (_installed("starlette") and _installed("uvicorn")):
        problems.append("api: the trading API needs starlette and uvicorn, which are not "
                        "installed. Fix: pip install 'mt5guard[api]'")
    return problems


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
