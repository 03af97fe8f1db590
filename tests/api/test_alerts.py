"""The inbound alert route against the real server: a TradingView-style alert signed with
the shared secret becomes exactly one order; a forged, stale or malformed one trades nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from apikit import TOKENS, api_config

from mt5guard.api import create_app
from mt5guard.cli import EXIT_BAD_CONFIG, main
from mt5guard.config import ConfigError, default_config_path, parse_config

ALERTS = "/v1/alerts/demo"
SECRET = TOKENS["ALERT_SECRET"]
ALERT = {"symbol": "EURUSD", "action": "buy", "volume": "0.1", "id": "tv-7781",
         "comment": "tv ema cross"}


def post(api: Any, body: bytes | dict[str, Any], *, secret: str = SECRET, age: float = 0.0,
         signature: str | None = None, path: str = ALERTS) -> httpx.Response:
    """POST an alert signed as the docs say: HMAC-SHA256 of '<timestamp>.<raw body>'."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(int(api.clock.now().timestamp() - age))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Mt5guard-Timestamp": stamp,
               "X-Mt5guard-Signature": signature if signature is not None else f"sha256={digest}"}
    return api.http.post(path, content=raw, headers=headers)


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code and body["instance"].startswith("/v1/alerts/")
    assert SECRET not in response.text
    return body


def sent(api: Any) -> int:
    return int(api.guard.terminals["demo"].calls["order_send"])


def test_a_signed_alert_places_one_deal_even_when_delivered_twice(api: Any) -> None:
    first = post(api, ALERT)
    api.clock.advance(5.0)  # the sender's redelivery, a few seconds later, freshly stamped
    again = post(api, ALERT)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json()
    assert first.json()["client_order_id"] == "tv-7781" and first.json()["retcode"] == 10009
    [position] = api.guard.session("demo").positions()
    assert position.volume == 0.1 and position.comment.endswith("tv ema cross")
    assert sent(api) == 1

    sell = post(api, {"symbol": "EURUSD", "side": "SELL", "volume": 0.1, "alert_id": "tv-7782"})
    assert sell.status_code == 201 and sell.json()["client_order_id"] == "tv-7782"
    assert sent(api) == 2


def test_a_forged_or_unsigned_alert_is_401_and_trades_nothing(api: Any) -> None:
    wrong_key = post(api, ALERT, secret="someone-else-" + "x" * 30)
    assert wrong_key.status_code == 401 and problem(wrong_key)["retryable"] is False
    unsigned = post(api, ALERT, signature="")
    assert unsigned.status_code == 401 and "X-Mt5guard-Signature" in problem(unsigned)["detail"]
    good = post(api, ALERT)  # then a body changed under a valid signature
    assert good.status_code == 201
    raw = json.dumps({**ALERT, "id": "tv-9000"}).encode()
    signed = post(api, raw, path="/v1/alerts/nope").request.headers  # a valid signature of raw
    tampered = api.http.post(ALERTS, content=raw.replace(b'"0.1"', b'"5.0"'), headers={
        name: signed[name] for name in ("X-Mt5guard-Timestamp", "X-Mt5guard-Signature")})
    assert tampered.status_code == 401 and problem(tampered)["kind"] == "unauthorized"
    assert sent(api) == 1


def test_a_stale_alert_is_401_even_when_correctly_signed(api: Any) -> None:
    old = post(api, ALERT, age=31.0)  # api.alert_max_age is 30s in these tests
    body = problem(old)
    assert old.status_code == 401 and body["kind"] == "stale_alert"
    assert "api.alert_max_age" in body["detail"]
    future = post(api, ALERT, age=-31.0)
    assert future.status_code == 401 and problem(future)["kind"] == "stale_alert"
    assert post(api, ALERT, age=29.0).status_code == 201  # inside the window
    assert sent(api) == 1


