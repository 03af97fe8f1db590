"""Section: the trading API over HTTP (issue 20).

Run alone: ``python bench/_api.py`` prints one JSON object on stdout
(progress on stderr).

- A guarded price over HTTP (``GET /v1/accounts/<a>/prices/EURUSD`` through
  uvicorn, one keep-alive httpx client) against the same call in-process
  (``Session.get_price``: one actor hop), in alternating rounds; the figure
  is the median over rounds of each round's p50 ratio.
- Orders per second with one token: ``POST /v1/accounts/<a>/orders``, each
  with its own Idempotency-Key, from one client and from 4 clients at once,
  against ``Session.place_order`` in-process, for the same account with its
  order journal in a file (synchronous: NORMAL, as the default config). The
  positions are closed (untimed) before each variant's round: the
  simulator's cost per order grows with the open positions.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from itertools import count
from typing import Any

import attrs
import httpx
from _stats import median, progress, rounds, time_calls, time_threads
from _trees import SYMBOL, accounts_config

from mt5guard import start
from mt5guard.api import ApiServer, create_app
from mt5guard.config import ApiConfig, ApiTokenConfig, OrdersConfig, TerminalConfig
from mt5guard.secret import Secret

ROUNDS = 7
PRICE_CALLS = 1000
ORDER_CALLS = 200
TOKEN = "bench-token-" + "x" * 20


def main() -> dict[str, Any]:
    base = accounts_config(1, interval=3600.0)
    account = base.accounts[0]
    rich = attrs.evolve(account, terminal=attrs.evolve(account.terminal, balance=1e12))
    assert isinstance(rich.terminal, TerminalConfig)
    api = ApiConfig(tokens=(ApiTokenConfig(name="bench", token=Secret(TOKEN),
                                           scopes=("read", "trade")),),
                    requests_per_second=100_000.0, burst=1_000_000)
    state = tempfile.mkdtemp(prefix="mt5guard-bench-api-")
    config = attrs.evolve(base, accounts=(rich,), orders=OrdersConfig(state_dir=state))
    guard = start(config)
    server = ApiServer(create_app(api, lambda: guard, monotonic=guard.clock.monotonic), port=0)
    server.start(announce=False)
    name = rich.name
    session = guard.session(name)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    client = httpx.Client(base_url=server.url, headers=headers, timeout=30.0)
    try:
        session.get_price(SYMBOL)
        assert client.get(f"/v1/accounts/{name}/prices/{SYMBOL}").status_code == 200

        def over_http() -> None:
            response = client.get(f"/v1/accounts/{name}/prices/{SYMBOL}")
            if response.status_code != 200:
                raise RuntimeError(response.text)

        price = rounds({"in-process Session.get_price": lambda: time_calls(
                            lambda: session.get_price(SYMBOL), PRICE_CALLS),
                        "HTTP GET /v1/.../prices": lambda: time_calls(over_http, PRICE_CALLS)},
                       ROUNDS, "price")
        ratio = median([h.p50_us / i.p50_us for h, i in
                        zip(price["HTTP GET /v1/.../prices"], price["in-process Session.get_price"],
                            strict=True)])

        ids = count()
        local = threading.local()

        def order_over_http() -> None:
            http = getattr(local, "client", None)
            if http is None:
                http = local.client = httpx.Client(base_url=server.url, headers=headers, timeout=30.0)
            response = http.post(f"/v1/accounts/{name}/orders",
                                 json={"symbol": SYMBOL, "side": "buy", "volume": 0.01},
                                 headers={"Idempotency-Key": f"b{next(ids)}"})
            if response.status_code != 201:
                raise RuntimeError(response.text)

        def order_in_process() -> None:
            session.place_order(SYMBOL, "buy", 0.01, client_order_id=f"b{next(ids)}")

        def flat() -> None:
            """Close what the last variant opened (untimed): the simulator's cost grows with
            the open positions, which would tilt the figures toward whichever runs first."""
            for position in session.positions():
                session.close_position(position.ticket, client_order_id=f"c{next(ids)}")

        def flat_then(measure: Any) -> Any:
            def run() -> Any:
                flat()
                return measure()
            return run

        orders = rounds({"in-process Session.place_order": flat_then(
                             lambda: time_calls(order_in_process, ORDER_CALLS)),
                         "HTTP POST, 1 client": flat_then(lambda: time_calls(order_over_http, ORDER_CALLS)),
                         "HTTP POST, 4 clients": flat_then(
                             lambda: time_threads(order_over_http, ORDER_CALLS // 4, 4))},
                        ROUNDS, "orders")
    finally:
        client.close()
        server.stop()
        guard.stop()
    return {
        "price_p50_us": {k: median([s.p50_us for s in v]) for k, v in price.items()},
        "http_over_in_process_p50": ratio,
        "orders_per_s": {k: median([s.ops_per_s for s in v]) for k, v in orders.items()},
        "order_p50_us": {k: median([s.p50_us for s in v]) for k, v in orders.items()},
    }


if __name__ == "__main__":
    started = time.perf_counter()
    result = main()
    progress(f"api: done in {time.perf_counter() - started:.0f} s")
    print(json.dumps(result))
    sys.exit(0)
