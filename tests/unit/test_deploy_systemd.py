"""deploy/mt5guard.service starts: its state directory is where the journals go,
its command lines are the CLI's, systemd-analyze verifies it and rates its
exposure at most 3 (where systemd-analyze is installed; CI containers have it)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mt5guard.cli import EXIT_OK, main

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "mt5guard.service"
TEXT = UNIT.read_text(encoding="utf-8")
ANALYZE = shutil.which("systemd-analyze")


def directive(name: str) -> list[str]:
    return re.findall(rf"^{name}=(.*)$", TEXT, flags=re.MULTILINE)


def test_the_journals_go_to_the_state_directory_systemd_creates() -> None:
    assert directive("StateDirectory") == ["mt5guard"] and directive("DynamicUser") == ["yes"]
    assert directive("ProtectSystem") == ["strict"]
    for line in directive("ExecStart") + directive("ExecStartPre"):
        assert "--state-dir %S/mt5guard" in line, line
    assert directive("RestartPreventExitStatus") == ["2"]


def test_its_command_lines_are_valid_for_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (pre,) = directive("ExecStartPre")
    args = pre.split()[1:]
    config = REPO / "config" / "default.yaml"
    args = [str(config) if a == "/etc/mt5guard/mt5guard.yaml" else a for a in args]
    args = [str(tmp_path) if a == "%S/mt5guard" else a for a in args]
    assert main(args) == EXIT_OK
    assert f"state_dir: {tmp_path}" in capsys.readouterr().out


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_verifies_it_and_rates_its_exposure_at_most_3(tmp_path: Path) -> None:
    assert ANALYZE is not None
    command = Path(sys.executable).parent / "mt5guard"  # the venv's console script stands in
    unit = tmp_path / "mt5guard.service"
    unit.write_text(TEXT.replace("/opt/mt5guard/bin/mt5guard", str(command)), encoding="utf-8")
    verify = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True, timeout=30)
    assert verify.returncode == 0, verify.stderr
    security = subprocess.run([ANALYZE, "security", "--offline=true", str(unit)],
                              capture_output=True, text=True, timeout=30)
    score = re.search(r"Overall exposure level for mt5guard\.service: ([0-9.]+)", security.stdout)
    assert score is not None, security.stdout[-2000:] + security.stderr
    assert float(score.group(1)) <= 3.0, security.stdout