def test_a_malformed_alert_is_refused_naming_the_field_and_trades_nothing(api: Any) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({k: v for k, v in ALERT.items() if k != "volume"}, "volume"),
        ({**ALERT, "volume": "lots"}, "volume"),
        ({**ALERT, "action": "hold"}, "action"),
        ({k: v for k, v in ALERT.items() if k != "id"}, "id"),
        ({**ALERT, "id": "x" * 21}, "id"),
        ({**ALERT, "alert_id": "tv-1"}, "alert_id"),  # two ids
        ({**ALERT, "price": "1.0842"}, "price"),       # not a field of the alert
        ({k: v for k, v in ALERT.items() if k != "symbol"}, "symbol"),
        ({**ALERT, "volume": -1}, "volume"),            # refused by the order's own checks
    ]
    for body, field in cases:
        refused = post(api, body)
        assert refused.status_code == 422, (body, refused.text)
        assert problem(refused)["field"] == field, (body, refused.text)
    not_json = post(api, b"buy EURUSD 0.1")
    assert not_json.status_code == 400 and problem(not_json)["kind"] == "bad_json"
    assert api.guard.session("demo").positions() == () and sent(api) == 0


def test_trade_refusals_are_the_usual_problem_documents_and_the_route_is_in_openapi(api: Any) -> None:
    document = api.http.get("/v1/openapi.json").json()
    assert "X-Mt5guard-Signature" in json.dumps(document["paths"]["/v1/alerts/{account}"]["post"])
    nowhere = post(api, ALERT, path="/v1/alerts/nope")
    assert nowhere.status_code == 404 and problem(nowhere)["kind"] == "no_account"
    broke = post(api, {**ALERT, "volume": 50.0})  # far beyond the margin
    body = problem(broke)
    assert broke.status_code == 409 and body["code"] == 10019 and body["retryable"] is False
    assert api.guard.session("demo").positions() == ()


def test_the_alert_secret_must_be_long_and_never_shows(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    short = "tv-shared-secret-short"
    default = default_config_path().read_text()

    def with_api(api_section: dict[str, Any]) -> dict[str, Any]:
        return {**yaml.safe_load(default), "api": api_section}

    with pytest.raises(ConfigError) as refused:
        parse_config(with_api({"alert_secret": "${TV_SECRET}"}), environ={"TV_SECRET": short})
    assert refused.value.key == "api.alert_secret" and "32 characters" in str(refused.value)
    assert short not in str(refused.value)
    with pytest.raises(ConfigError) as literal:
        parse_config(with_api({"alert_secret": SECRET}), environ={})
    assert "literal" in str(literal.value) and SECRET not in str(literal.value)

    monkeypatch.setenv("TV_SECRET", short)
    path = tmp_path / "alerts.yaml"
    path.write_text(default + "\napi:\n  alert_secret: ${TV_SECRET}\n")
    assert main(["check", "--config", str(path)]) == EXIT_BAD_CONFIG
    captured = capsys.readouterr()
    assert "api.alert_secret" in captured.err and short not in captured.err + captured.out

    monkeypatch.setenv("TV_SECRET", SECRET)
    config = parse_config(with_api({"alert_secret": "${TV_SECRET}"}), environ={"TV_SECRET": SECRET})
    assert config.api.enabled and SECRET not in repr(config)


def test_the_documented_openssl_recipe_signs_what_the_server_checks(api: Any) -> None:
    """The `sig=` line of docs/operations.md, run by bash and openssl as an operator would."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to check the documented recipe")
    docs = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    section = docs.split("### Inbound alerts", 1)[1]
    recipe = section.split("```sh\n", 1)[1].split("```", 1)[0]
    [sig_line] = [line for line in recipe.splitlines() if line.startswith("sig=")]
    body = json.dumps({**ALERT, "id": "doc-1"})
    stamp = str(int(api.clock.now().timestamp()))
    done = subprocess.run(["bash", "-c", f'{sig_line}\nprintf %s "$sig"'], capture_output=True,
                          text=True, timeout=10, check=True,
                          env={"PATH": os.environ["PATH"], "body": body, "ts": stamp,
                               "MT5GUARD_ALERT_SECRET": SECRET})
    placed = api.http.post(ALERTS, content=body, headers={
        "X-Mt5guard-Timestamp": stamp, "X-Mt5guard-Signature": f"sha256={done.stdout}"})
    assert placed.status_code == 201, placed.text
    assert placed.json()["client_order_id"] == "doc-1" and sent(api) == 1


def test_without_alert_secret_there_is_no_alert_route() -> None:
    config = api_config(alert_secret=None)
    app = create_app(config.api, lambda: None, monotonic=lambda: 0.0)
    paths = [getattr(route, "path", "") for route in app.routes]
    assert "/v1/accounts/{account}/orders" in paths and "/v1/alerts/{account}" not in paths
