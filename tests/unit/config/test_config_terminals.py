"""A config never puts two accounts on one terminal, nor one account on two terminals."""

from __future__ import annotations

from typing import Any

import pytest

from mt5guard.config import ConfigError, parse_config

ENV = {"PW": "not-a-real-password", "KEY": "a-bridge-key-7c2e94d1b06f5a38e9d4c7b2a15f0e63"}


def real(name: str, kind: str = "rpyc", **terminal: Any) -> dict[str, Any]:
    settings = {"kind": kind, "login": 1000 + len(name), "server": "Broker-Live",
                "password": "${PW}", **terminal}
    return {"name": name, "symbols": ["EURUSD"], "terminal": settings}


def refusal(*accounts: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as bad:
        parse_config({"accounts": list(accounts)}, environ=ENV)
    return bad.value


def test_many_rpyc_accounts_on_their_own_servers_share_one_tree() -> None:
    accounts = [real(f"acct{i}", login=100 + i, port=18812 + i) for i in range(5)]
    config = parse_config({"accounts": accounts}, environ=ENV)
    assert [a.terminal.port for a in config.accounts] == [18812, 18813, 18814, 18815, 18816]


def test_one_trading_account_twice_is_refused_naming_both() -> None:
    error = refusal(real("alpha", login=7, port=18812), real("beta", login=7, port=18813))
    assert error.key == "accounts[1].terminal.login"
    assert "'beta' uses login 7 on Broker-Live, as account 'alpha' (accounts[0])" in str(error)
    assert "remove one" in str(error.hint)


def test_the_same_login_on_another_server_is_another_account() -> None:
    parse_config({"accounts": [real("alpha", login=7, port=18812),
                               real("beta", login=7, port=18813, server="Broker-Demo")]},
                 environ=ENV)


def test_two_accounts_on_one_rpyc_server_are_refused() -> None:
    error = refusal(real("alpha", login=1, port=8001), real("beta", login=2, port=8001))
    assert error.key == "accounts[1].terminal.port"
    assert "the rpyc server 127.0.0.1:8001, as account 'alpha'" in str(error)
    assert "one server per account" in str(error.hint)


def test_two_accounts_on_one_terminal_path_are_refused() -> None:
    path = "C:/MT5/live/terminal64.exe"
    error = refusal(real("alpha", "metatrader5", login=1, path=path),
                    real("beta", "metatrader5", login=2, path=path))
    assert error.key == "accounts[1].terminal.path"
    assert f"the terminal {path}, as account 'alpha'" in str(error)
    assert "its own terminal install folder" in str(error.hint)


def test_two_accounts_without_a_path_would_share_the_terminal_metatrader5_finds() -> None:
    error = refusal(real("alpha", "metatrader5", login=1), real("beta", "metatrader5", login=2))
    assert error.key == "accounts[1].terminal.path"
    assert "the terminal (found by MetaTrader5), as account 'alpha'" in str(error)


def bridge(name: str, login: int, port: int, path: str) -> dict[str, Any]:
    return real(name, "bridge", login=login, port=port, path=path, key="${KEY}",
                insecure_plaintext_loopback=True)


def test_a_bridge_serves_many_accounts_each_with_its_own_terminal() -> None:
    accounts = [bridge("alpha", 1, 18812, "C:/MT5/a/terminal64.exe"),
                bridge("beta", 2, 18812, "C:/MT5/b/terminal64.exe"),
                bridge("gamma", 3, 18813, "C:/MT5/a/terminal64.exe")]  # another machine's folder
    assert len(parse_config({"accounts": accounts}, environ=ENV).accounts) == 3


def test_one_terminal_folder_on_one_bridge_twice_is_refused() -> None:
    path = "C:/MT5/a/terminal64.exe"
    error = refusal(bridge("alpha", 1, 18812, path), bridge("beta", 2, 18812, path))
    assert error.key == "accounts[1].terminal.path"
    assert f"the terminal {path} behind the bridge 127.0.0.1:18812, as account 'alpha'" in str(error)
    assert "on the bridge's machine" in str(error.hint)


def test_simulated_accounts_may_share_a_login() -> None:
    simulated = {"kind": "simulated", "login": 5001, "server": "MetaQuotes-Demo"}
    accounts = [{"name": n, "symbols": ["EURUSD"], "terminal": simulated} for n in ("a", "b")]
    assert len(parse_config({"accounts": accounts}, environ=ENV).accounts) == 2


@pytest.mark.parametrize(
    ("terminal", "key", "problem"),
    [
        ({"call_timeout": "60s"}, "call_timeout", "60 s is not above timeout (60 s)"),
        ({"port": 0}, "port", "1"),
        ({"password": None}, "password", "is required for kind rpyc"),
        ({"kind": "simulated", "password": None, "port": 8001}, "port",
         "only applies to kind rpyc"),
    ],
)
def test_rpyc_settings_are_checked(terminal: dict[str, Any], key: str, problem: str) -> None:
    account = real("alpha")
    account["terminal"] = {k: v for k, v in {**account["terminal"], **terminal}.items()
                           if v is not None}
    error = refusal(account)
    assert error.key == f"accounts[0].terminal.{key}"
    assert problem in str(error)


def test_rpyc_defaults_suit_mt5linux() -> None:
    terminal = parse_config({"accounts": [real("alpha")]}, environ=ENV).accounts[0].terminal
    assert (terminal.host, terminal.port) == ("127.0.0.1", 18812)
    assert terminal.call_timeout == 75.0 > terminal.timeout
