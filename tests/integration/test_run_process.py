"""run.py as an operator runs it: a real process, real signals, a real loopback port."""

from __future__ import annotations

import signal
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from process_kit import RunPy, check, default_config, process_env, write_config

pytestmark = pytest.mark.subprocess

ACCOUNTS = ("demo", "demo2")


def all_serving(status: int, body: Any) -> bool:
    accounts = body.get("accounts", {})
    return status == 200 and all(accounts.get(a, {}).get("status") == "SERVING" for a in ACCOUNTS)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_serves_health_and_metrics_then_stops_cleanly_on_a_signal(
    tmp_path: Path, signum: signal.Signals
) -> None:
    config = write_config(tmp_path / "run.yaml", default_config())
    with RunPy(config) as run:
        url = run.url()
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        assert run.get("/healthz")[0] == 200

        ready = run.poll_json("/readyz", all_serving)
        assert ready["ready"] is True
        assert set(ready["accounts"]) == set(ACCOUNTS)

        status, metrics = run.get("/metrics")
        assert status == 200
        assert "# TYPE mt5guard_breaker_state gauge" in metrics
        assert 'mt5guard_health_status{account="demo",component="overall"} 1.0' in metrics
        run.wait_for(r"account demo: connected \(login 5001 on MetaQuotes-Demo\)")
        run.wait_for(r"status demo: SERVING breaker=closed connected=yes")

        run.signal(signum)
        assert run.exit_status(timeout=5) == 0
        run.wait_for(f"received {signum.name}: stopping")
        run.wait_for("stopped cleanly")
    assert "Traceback" not in run.output


def test_exits_with_status_3_when_the_root_supervisor_gives_up(tmp_path: Path) -> None:
    data = default_config(
        supervision={"backoff": {"initial": "50ms", "maximum": "100ms"},
                     "max_restarts": 2, "period": "1h"},
    )
    for account in data["accounts"]:
        account["terminal"]["reject_auth"] = True
    config = write_config(tmp_path / "reject.yaml", data)
    with RunPy(config) as run:
        assert run.exit_status(timeout=8) == 3
        run.wait_for(r"supervisor root: gave up")
        run.wait_for(r"root supervisor gave up .*: exiting with status 3")
    assert "Traceback" not in run.output
    assert "stopped cleanly" not in run.output


def test_one_account_giving_up_leaves_the_process_and_the_others_running(tmp_path: Path) -> None:
    data = default_config(
        supervision={"backoff": {"initial": "50ms", "maximum": "100ms"},
                     "max_restarts": 2, "period": "1h"},
    )
    data["accounts"][0]["terminal"]["reject_auth"] = True  # "demo" can never log in; demo2 can
    with RunPy(write_config(tmp_path / "one-bad.yaml", data)) as run:
        run.wait_for(r"supervisor account:demo: gave up", timeout=8)
        rows = run.poll_json("/readyz", lambda _status, body: body["accounts"]["demo2"]["status"]
                             == "SERVING" and str(body["accounts"]["demo"]["last_error"])
                             .startswith("gave up"), timeout=8)
        assert rows["accounts"]["demo"]["status"] == "NOT_SERVING"
        assert run.proc.poll() is None  # still running: no exit 3 for one account
        run.signal(signal.SIGTERM)
        assert run.exit_status(timeout=8) == 0
    assert "supervisor root: gave up" not in run.output


ACCOUNT = "accounts:\n  - name: demo\n    terminal: {login: 5001, server: MetaQuotes-Demo%s}\n" \
          "    symbols: [EURUSD]\n"

BROKEN: dict[str, tuple[str | None, tuple[str, ...]]] = {
    # id: (file text, None = no file at all; what the one line must name)
    "missing-file": (None, ("file not found",)),
    "empty-file": ("", ("the file is empty",)),
    "yaml-syntax": (ACCOUNT % "" + "health: {interval: 30s\n", ("YAML syntax error at line",)),
    "unknown-key-typo": (
        ACCOUNT % "" + "health:\n  intervall: 30s\n",
        ("health.intervall", "did you mean 'interval'"),
    ),
    "bad-duration": (
        ACCOUNT % "" + "supervision:\n  backoff:\n    initial: 60x\n",
        ("supervision.backoff.initial", "'60x' is not a duration"),
    ),
    "literal-password": (
        ACCOUNT % ", password: hunter2-literal",
        ("accounts[0].terminal.password", "a literal password is not allowed"),
    ),
    "missing-env-var": (
        ACCOUNT % ", password: '${MT5GUARD_TEST_UNSET_PASSWORD}'",
        ("accounts[0].terminal.password", "MT5GUARD_TEST_UNSET_PASSWORD is not set"),
    ),
    "health-timeout-not-below-interval": (
        ACCOUNT % "" + "health:\n  interval: 10s\n  timeout: 10s\n",
        ("health.timeout", "must be less than interval"),
    ),
    "metatrader5-in-a-thread": (  # the real module never releases the GIL
        ACCOUNT % ", kind: metatrader5, password: '${HOME}', isolation: thread",
        ("accounts[0].terminal.isolation", "never releases the GIL"),
    ),
    "symbol-too-long-for-the-module": (
        ACCOUNT.replace("[EURUSD]", "[EURUSD.a-very-long-suffix-xyz0]") % "",
        ("accounts[0].symbols", "longer than 29 characters"),
    ),
    "unknown-filling": (
        ACCOUNT % "" + "    filling: fifo\n",
        ("accounts[0].filling", "'fifo' is not one of auto, fok, ioc, return"),
    ),
    "backoff-initial-above-maximum": (
        ACCOUNT % "" + "supervision:\n  backoff:\n    initial: 20m\n    maximum: 10m\n",
        ("supervision.backoff.initial", "more than maximum"),
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_check_on_a_broken_config_prints_one_line_and_exits_2(tmp_path: Path, case: str) -> None:
    text, expected = BROKEN[case]
    path = tmp_path / f"{case}.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")

    result = check(path, process_env(drop=("MT5GUARD_TEST_UNSET_PASSWORD",)))

    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"mt5guard: bad config: {path}")
    for part in expected:
        assert part in lines[0]
    assert "hunter2-literal" not in result.stderr


def test_check_prints_the_resolved_config_with_the_password_masked(tmp_path: Path) -> None:
    data = default_config()
    data["accounts"][0]["terminal"]["password"] = "${MT5GUARD_TEST_PASSWORD}"
    config = write_config(tmp_path / "good.yaml", data)
    password = "c0rrect-h0rse-battery-staple"

    result = check(config, process_env({"MT5GUARD_TEST_PASSWORD": password}))

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"# {config}: OK\n")
    resolved = yaml.safe_load(result.stdout)
    assert resolved["accounts"][0]["terminal"]["password"] == "******"
    assert resolved["accounts"][1]["terminal"]["password"] is None
    assert resolved["observability"]["http"]["port"] == 0
    assert resolved["observability"]["status_interval"] == "0.2s"
    assert password not in result.stdout


def test_a_port_in_use_is_a_clear_error_and_status_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = default_config()
        data["observability"]["http"]["port"] = port
        config = write_config(tmp_path / "taken.yaml", data)
        with RunPy(config) as run:
            assert run.exit_status(timeout=5) == 2
            run.wait_for(rf"cannot bind the health endpoint to 127\.0\.0\.1:{port}")
    assert "observability.http.port" in run.output
    assert "Traceback" not in run.output
