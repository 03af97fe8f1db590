"""The trading API through a real HTTP client against the real server: who may do
what, a retried POST that never trades twice, refusals as problem documents."""

from __future__ import annotations

import json

from apikit import TOKENS

PLACE = "/v1/accounts/demo/orders"
BUY = {"symbol": "EURUSD", "side": "buy", "volume": 0.1}


def problem(response) -> dict:
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code and "retryable" in body
    return body


def test_no_token_or_a_wrong_one_is_401_and_the_token_is_never_echoed(api) -> None:
    for token in (None, "not-a-configured-token-at-all"):
        response = api.call("GET", "/v1/accounts", token=token)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        body = problem(response)
        assert body["retryable"] is False and "not-a-configured" not in response.text
    assert api.call("POST", PLACE, token=None, json=BUY).status_code == 401
    assert api.guard.session("demo").positions() == ()


def test_a_token_outside_its_scope_or_accounts_is_403(api) -> None:
    refused = api.call("POST", PLACE, token="READER_TOKEN", json=BUY)
    assert refused.status_code == 403 and "lacks the 'trade' scope" in problem(refused)["detail"]
    other = api.call("GET", "/v1/accounts/demo/positions", token="DEMO2_TOKEN")
    assert other.status_code == 403 and "may not touch account 'demo'" in problem(other)["detail"]
    listed = api.call("GET", "/v1/accounts", token="DEMO2_TOKEN").json()["accounts"]
    assert [a["name"] for a in listed] == ["demo2"]
    assert api.call("GET", "/v1/accounts/demo2/positions", token="DEMO2_TOKEN").status_code == 200
    assert api.guard.session("demo").positions() == ()


def test_two_posts_with_one_idempotency_key_make_one_deal(api) -> None:
    first = api.call("POST", PLACE, json=BUY, headers={"Idempotency-Key": "strat1x42"})
    again = api.call("POST", PLACE, json=BUY, headers={"Idempotency-Key": "strat1x42"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["client_order_id"] == "strat1x42" and first.json()["retcode"] == 10009
    positions = api.call("GET", "/v1/accounts/demo/positions").json()["positions"]
    assert len(positions) == 1 and positions[0]["volume"] == 0.1
    assert api.guard.terminals["demo"].calls["order_send"] == 1

    other = api.call("POST", PLACE, json={**BUY, "volume": 0.2},
                     headers={"Idempotency-Key": "strat1x42"})  # same key, other order
    body = problem(other)
    assert other.status_code == 422 and body["field"] == "client_order_id"
    assert api.guard.terminals["demo"].calls["order_send"] == 1


def test_a_refused_order_is_a_problem_with_the_mt5_code(api) -> None:
    broke = api.call("POST", PLACE, json={**BUY, "volume": 50.0})  # far beyond the margin
    body = problem(broke)
    assert broke.status_code == 409 and body["code"] == 10019 and body["retryable"] is False
    assert body["type"] == "urn:mt5guard:problem:state" and body["instance"] == PLACE
    invalid = api.call("POST", PLACE, json={**BUY, "side": "sideways"})
    assert invalid.status_code == 422 and problem(invalid)["field"] == "side"
    unknown = api.call("POST", PLACE, json={**BUY, "leverage": 100})
    assert unknown.status_code == 422 and problem(unknown)["field"] == "leverage"
    bad_key = api.call("POST", PLACE, json=BUY, headers={"Idempotency-Key": "x" * 21})
    assert bad_key.status_code == 422 and problem(bad_key)["field"] == "Idempotency-Key"
    assert api.guard.session("demo").positions() == ()


def test_modify_close_and_history(api) -> None:
    placed = api.call("POST", PLACE, json=BUY, headers={"Idempotency-Key": "m1"}).json()
    ticket = placed["order"]
    bid = api.call("GET", "/v1/accounts/demo/prices/EURUSD").json()["bid"]
    sl = round(bid - 0.002, 5)
    modified = api.call("PATCH", f"/v1/accounts/demo/positions/{ticket}", json={"sl": sl},
                        headers={"Idempotency-Key": "m1-sl"})
    assert modified.status_code == 200, modified.text
    assert api.call("GET", "/v1/accounts/demo/positions").json()["positions"][0]["sl"] == sl
    closed = api.call("POST", f"/v1/accounts/demo/positions/{ticket}/close", json={},
                      headers={"Idempotency-Key": "m1-close"})
    assert closed.status_code == 200 and closed.json()["retcode"] == 10009
    assert api.call("GET", "/v1/accounts/demo/positions").json()["positions"] == []
    deals = api.call("GET", "/v1/accounts/demo/history/deals",
                     params={"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"})
    assert len(deals.json()["deals"]) == 2  # in and out
    missing = api.call("GET", "/v1/accounts/demo/history/deals", params={"from": "yesterday"})
    assert missing.status_code == 422 and problem(missing)["field"] == "from"


def test_account_state_breaker_and_openapi(api) -> None:
    state = api.call("GET", "/v1/accounts/demo").json()
    assert state["state"]["connected"] is True and state["breaker"]["state"] == "closed"
    assert api.call("GET", "/v1/accounts/demo/breaker").json()["state"] == "closed"
    assert api.call("GET", "/v1/accounts/nope", token="OPS_TOKEN").status_code == 404
    document = api.call("GET", "/v1/openapi.json", token=None).json()
    assert document["openapi"].startswith("3.1")
    assert "post" in document["paths"]["/v1/accounts/{account}/orders"]
    assert api.call("GET", "/healthz", token=None).json() == {"status": "alive"}
    assert "mt5guard_breaker_state" in api.call("GET", "/metrics", token=None).text


def test_a_token_over_its_rate_is_429_and_a_large_body_413(api) -> None:
    statuses = [api.call("GET", "/v1/accounts", token="READER_TOKEN").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429  # burst 30, then 5/s
    assert api.call("GET", "/v1/accounts", token="OPS_TOKEN").status_code == 200  # its own bucket
    api.clock.advance(0.2)  # one token refills at 5/s
    assert api.call("GET", "/v1/accounts", token="READER_TOKEN").status_code == 200

    large = api.call("POST", PLACE, content=json.dumps({**BUY, "comment": "x" * 2000}),
                     headers={"Content-Type": "application/json"})
    assert large.status_code == 413 and problem(large)["retryable"] is False
    assert TOKENS["OPS_TOKEN"] not in large.text
