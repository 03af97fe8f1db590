"""Typed errors answered to callers, and failed probes, leave no reference cycles.

An error raised on the session's side holds the frames it passed through in
its traceback; those frames hold the request, the request holds its reply
future, and the future holds the error: a cycle only the garbage collector
frees, with every frame, message and journal row in it. A chaos seed made
~15,000 such objects (a gen-2 collection of 20-50 ms landed in it). Here the
failures are made with the collector off and then counted by it.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator

import pytest
from storykit import deterministic_tree

from mt5guard.errors import MT5Error
from mt5guard.testing import DeterministicRuntime


@pytest.fixture
def collector_off() -> Iterator[None]:
    """The collector off, and no log records kept: pytest's capture of a logged failure
    would keep its error, and so any cycle through it, reachable."""
    was = gc.isenabled()
    gc.disable()
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
        if was:
            gc.enable()


def test_failed_requests_leave_nothing_for_the_garbage_collector(collector_off: None) -> None:
    with DeterministicRuntime(3) as runtime:
        guard, _terminal = deterministic_tree(runtime)
        session = guard.session("demo")
        assert session.get_price("EURUSD").ask > 0
        gc.collect()
        kinds = set()
        for n in range(200):
            try:
                session.get_price("NOSUCH")  # refused by the terminal, answered typed
            except MT5Error as exc:
                kinds.add(type(exc).__name__)
            try:  # an invalid volume: refused by the terminal, told back as a typed error
                session.place_order("EURUSD", "buy", 1000.0, client_order_id=f"x{n}")
            except MT5Error as exc:
                kinds.add(type(exc).__name__)
        assert kinds  # the requests did fail
        assert gc.collect() == 0
        guard.stop()


def test_failing_probes_leave_nothing_for_the_garbage_collector(collector_off: None) -> None:
    with DeterministicRuntime(4) as runtime:
        guard, terminal = deterministic_tree(runtime)
        runtime.advance(60)
        gc.collect()
        terminal.revoke_auth()  # every probe from now on fails its account_info call
        runtime.advance(3600)
        report = guard.session("demo").health()
        assert report.overall.value != "SERVING"
        assert gc.collect() == 0
        guard.stop()


def test_restarted_sessions_leave_nothing_for_the_garbage_collector(collector_off: None) -> None:
    # An ended actor was held in cycles (its inbox's late-message handler, its door's
    # failure callback, the desk and its catch-up, the runtime's entry and greenlet):
    # every restart left ~90 objects for the collector, which it then walked in full.
    restarts: list[object] = []
    with DeterministicRuntime(5) as runtime:
        guard, terminal = deterministic_tree(runtime)
        guard.bus.subscribe(lambda e: restarts.append(e) if type(e).__name__ ==
                            "RestartScheduled" else None)
        runtime.advance(60)
        gc.collect()
        for _ in range(4):
            terminal.restart(downtime=90)  # the terminal process ends: the session restarts
            runtime.advance(1800)
        assert guard.session("demo").health().overall.value == "SERVING"
        assert len(restarts) >= 4
        assert gc.collect() == 0
        guard.stop()
