"""mt5guard.config: the shipped files load, every rule fails with a key path and a hint."""

from __future__ import annotations

import math
import pathlib
from typing import Any

import attrs
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mt5guard.config import (
    AccountConfig,
    BackoffConfig,
    BreakerConfig,
    Config,
    ConfigError,
    HealthConfig,
    HttpConfig,
    ObservabilityConfig,
    TerminalConfig,
    load_config,
    parse_config,
    parse_duration,
    render_config,
    schema_reference,
)
from mt5guard.secret import Secret

CONFIG_DIR = pathlib.Path(__file__).resolve().parents[3] / "config"
PASSWORD = "Zq9-unique-Hunter2!"  # distinctive: must never show up in any text


def data(terminal: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """A minimal valid config as YAML would load it, with overrides."""
    account = {
        "name": "demo",
        "terminal": {"login": 5001, "server": "MetaQuotes-Demo", **(terminal or {})},
        "symbols": ["EURUSD", "GBPUSD"],
    }
    return {"accounts": [account], **top}


def account(**fields: Any) -> dict[str, Any]:
    base = data()
    base["accounts"][0].update(fields)
    return base


def error_of(raw: dict[str, Any], environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, source="x.yaml", environ=environ or {})
    return caught.value


# -- the shipped files ------------------------------------------------------------------


def test_default_yaml_is_the_built_in_default() -> None:
    config = load_config(CONFIG_DIR / "default.yaml")

    assert config == Config.default()
    assert [a.name for a in config.accounts] == ["demo", "demo2"]
    assert config.account("demo2").symbols == ("USDJPY", "XAUUSD")
    assert config.account("demo").probe_symbol == "EURUSD"
    assert config.observability.status_interval == 10.0
    assert config.source == str(CONFIG_DIR / "default.yaml")


def test_live_example_reads_the_password_from_the_environment() -> None:
    config = load_config(CONFIG_DIR / "live.example.yaml", environ={"MT5_LIVE_PASSWORD": PASSWORD})

    terminal = config.accounts[0].terminal
    assert terminal.kind == "metatrader5"
    assert terminal.path == r"C:\Program Files\MetaTrader 5\terminal64.exe"
    assert terminal.password == Secret(PASSWORD)
    assert PASSWORD not in repr(config) + str(config) + render_config(config)


def test_live_example_without_the_variable_names_it_and_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(CONFIG_DIR / "live.example.yaml", environ={})

    assert caught.value.key == "accounts[0].terminal.password"
    assert "MT5_LIVE_PASSWORD is not set" in str(caught.value)


# -- passwords ---------------------------------------------------------------------------


@pytest.mark.parametrize("literal", [PASSWORD, f"x${{A}}{PASSWORD}", 123456])
def test_a_literal_password_is_rejected_without_echoing_it(literal: object) -> None:
    error = error_of(data(terminal={"password": literal}))

    assert error.key == "accounts[0].terminal.password"
    assert "${" in str(error)
    assert str(literal) not in str(error) + repr(error) + repr(error.args)


def test_an_empty_variable_is_rejected() -> None:
    error = error_of(data(terminal={"password": "${PW}"}), environ={"PW": ""})
    assert error.key == "accounts[0].terminal.password"
    assert "PW is empty" in error.problem


def test_interpolation_is_refused_outside_the_password() -> None:
    error = error_of(data(terminal={"server": "${SERVER}"}), environ={"SERVER": "x"})
    assert error.key == "accounts[0].terminal.server"
    assert "only terminal.password" in error.problem

    error = error_of(account(symbols=["EURUSD", "${SYM}"]))
    assert error.key == "accounts[0].symbols[1]"


def test_metatrader5_needs_a_password_and_simulated_does_not() -> None:
    error = error_of(data(terminal={"kind": "metatrader5"}))
    assert (error.key, error.problem) == (
        "accounts[0].terminal.password",
        "is required for kind metatrader5",
    )
    assert "${MT5_PASSWORD}" in str(error.hint)

    config = parse_config(data(terminal={"password": "${PW}"}), environ={"PW": PASSWORD})
    assert config.accounts[0].terminal.password == Secret(PASSWORD)
    assert PASSWORD not in repr(config) + render_config(config)


# -- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (30, 30.0),
        (1.5, 1.5),
        ("250ms", 0.25),
        ("60s", 60.0),
        ("1.5s", 1.5),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1m30s", 90.0),
        ("2h0m5s", 7205.0),
        (" 5s ", 5.0),
        ("1s500ms", 1.5),
    ],
)
def test_durations_parse_to_float_seconds(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_config(data(health={"interval": text, "timeout": 0.1})).health.interval == seconds


@pytest.mark.parametrize(
    "text", ["10x", "", "30", "s", "1h 30m", "30m1h", "-5s", "1e3s", True, None, [30], math.inf]
)
def test_anything_else_is_not_a_duration(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
    error = error_of(data(health={"interval": text}))
    assert error.key == "health.interval"
    assert error.hint == "use seconds (30) or a value like 30s, 10m, 1h"


def test_error_text_is_one_line_with_source_key_problem_and_hint() -> None:
    error = error_of(data(terminal={"timeout": "10x"}))
    assert str(error) == (
        "x.yaml: accounts[0].terminal.timeout: '10x' is not a duration; "
        "use seconds (30) or a value like 30s, 10m, 1h"
    )


# -- every rule names its key and says how to fix it -------------------------------------


@pytest.mark.parametrize(
    ("raw", "key", "problem", "hint"),
    [
        (data(health={"interval": 0}), "health.interval", "greater than 0", "30s"),
        (
            data(breaker={"failure_threshold": 0}),
            "breaker.failure_threshold",
            "out of range",
            "from 1 to 10000",
        ),
        (data(health={"success_threshold": 0}), "health.success_threshold", "out of range",
         "from 1 to 1000"),
        (
            data(supervision={"backoff": {"initial": "20m"}}),
            "supervision.backoff.initial",
            "more than maximum",
            "raise maximum",
        ),
        (
            data(supervision={"backoff": {"multiplier": 0.5}}),
            "supervision.backoff.multiplier",
            "out of range",
            "[1, 10]",
        ),
        (
            data(supervision={"backoff": {"jitter": 1.5}}),
            "supervision.backoff.jitter",
            "out of range",
            "[0, 1]",
        ),
        (data(health={"timeout": "30s"}), "health.timeout", "less than interval", "lower timeout"),
        (
            data(breaker={"open_duration": "20m"}),
            "breaker.open_duration",
            "more than max_open_duration",
            "raise max_open_duration",
        ),
        (data(breaker={"failure_rate": 0}), "breaker.failure_rate", "out of range", "(0, 1]"),
        (
            data(breaker={"minimum_calls": 30}),
            "breaker.minimum_calls",
            "more than window",
            "minimum_calls <= window",
        ),
        (
            data(observability={"http": {"port": 70000}}),
            "observability.http.port",
            "out of range",
            "0 to 65535",
        ),
        (data(observability={"http": {"host": ""}}), "observability.http.host", "empty", None),
        (account(name="Demo Account"), "accounts[0].name", "not valid", "a-z, 0-9"),
        (
            account(probe_symbol="EURUSX"),
            "accounts[0].probe_symbol",
            "not in symbols",
            "did you mean 'EURUSD'",
        ),
        (account(symbols=[]), "accounts[0].symbols", "non-empty list", None),
        (account(symbols=["EURUSD", "EURUSD"]), "accounts[0].symbols[1]", "listed twice", None),
        (
            {"accounts": [data()["accounts"][0]] * 2},
            "accounts[1].name",
            "already used by accounts[0]",
            "unique",
        ),
        ({"accounts": []}, "accounts", "non-empty list", None),
        ({}, "accounts", "required key is missing", "at least one"),
        (data(terminal={"kind": "mt5"}), "accounts[0].terminal.kind", "not one of", "allowed:"),
        (
            data(terminal={"path": "C:/mt5.exe"}),
            "accounts[0].terminal.path",
            "only applies to kind metatrader5",
            "kind: metatrader5",
        ),
        (
            data(terminal={"kind": "metatrader5", "password": "${PW}", "balance": 5.0}),
            "accounts[0].terminal.balance",
            "only applies to kind simulated",
            "kind: simulated",
        ),
        (
            data(terminal={"kind": "metatrader5", "password": "${PW}", "ledger_path": "a.json"}),
            "accounts[0].terminal.ledger_path",
            "only applies to kind simulated",
            "kind: simulated",
        ),
        (account(terminal={"server": "x"}), "accounts[0].terminal.login", "missing", "MT5 login"),
    ],
)
def test_rule(raw: dict[str, Any], key: str, problem: str, hint: str | None) -> None:
    error = error_of(raw, environ={"PW": PASSWORD})
    assert error.key == key
    assert problem in error.problem
    if hint is not None:
        assert hint in str(error.hint)
    assert error.source == "x.yaml"
    assert "\n" not in str(error)


def test_unknown_keys_get_a_did_you_mean_hint() -> None:
    error = error_of(data(breaker={"failure_treshold": 3}))
    assert error.key == "breaker.failure_treshold"
    assert str(error.hint).startswith(
        "did you mean 'failure_threshold'? allowed: failure_threshold,"
    )

    error = error_of(data(colour="blue"))
    assert error.key == "colour"
    assert error.hint == ("allowed: accounts, supervision, breaker, health, observability, "
                          "quotes, trade_events, rate_limits, orders, webhooks, api")


@pytest.mark.parametrize(
    ("raw", "key", "problem"),
    [
        (data(breaker={"failure_threshold": "5"}), "breaker.failure_threshold", "not an integer"),
        (data(breaker={"failure_threshold": True}), "breaker.failure_threshold", "not an integer"),
        (data(breaker=[1, 2]), "breaker", "must be a mapping, got a list"),
        (data(terminal={"login": "abc"}), "accounts[0].terminal.login", "not an integer"),
        (data(terminal={"server": 42}), "accounts[0].terminal.server", "not a string"),
        (
            data(observability={"http": {"enabled": "yes please"}}),
            "observability.http.enabled",
            "not true/false",
        ),
        (account(symbols="EURUSD"), "accounts[0].symbols", "must be a list, got a string"),
        ({"accounts": {"demo": {}}}, "accounts", "must be a list, got a mapping"),
        ({"accounts": ["demo"]}, "accounts[0]", "must be a mapping, got a string"),
    ],
)
def test_wrong_types_are_errors_not_tracebacks(raw: dict[str, Any], key: str, problem: str) -> None:
    error = error_of(raw)
    assert (error.key, problem in error.problem) == (key, True)


def test_empty_sections_take_the_defaults() -> None:
    assert parse_config(data(breaker=None, health={})).breaker == BreakerConfig()


# -- files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("- a\n- b\n", "the top level must be a mapping, got a list"),
        ("accounts:\n  - name: demo\n   bad: [\n", "YAML syntax error at line 3, column"),
        ("breaker: {}\nbreaker: {}\n", "duplicate key 'breaker'"),
        (b"accounts: \xff\n", "is not UTF-8 text"),
    ],
)
def test_unusable_files(tmp_path: pathlib.Path, content: str | bytes, problem: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert problem in caught.value.problem
    assert caught.value.source == str(path)


def test_missing_file_and_directory(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


# -- building in code --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "key"),
    [
        (lambda: HealthConfig(interval=30.0, timeout=40.0), "HealthConfig.timeout"),
        (lambda: BreakerConfig(failure_threshold=0), "BreakerConfig.failure_threshold"),
        (lambda: BackoffConfig(initial="60s"), "BackoffConfig.initial"),  # type: ignore[arg-type]
        (lambda: HttpConfig(port=-1), "HttpConfig.port"),
        (
            lambda: TerminalConfig(kind="metatrader5", login=1, server="s"),
            "TerminalConfig.password",
        ),
        (
            lambda: AccountConfig(
                name="a", terminal=TerminalConfig(login=1, server="s"), symbols=()
            ),
            "AccountConfig.symbols",
        ),
        (lambda: Config(accounts=Config.default().accounts * 2), "Config.accounts[2].name"),
    ],
)
def test_direct_construction_runs_the_same_validation(build: Any, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build()
    assert caught.value.key == key
    assert str(caught.value).startswith(f"<config>: {key}: ")


def test_a_plain_string_password_in_code_is_rejected_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        TerminalConfig(login=1, server="s", password=PASSWORD)  # type: ignore[arg-type]
    assert "Secret" in str(caught.value)
    assert PASSWORD not in str(caught.value) + repr(caught.value)


def test_code_built_config_with_defaults() -> None:
    config = Config(
        accounts=[
            AccountConfig(
                name="a", terminal=TerminalConfig(login=1, server="s"), symbols=["EURUSD"]
            )
        ],
    )
    assert config.accounts[0].symbols == ("EURUSD",)
    assert config.accounts[0].probe_symbol == "EURUSD"
    assert config.health == HealthConfig()
    assert isinstance(HealthConfig(interval=30).interval, float)


# -- rendering and the reference ---------------------------------------------------------


def test_render_round_trips_except_the_password() -> None:
    config = parse_config(
        data(
            breaker={"failure_rate": 0.5},
            health={"interval": "1h30m", "timeout": 0.25},
            terminal={"password": "${PW}"},
        ),
        environ={"PW": PASSWORD},
    )
    text = render_config(config)
    assert "password: '******'" in text
    assert "interval: 1h30m" in text
    assert PASSWORD not in text

    reloaded = yaml.safe_load(text.replace("'******'", "${PW}"))
    assert parse_config(reloaded, environ={"PW": PASSWORD}) == config
    default = Config.default()
    assert parse_config(yaml.safe_load(render_config(default))) == default


@settings(max_examples=50, deadline=None)
@given(st.floats(min_value=0, max_value=86400, allow_nan=False))
def test_rendered_durations_parse_back_exactly(seconds: float) -> None:
    config = attrs.evolve(
        Config.default(), observability=ObservabilityConfig(status_interval=seconds)
    )
    assert parse_config(yaml.safe_load(render_config(config))) == config


def test_schema_reference_covers_every_rendered_key() -> None:
    rows = schema_reference()
    paths = [path for path, _, _ in rows]
    assert len(paths) == len(set(paths))
    assert all(description for _, _, description in rows)
    assert ("health.interval", "30s", "Seconds between probes (up to 24h).") in rows

    def keys(node: object, prefix: str) -> set[str]:
        if isinstance(node, list):
            return set().union(*(keys(item, f"{prefix}[]") for item in node))
        if not isinstance(node, dict):
            return set()
        joined = {f"{prefix}.{k}" if prefix else k: v for k, v in node.items()}
        return set(joined).union(*(keys(v, k) for k, v in joined.items()))

    rendered = yaml.safe_load(render_config(Config.default()))
    assert keys(rendered, "") <= set(paths)


def test_real_terminals_each_in_its_own_folder_share_one_process() -> None:
    from mt5guard.config import parse_config

    def account(name: str, login: int) -> dict[str, Any]:
        return {"name": name, "symbols": ["EURUSD"], "terminal": {
            "kind": "metatrader5", "login": login, "server": "S", "password": "${PW}",
            "path": f"C:/mt5/{name}/terminal64.exe"}}

    data = {"accounts": [account("a", 1), account("b", 2), account("c", 3)]}
    config = parse_config(data, environ={"PW": "x"})
    assert [a.terminal.out_of_process for a in config.accounts] == [True, True, True]


def test_webhooks_parse_with_their_secret_from_the_environment() -> None:
    from mt5guard.config import WebhookConfig

    raw = {"accounts": [{"name": "d", "symbols": ["EURUSD"],
                         "terminal": {"login": 1, "server": "S"}}],
           "webhooks": [{"url": "https://alerts.example.com/mt5", "events": ["breaker", "trade"],
                         "secret": "${HOOK_KEY}", "timeout": "250ms"}]}
    config = parse_config(raw, environ={"HOOK_KEY": "k3y"})
    (hook,) = config.webhooks
    assert isinstance(hook, WebhookConfig) and hook.events == ("breaker", "trade")
    assert hook.secret is not None and hook.secret.reveal() == "k3y" and hook.timeout == 0.25
    raw["webhooks"][0]["secret"] = "k3y-in-the-file"
    with pytest.raises(ConfigError) as literal:
        parse_config(raw, environ={})
    assert literal.value.key == "webhooks[0].secret" and "literal secret" in str(literal.value)
    assert "k3y-in-the-file" not in str(literal.value)
    raw["webhooks"][0].update(secret=None, events=["trades"])
    with pytest.raises(ConfigError) as bad:
        parse_config(raw, environ={})
    assert bad.value.key == "webhooks[0].events" and "breaker, health, supervisor, trade" in str(bad.value)
