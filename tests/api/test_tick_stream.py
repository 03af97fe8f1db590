"""The tick stream: server-sent events delivering an account's changing quotes to a
real HTTP client, ending the subscription when the client goes away."""

from __future__ import annotations

import json
import threading

from apikit import TOKENS


def test_the_stream_delivers_ticks_and_unsubscribes_when_the_client_leaves(api) -> None:
    events: list[dict] = []
    first = threading.Event()
    opened = threading.Event()
    done = threading.Event()

    def read() -> None:
        with api.http.stream("GET", "/v1/accounts/demo/ticks", params={"symbols": "EURUSD,GBPUSD"},
                             headers={"Authorization": f"Bearer {TOKENS['READER_TOKEN']}"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            opened.set()
            kind = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line[len("event: "):]
                elif line.startswith("data: ") and kind == "tick":
                    events.append(json.loads(line[len("data: "):]))
                    if len(events) >= 4:
                        first.set()
                        break
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert opened.wait(10)
    for _ in range(200):  # the quote poll runs on simulated time
        if first.wait(0.01):
            break
        api.clock.advance(0.25)
    assert first.is_set(), "no tick arrived"
    assert done.wait(5)
    assert {e["symbol"] for e in events} <= {"EURUSD", "GBPUSD"} and events[0]["account"] == "demo"
    assert all(e["ask"] >= e["bid"] > 0 for e in events)
    hub = api.guard.session("demo")._core.quotes
    for _ in range(200):  # the server notices the closed connection and ends the subscription
        if not hub.wanted():
            break
        api.clock.advance(0.25)
    assert not hub.wanted()


def test_a_stream_without_symbols_or_scope_is_refused(api) -> None:
    none = api.call("GET", "/v1/accounts/demo/ticks", token="READER_TOKEN")
    assert none.status_code == 422 and none.json()["field"] == "symbols"
    other = api.call("GET", "/v1/accounts/demo/ticks", token="DEMO2_TOKEN", params={"symbols": "EURUSD"})
    assert other.status_code == 403
