"""Keys worth the name: weak keys refused on both sides, key files kept private, one per account."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bridge_kit import KEY, OTHER_KEY, PASSWORD, Bridge, bridge_terminal

from mt5guard.config import ConfigError
from mt5guard.errors import MT5ConnectionError

pytestmark = pytest.mark.subprocess

WEAK = ["k", "        ", "0123456789abcdef0123456789abcde",  # 31 characters
        "a" * 64, " " + KEY]


@pytest.mark.parametrize("weak", WEAK)
def test_a_weak_bridge_key_is_refused_by_the_config_naming_the_field(weak: str) -> None:
    with pytest.raises(ConfigError, match=r"terminal\.key: ") as refused:
        bridge_terminal(18812, key=weak)
    if len(weak.strip()) > 4:
        assert weak.strip() not in str(refused.value)  # the key is never echoed
    assert "secrets.token_hex(32)" in str(refused.value)


def test_run_check_exits_2_naming_the_key_field(tmp_path: Path) -> None:
    config = tmp_path / "live.yaml"
    config.write_text(
        "accounts:\n  - name: live\n    symbols: [EURUSD]\n    terminal:\n"
        "      kind: bridge\n      key: ${BRIDGE_KEY}\n      password: ${PW}\n"
        "      login: 5001\n      server: MetaQuotes-Demo\n      insecure_plaintext_loopback: true\n")
    run = Path(__file__).resolve().parents[2] / "run.py"
    env = {**os.environ, "BRIDGE_KEY": "short", "PW": "pw"}
    checked = subprocess.run([sys.executable, str(run), "--config", str(config), "--check"],
                             env=env, capture_output=True, text=True, timeout=30)
    assert checked.returncode == 2
    assert "terminal.key" in checked.stderr and "at least 32" in checked.stderr
    env["BRIDGE_KEY"] = KEY
    assert subprocess.run([sys.executable, str(run), "--config", str(config), "--check"],
                          env=env, capture_output=True, text=True, timeout=30).returncode == 0


def _server(*args: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mt5guard.terminal.bridge.server", "--listen",
                           "127.0.0.1:0", "--insecure-plaintext-loopback", *args],
                          env={**os.environ, "MT5GUARD_BRIDGE_KEY": key}, capture_output=True,
                          text=True, timeout=30)


def test_the_bridge_refuses_a_weak_key_and_a_key_file_others_can_read(tmp_path: Path) -> None:
    weak = _server(key="hunter2")
    assert weak.returncode == 2 and "MT5GUARD_BRIDGE_KEY" in weak.stderr
    assert "at least 32" in weak.stderr and "hunter2" not in weak.stderr
    keys = tmp_path / "keys.txt"
    keys.write_text(f"{KEY}\n")
    keys.chmod(0o644)
    shared = _server("--key-file", str(keys))
    assert shared.returncode == 2 and f"chmod 600 {keys}" in shared.stderr
    keys.write_text(f"{KEY}\ntoo-short\n")
    keys.chmod(0o600)
    short = _server("--key-file", str(keys))
    assert short.returncode == 2 and "line 2" in short.stderr


def test_a_key_file_holds_one_key_per_account_and_each_opens_only_itself(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# account alpha\n{KEY}\n# account beta (or the next key, while rotating)\n"
                    f"{OTHER_KEY}\n")
    keys.chmod(0o600)
    bridge = Bridge("--key-file", str(keys), key="")
    try:
        for key in (KEY, OTHER_KEY):
            terminal = bridge_terminal(bridge.port, key=key)
            try:
                terminal.start()
                assert terminal.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
            finally:
                terminal.close()
        stranger = bridge_terminal(bridge.port, key=KEY[::-1])
        with pytest.raises(MT5ConnectionError, match=r"refused terminal\.key"):
            stranger.start()
    finally:
        assert "Traceback" not in bridge.stop()
