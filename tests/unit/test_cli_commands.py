"""The ``mt5guard`` command: subcommands, the packaged default, faults no retry can fix."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from setuptools import build_meta

from mt5guard.cli import EXIT_BAD_CONFIG, EXIT_OK, main
from mt5guard.cli.preflight import preflight
from mt5guard.config import default_config_path, load_config, parse_config

REPO = Path(__file__).resolve().parents[2]
BRIDGE_ENV = {"PW": "secret-pw", "KEY": "5f0c9d2a8b7e41f3a6c0d9e8b2f4a1c7e3d5b9f0a2c4e6d8b1a3c5e7f9d0b2a4"}


def account(kind: str, **terminal: object) -> dict[str, object]:
    extra = {"password": "${PW}"} if kind != "simulated" else {}
    return {"name": "live", "symbols": ["EURUSD"],
            "terminal": {"kind": kind, "login": 7, "server": "Broker-Live", **extra, **terminal}}


def test_the_packaged_default_is_the_repository_default() -> None:
    packaged = default_config_path()
    assert "site-packages" in str(packaged) or packaged.parent.name == "config"
    assert packaged.read_text() == (REPO / "config" / "default.yaml").read_text()
    assert [a.name for a in load_config(packaged).accounts] == ["demo", "demo2"]


def test_check_without_config_uses_the_packaged_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(f"# {default_config_path()}: OK") and "name: demo2" in out


def test_the_old_flags_still_work_without_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--config", str(REPO / "config" / "default.yaml")]) == EXIT_OK
    assert ": OK" in capsys.readouterr().out


def test_metatrader5_on_linux_is_refused_with_the_bridge_as_the_fix() -> None:
    config = parse_config({"accounts": [account("metatrader5")]}, environ=BRIDGE_ENV)
    [problem] = preflight(config, platform="linux")
    assert problem.startswith("accounts[0].terminal.kind: metatrader5 cannot run on linux")
    assert "kind: bridge" in problem and "mt5guard bridge" in problem
    assert "secret-pw" not in problem


def test_check_exits_2_for_metatrader5_here(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PW", "secret-pw")
    path = tmp_path / "live.yaml"
    path.write_text("accounts:\n  - name: live\n    symbols: [EURUSD]\n    terminal:\n"
                    "      kind: metatrader5\n      login: 7\n      server: Broker-Live\n"
                    "      password: ${PW}\n")
    assert main(["check", "--config", str(path)]) == EXIT_BAD_CONFIG
    err = capsys.readouterr().err
    assert "cannot run on" in err or "MetaTrader5 package, which is not installed" in err
    assert "secret-pw" not in err


def test_a_bridge_or_simulated_account_passes_preflight() -> None:
    config = parse_config({"accounts": [account("bridge", key="${KEY}", host="127.0.0.1",
                                                 insecure_plaintext_loopback=True)]},
                          environ=BRIDGE_ENV)
    assert preflight(config, platform="linux") == []


def test_the_chaos_subcommand_replays_a_seed() -> None:
    """In a child process: a chaos run turns logging off for its whole process."""
    done = subprocess.run([sys.executable, "-m", "mt5guard", "chaos", "--replay", "3", "--days",
                           "0.05", "--accounts", "1"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("seed 3:") and "identical" in done.stdout


def test_the_bridge_subcommand_is_the_terminal_servers_command_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["bridge"])
    assert exit_.value.code == 2
    assert "--listen" in capsys.readouterr().err


def test_the_sdist_carries_tests_docs_license_and_the_packaged_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the build backend builds the project in the working directory
    name = build_meta.build_sdist(str(tmp_path))
    with tarfile.open(tmp_path / name) as sdist:
        members = {m.split("/", 1)[1] for m in sdist.getnames() if "/" in m}
    for path in ("LICENSE", "tests/unit/test_cli_commands.py", "docs/operations.md",
                 "mt5guard/config/default.yaml", "config/default.yaml", "deploy/mt5guard.service"):
        assert path in members, path


def test_the_packaged_default_serves_the_api_when_the_token_is_exported() -> None:
    from mt5guard.cli.preflight import with_env_token

    config = load_config(default_config_path())
    assert not config.api.enabled and with_env_token(config, {}) is config
    served = with_env_token(config, {"MT5GUARD_API_TOKEN": "t" * 32})
    [token] = served.api.tokens
    assert (token.name, token.scopes, token.accounts) == ("operator", ("read", "trade"), ("*",))
    assert "t" * 32 not in repr(served)


def test_a_short_api_token_is_a_config_error_that_never_shows_it(capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT5GUARD_API_TOKEN", "hunter2")
    assert main(["check"]) == EXIT_BAD_CONFIG
    err = capsys.readouterr().err
    assert "MT5GUARD_API_TOKEN is shorter than 16 characters" in err and "hunter2" not in err


def test_port_overrides_the_configs_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--port", "0"]) == EXIT_OK
    assert "port: 0" in capsys.readouterr().out
    assert main(["check", "--port", "70000"]) == EXIT_BAD_CONFIG
