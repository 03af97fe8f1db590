"""kind: rpyc is built from its config and explains a missing rpyc package.

Its behaviour against a real rpyc server is in tests/integration/test_rpyc_terminal.py.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from mt5guard.clock import SystemClock
from mt5guard.config import TerminalConfig
from mt5guard.secret import Secret
from mt5guard.terminal import RpycTerminal, Terminal, TerminalUnavailableError, make_terminal


def rpyc_terminal_config(**settings: Any) -> TerminalConfig:
    return TerminalConfig(kind="rpyc", login=7, password=Secret("pw"), server="Broker",
                          **settings)


def test_kind_rpyc_builds_an_rpyc_terminal_for_the_configured_server() -> None:
    config = rpyc_terminal_config(host="10.0.0.5", port=8001, path="C:/mt5/a/terminal64.exe")
    terminal = make_terminal(config, SystemClock())
    assert isinstance(terminal, RpycTerminal) and isinstance(terminal, Terminal)
    assert repr(terminal) == "RpycTerminal(10.0.0.5:8001, path='C:/mt5/a/terminal64.exe')"
    assert not terminal.connected  # nothing is opened before initialize()


def test_without_rpyc_installed_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rpyc", None)  # makes the import fail
    with pytest.raises(TerminalUnavailableError, match=r"pip install 'mt5guard\[rpyc\]'"):
        make_terminal(rpyc_terminal_config(), SystemClock())
