"""A password given through ${ENV} never leaves run.py: logs, --check, /readyz, /metrics."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from process_kit import RunPy, check, default_config, process_env, write_config

pytestmark = pytest.mark.subprocess

PASSWORD = "Zq9-never-print-7f3c1e"  # distinctive, so any leak is found by substring
ENV = {"MT5GUARD_LEAK_PASSWORD": PASSWORD}


def config_with_password(tmp_path: Path, *, reject_auth: bool) -> Path:
    """default.yaml, every terminal with the password from the environment.

    ``reject_auth`` makes every connect fail and restart quickly, so the error
    paths (auth failures, crashes, restarts) are logged too.
    """
    data = default_config(
        supervision={"backoff": {"initial": "20ms", "maximum": "50ms"}, "max_restarts": 1000},
    )
    for account in data["accounts"]:
        account["terminal"]["password"] = "${MT5GUARD_LEAK_PASSWORD}"
        account["terminal"]["reject_auth"] = reject_auth
    return write_config(tmp_path / "secret.yaml", data)


@pytest.mark.parametrize(
    ("reject_auth", "log_format"),
    [(False, "text"), (True, "json")],
    ids=["serving-text-logs", "auth-failing-json-logs"],
)
def test_the_password_appears_in_no_output_and_no_endpoint(
    tmp_path: Path, reject_auth: bool, log_format: str
) -> None:
    config = config_with_password(tmp_path, reject_auth=reject_auth)
    bodies: list[str] = []
    with RunPy(config, "--log-level", "DEBUG", "--log-format", log_format,
               env=process_env(ENV)) as run:
        if reject_auth:
            run.wait_for("Authorization failed")
            run.wait_for("restart of session")
        else:
            run.poll_json("/readyz", lambda status, _body: status == 200)
            run.wait_for("status demo: SERVING")
        for path in ("/healthz", "/readyz", "/metrics", "/no-such-page"):
            bodies.append(run.get(path)[1])
        run.signal(signal.SIGTERM)
        assert run.exit_status() == 0
    output = run.output

    assert "mt5guard_breaker_state" in bodies[2]
    assert "stopped cleanly" in output
    for text in (output, *bodies):
        assert PASSWORD not in text
        assert PASSWORD[:8] not in text  # not even a prefix


def test_check_output_masks_the_password(tmp_path: Path) -> None:
    config = config_with_password(tmp_path, reject_auth=False)

    result = check(config, process_env(ENV))

    assert result.returncode == 0, result.stderr
    assert "password: '******'" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_a_config_error_about_a_password_does_not_echo_it(tmp_path: Path) -> None:
    data = default_config()
    data["accounts"][0]["terminal"]["password"] = PASSWORD  # a literal: refused
    config = write_config(tmp_path / "literal.yaml", data)

    result = check(config, process_env(ENV))

    assert result.returncode == 2
    assert "accounts[0].terminal.password" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
