"""Config of terminal workers and the bridge: what is refused, and what it builds."""

from __future__ import annotations

from typing import Any

import pytest

from mt5guard.clock import SystemClock
from mt5guard.config import ConfigError, parse_config
from mt5guard.terminal import SimulatedTerminal, make_terminal
from mt5guard.terminal.worker import WorkerTerminal

ENV = {"PW": "secret-pw", "KEY": "bridge-key-5f1c9a0e7b3d42c8a6e4f0b2d9c7e1a3"}


def parse(*terminals: dict[str, Any]) -> Any:
    accounts = [{"name": f"a{i}", "symbols": ["EURUSD"],
                 "terminal": {"login": 5001 + i, "server": "MetaQuotes-Demo", **t}}
                for i, t in enumerate(terminals)]
    return parse_config({"accounts": accounts}, environ=ENV)


BRIDGE = {"kind": "bridge", "password": "${PW}", "key": "${KEY}", "port": 18812,
          "insecure_plaintext_loopback": True}


def test_isolation_process_builds_a_worker_terminal_and_thread_the_simulator() -> None:
    clock = SystemClock()
    process = parse({"isolation": "process"}).accounts[0].terminal
    thread = parse({"isolation": "thread"}).accounts[0].terminal
    assert isinstance(make_terminal(process, clock), WorkerTerminal)
    assert isinstance(make_terminal(thread, clock), SimulatedTerminal)
    assert isinstance(make_terminal(parse({}).accounts[0].terminal, clock), SimulatedTerminal)
    bridge = make_terminal(parse(BRIDGE).accounts[0].terminal, clock)
    assert isinstance(bridge, WorkerTerminal) and bridge.pid is None  # nothing runs before start()
    assert "bridge-key" not in repr(bridge)


def test_metatrader5_cannot_run_on_the_sessions_thread() -> None:
    with pytest.raises(ConfigError, match=r"isolation: cannot be thread for kind metatrader5"):
        parse({"kind": "metatrader5", "password": "${PW}", "isolation": "thread"})


def test_a_bridge_needs_its_key_from_the_environment_and_never_a_literal() -> None:
    with pytest.raises(ConfigError, match=r"terminal\.key: is required for kind bridge"):
        parse({**BRIDGE, "key": None})
    with pytest.raises(ConfigError, match=r"terminal\.key") as literal:
        parse({**BRIDGE, "key": "plain-text-key"})
    assert "plain-text-key" not in str(literal.value)


def test_isolation_does_not_apply_to_a_bridge() -> None:
    with pytest.raises(ConfigError, match=r"isolation: only applies to kind simulated or metatrader5"):
        parse({**BRIDGE, "isolation": "process"})


def test_two_accounts_on_one_terminal_behind_one_bridge_are_refused_naming_both() -> None:
    same = {**BRIDGE, "path": r"C:\MT5\one\terminal64.exe"}
    with pytest.raises(ConfigError, match=r"accounts\[1\]\.terminal\.path: account 'a1' uses the "
                                          r"terminal .* behind the bridge .* as account 'a0'"):
        parse(same, same)
    parse(same, {**same, "path": r"C:\MT5\two\terminal64.exe"})  # one folder each: fine
