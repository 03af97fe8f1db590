"""Section 7: what the durable order journal adds to ``place_order``.

Run alone: ``python bench/_journal.py`` prints one JSON object on stdout
(progress on stderr). Three trees in this process, one simulated account
each, identical but for the journal: in memory, SQLite WAL with
``synchronous=NORMAL``, SQLite WAL with ``synchronous=FULL`` (files in a
temporary folder under bench/results, on the repository's disk). Each round
builds a fresh tree per variant (every new id is first looked up in the
terminal's book, which grows with every order) and places ``ORDERS`` market
orders with fresh client order ids through each, rotating the order; the
added cost is the median over rounds of (durable p50 - in-memory p50). The
journal's own three commits per order (intent, sent, outcome; only ``sent``
waits for ``synchronous``) are also timed alone.
"""

from __future__ import annotations

import itertools
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
from _stats import Sample, median, progress, rounds, time_calls
from _trees import SYMBOL, accounts_config, wait_answered

from mt5guard import SystemClock, start
from mt5guard.config import MEMORY, OrdersConfig
from mt5guard.orders.journal import EntryState, OrderIntent, OrderJournal

ROUNDS = 9
ORDERS = 100  # per variant per round, on a fresh tree
JOURNAL_ONLY = 300
VARIANTS = {"memory": MEMORY, "NORMAL": "NORMAL", "FULL": "FULL"}


def journal_only(folder: Path, synchronous: str) -> dict[str, float]:
    """The journal's three commits of one order, without the tree: p50/p99 in microseconds."""
    path = MEMORY if synchronous == MEMORY else str(folder / f"alone-{synchronous}.sqlite3")
    journal = OrderJournal.open(path, synchronous="FULL" if synchronous == MEMORY
                                else synchronous)  # type: ignore[arg-type]
    ids = itertools.count()
    now = datetime.now(UTC)

    def one_order() -> None:
        entry = journal.begin(OrderIntent(f"j{next(ids)}", "place", SYMBOL, "buy", 0.1, {}), now)
        journal.mark_sent(entry, now)
        journal.finish(entry, EntryState.FILLED, {"outcome": {}}, now)

    sample = time_calls(one_order, JOURNAL_ONLY)
    journal.close()
    return {"p50_us": sample.p50_us, "p99_us": sample.p99_us}


def run() -> dict[str, Any]:
    results_dir = Path(__file__).resolve().parent / "results"
    results_dir.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="journal-", dir=results_dir))
    clock = SystemClock()
    trees = itertools.count()
    ids = itertools.count()

    def placing(name: str) -> Sample:
        """A fresh tree (an empty book: the id lookups scan it), then ORDERS orders."""
        setting = VARIANTS[name]
        orders = (OrdersConfig(state_dir=MEMORY) if setting == MEMORY else
                  OrdersConfig(state_dir=str(folder / f"{name}-{next(trees)}"),
                               synchronous=setting))  # type: ignore[arg-type]
        guard = start(attrs.evolve(accounts_config(1, interval=3600.0), orders=orders),
                      clock=clock)
        try:
            session = guard.session("acc0000")
            wait_answered([session])
            return time_calls(lambda: session.place_order(
                SYMBOL, "buy", 0.01, client_order_id=f"b{next(ids)}"), ORDERS)
        finally:
            guard.stop()

    try:
        samples = rounds({name: (lambda n=name: placing(n)) for name in VARIANTS}, ROUNDS,
                         "journal")
        alone = {name: journal_only(folder, setting) for name, setting in VARIANTS.items()}
    finally:
        clock.close()
        shutil.rmtree(folder, ignore_errors=True)
    base = samples["memory"]
    return {
        "orders_per_variant": ROUNDS * ORDERS,
        "place_order": {name: {"p50_us": median([s.p50_us for s in got]),
                               "p99_us": median([s.p99_us for s in got])}
                        for name, got in samples.items()},
        "added_p50_ms": {name: median([(s.p50_us - b.p50_us) / 1000
                                       for s, b in zip(got, base, strict=True)])
                         for name, got in samples.items() if name != "memory"},
        "journal_only": alone,
    }


if __name__ == "__main__":
    started = time.perf_counter()
    result = run()
    progress(f"journal: done in {time.perf_counter() - started:.1f} s")
    print(json.dumps(result))
    sys.exit(0)
