"""The wheel alone: built from this tree, installed into a fresh venv outside the
repository, its ``mt5guard`` command checks, runs and demonstrates with no clone.

The venv gets the wheel and nothing else; its dependencies come from the test's
own environment through a ``.pth`` line (no network, no index), so what is
tested is the wheel's content: the packaged config, the console script,
``python -m mt5guard``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin/ folder of a fresh venv holding only the built wheel."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "--wheel-dir", str(dist), str(REPO)],
                   check=True, cwd=root, timeout=50)
    wheel = next(dist.glob("mt5guard-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=30)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, cwd=root, timeout=50)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "deps-from-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    yield venv / "bin"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_the_wheel_imports_from_its_own_install_not_the_clone(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run([str(installed / "python"), "-c", "import mt5guard; print(mt5guard.__file__)"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=30, check=True)
    assert str(installed.parent) in done.stdout and str(REPO) not in done.stdout


def test_check_without_a_config_prints_the_packaged_default(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run([str(installed / "mt5guard"), "check"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert ": OK" in done.stdout and "name: demo2" in done.stdout
    same = subprocess.run([str(installed / "python"), "-m", "mt5guard", "check"], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, timeout=30)
    assert same.returncode == 0 and same.stdout == done.stdout


def test_demo_runs_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run([str(installed / "mt5guard"), "demo", "--speed", "high"], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, timeout=55)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "demo over: account demo recovered by itself" in log and "Traceback" not in log


def test_run_with_a_token_serves_health_metrics_and_the_trading_api(installed: Path,
                                                                   tmp_path: Path) -> None:
    """The two-minute quick start: the packaged default, MT5GUARD_API_TOKEN, one port
    (--port 0 here: 9108 may be taken on a shared machine)."""
    token = "quick-start-token-0123456789"
    proc = subprocess.Popen([str(installed / "mt5guard"), "run", "--port", "0"], cwd=tmp_path,
                            env={**_env(), "MT5GUARD_API_TOKEN": token},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        url = None
        for line in proc.stdout:
            found = re.search(r"health endpoint listening on (http://127\.0\.0\.1:\d+)", line)
            if found:
                url = found.group(1)
                break
        assert url is not None
        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            assert b"mt5guard_breaker_transitions_total" in response.read()
        order = urllib.request.Request(
            url + "/v1/accounts/demo/orders", method="POST",
            data=json.dumps({"symbol": "EURUSD", "side": "buy", "volume": 0.1}).encode(),
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "quick1",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(order, timeout=10) as response:
            placed = json.loads(response.read())
        assert response.status == 201 and placed["retcode"] == 10009
        unauthenticated = urllib.request.Request(url + "/v1/accounts")
        try:
            urllib.request.urlopen(unauthenticated, timeout=10)
            raise AssertionError("served without a token")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
            assert refused.headers["Content-Type"] == "application/problem+json"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    assert (tmp_path / "state").is_dir()  # the packaged default keeps journals under ./state
