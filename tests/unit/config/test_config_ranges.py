"""Every config value has a sane range: what --check accepts, run.py can run."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml
from test_config import account, data

from mt5guard.config import (
    BackoffConfig,
    BreakerConfig,
    ConfigError,
    HealthConfig,
    ObservabilityConfig,
    SupervisionConfig,
    TerminalConfig,
    parse_config,
    parse_duration,
    schema_reference,
)
from mt5guard.errors import MT5ValidationError
from mt5guard.session._args import build_order


def error_of(raw: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, source="x.yaml", environ={})
    return caught.value


@pytest.mark.parametrize(
    ("raw", "key", "hint"),
    [
        (data(observability={"status_interval": 10_000_000_000}),
         "observability.status_interval", "at most 24h"),
        (data(health={"interval": 9.3e9}), "health.interval", "at most 24h"),
        (account(request_timeout=1e12), "accounts[0].request_timeout", "at most 1h"),
        (data(breaker={"window": 10**20}), "breaker.window", "from 1 to 10000"),
        (data(terminal={"timeout": 0.0005}), "accounts[0].terminal.timeout", "at least 1ms"),
        (data(terminal={"timeout": "0.5ms"}), "accounts[0].terminal.timeout", "at least 1ms"),
        (data(terminal={"login": 2**64}), "accounts[0].terminal.login", "from 1 to"),
        (data(supervision={"backoff": {"multiplier": 1e300}}),
         "supervision.backoff.multiplier", "[1, 10]"),
        (data(supervision={"max_restarts": 10**9}), "supervision.max_restarts", "from 0 to"),
        (data(supervision={"period": "1000h"}), "supervision.period", "at most 168h"),
    ],
)
def test_values_that_would_crash_later_are_refused_by_check(raw, key, hint) -> None:
    error = error_of(raw)
    assert error.key == key and "out of range" in error.problem
    assert error.hint is not None and hint in error.hint


SECTIONS = (BackoffConfig, SupervisionConfig, BreakerConfig, HealthConfig, ObservabilityConfig,
            TerminalConfig)


@pytest.mark.parametrize(
    "field",
    [(cls, f) for cls in SECTIONS for f in attrs.fields(cls) if f.metadata["kind"] == "duration"],
    ids=lambda pair: f"{pair[0].__name__}.{pair[1].name}",
)
def test_every_duration_has_an_upper_bound_and_documents_it(field) -> None:
    cls, attribute = field
    required = {"login": 1, "server": "s"} if cls is TerminalConfig else {}
    with pytest.raises(ConfigError, match="out of range"):
        cls(**required, **{attribute.name: 1e10})
    doc = attribute.metadata["doc"]
    assert "up to " in doc or ".." in doc, doc


@pytest.mark.parametrize("volume", [10**400, -(10**400), 10**20, 10**5000], ids=["1e400", "-1e400", "1e20", "1e5000"])
def test_an_absurd_volume_is_a_typed_validation_error(volume) -> None:
    with pytest.raises(MT5ValidationError) as caught:
        build_order("EURUSD", "buy", volume)
    assert caught.value.field == "volume"


@pytest.mark.parametrize("field", ["deviation", "magic", "position"])
def test_integers_beyond_64_bits_are_a_typed_validation_error(field) -> None:
    with pytest.raises(MT5ValidationError) as caught:
        build_order("EURUSD", "buy", 0.1, **{field: 2**64})
    assert caught.value.field == field


def alias_bomb() -> str:
    """400 bytes: nine levels of nine aliases, 9**9 strings once expanded."""
    levels, names = ['&a ["x","x","x","x","x","x","x","x","x"]'], "abcdefghi"
    for above, name in itertools.pairwise(names):
        levels.append(f"&{name} [" + ",".join([f"*{above}"] * 9) + "]")
    return ("accounts:\n- name: demo\n  terminal: {login: 1, server: s}\n"
            "  symbols: [EURUSD]\n  probe_symbol: [" + ", ".join(levels) + "]\n")


def test_a_yaml_alias_bomb_is_refused_quickly_and_small(tmp_path: Path) -> None:
    """Run in a child process capped at 512 MB: expanding it would need gigabytes."""
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({512 << 20}, {512 << 20}))
        from mt5guard.cli import main
        sys.exit(main(["--config", {str(path)!r}, "--check"]))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "alias" in done.stderr and "Traceback" not in done.stderr


def numeric_keys() -> list[str]:
    """Every key whose default is a number or a duration, for every terminal kind."""
    keys = []
    for key, default, doc in schema_reference():
        if key.startswith("webhooks") or doc.endswith(" only)"):
            continue
        try:
            float(default)
        except ValueError:
            try:
                parse_duration(default)
            except ValueError:
                continue
        keys.append(key)
    return keys


def with_value(key: str, value: object) -> dict[str, Any]:
    raw = data()
    node: Any = raw
    parts = key.replace("accounts[]", "accounts.0").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    node[parts[-1]] = value
    return raw


@pytest.mark.parametrize("key", numeric_keys())
def test_every_numeric_value_has_an_upper_bound(key: str) -> None:
    """A new field without a range fails here: 10**30 of anything must be refused."""
    error = error_of(with_value(key, 10**30))
    assert error.key == key.replace("accounts[]", "accounts[0]"), error
    assert "out of range" in error.problem or "more than" in error.problem, error


@pytest.mark.parametrize("timeout", [1e10, 0, -1, float("nan")])
def test_a_session_built_in_code_refuses_a_request_timeout_out_of_range(timeout) -> None:
    """1e10 s used to overflow the wait: every call failed at once, orders still executed."""
    from mt5guard.events.bus import EventBus
    from mt5guard.session.facade import Session
    from mt5guard.supervision import ChildHandle
    from mt5guard.testing import VirtualClock

    with pytest.raises(ValueError, match="request_timeout"):
        Session("demo", session=ChildHandle("session"), breaker=ChildHandle("breaker"),
                health=ChildHandle("health"), clock=VirtualClock(), bus=EventBus(),
                request_timeout=timeout)


def test_thousands_of_accounts_written_out_and_modest_aliases_still_load(tmp_path: Path) -> None:
    """The alias limit counts what aliases add, not the size of the file."""
    from mt5guard.config import load_config

    accounts = [{"name": f"a{i}", "terminal": {"login": 1000 + i, "server": "S"},
                 "symbols": ["EURUSD", "GBPUSD"]} for i in range(3000)]
    big = tmp_path / "big.yaml"
    big.write_text(yaml.safe_dump({"accounts": accounts}), encoding="utf-8")
    assert len(load_config(big).accounts) == 3000

    shared = tmp_path / "shared.yaml"
    shared.write_text(
        "accounts:\n"
        "- {name: a, terminal: &t {login: 1, server: S}, symbols: &fx [EURUSD, GBPUSD]}\n"
        "- {name: b, terminal: *t, symbols: *fx}\n", encoding="utf-8")
    assert [a.terminal.login for a in load_config(shared).accounts] == [1, 1]
