"""The health probe's three calls: their short way and everything that takes them off it.

``terminal_info``, ``account_info`` and ``symbol_info_tick`` answer straight under the
state lock while nothing can make them wait; each way a call can have to wait (a hang,
the latency, a pending order to sweep, a deadline to end, another call holding the
guard) must still be met by all three, as by every other call.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from test_simulated_terminal import (
    IPC_TIMEOUT,
    NO_IPC,
    OK,
    PASSWORD,
    BlockingClock,
    FakeClock,
    connect,
)

from mt5guard.terminal import ConcurrentCallError, SimulatedTerminal
from mt5guard.terminal import constants as c

PROBE_CALLS: dict[str, Any] = {
    "terminal_info": lambda t: t.terminal_info(),
    "account_info": lambda t: t.account_info(),
    "symbol_info_tick": lambda t: t.symbol_info_tick("EURUSD"),
}
probe_call = pytest.mark.parametrize("name", sorted(PROBE_CALLS))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def term(clock: FakeClock) -> SimulatedTerminal:
    terminal = SimulatedTerminal(clock, password=PASSWORD)
    connect(terminal)
    return terminal


def answered(term: SimulatedTerminal, name: str) -> bool:
    """Whether ``name`` answered (with OK left in last_error)."""
    return PROBE_CALLS[name](term) is not None and term._last_error == OK


@probe_call
def test_a_scripted_hang_is_taken(term: SimulatedTerminal, clock: FakeClock, name: str) -> None:
    assert answered(term, name)
    term.hang_next(name, 20.0, times=2)
    before = clock.monotonic()
    assert PROBE_CALLS[name](term) is None and term.last_error() == IPC_TIMEOUT
    assert PROBE_CALLS[name](term) is None
    assert clock.monotonic() - before == pytest.approx(40.0)
    assert name not in term._faults.hangs  # none left: its short way is open again
    assert answered(term, name) and clock.monotonic() - before == pytest.approx(40.0)
    assert term.calls[name] == 4


@probe_call
def test_a_hang_scripted_for_another_call_leaves_it_alone(
        term: SimulatedTerminal, clock: FakeClock, name: str) -> None:
    term.hang_next("positions_get", 20.0)
    before = clock.monotonic()
    assert answered(term, name) and clock.monotonic() == before
    assert term.positions_get() is None and clock.monotonic() - before == pytest.approx(20.0)


@probe_call
def test_the_latency_is_slept_every_call(clock: FakeClock, name: str) -> None:
    t = SimulatedTerminal(clock, call_latency=0.5)
    connect(t)
    before = clock.monotonic()
    assert answered(t, name) and answered(t, name)
    assert clock.monotonic() - before == pytest.approx(1.0)


@probe_call
def test_a_timed_disconnect_ends_at_its_deadline(
        term: SimulatedTerminal, clock: FakeClock, name: str) -> None:
    term.disconnect(for_seconds=30)
    clock.advance(29)
    assert PROBE_CALLS[name](term) is None and term._last_error == NO_IPC
    assert term._faults.link_broken
    clock.advance(1)
    assert PROBE_CALLS[name](term) is None and term._last_error == NO_IPC  # initialize first
    assert not term._faults.link_broken and term._faults.broken_until is None  # ended by it
    connect(term)
    assert answered(term, name)


@probe_call
def test_a_restart_downtime_ends_at_its_deadline(
        term: SimulatedTerminal, clock: FakeClock, name: str) -> None:
    term.restart(downtime=10)
    clock.advance(9)
    assert PROBE_CALLS[name](term) is None and term._faults.process_down
    clock.advance(1)
    assert PROBE_CALLS[name](term) is None and term._last_error == NO_IPC
    assert not term._faults.process_down and term._faults.down_until is None
    connect(term)
    assert answered(term, name)


@probe_call
def test_a_pending_order_is_swept_before_the_call(
        term: SimulatedTerminal, clock: FakeClock, name: str) -> None:
    tick = term.symbol_info_tick("EURUSD")
    assert tick is not None
    placed = term.order_send({
        "action": c.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.1,
        "type": c.ORDER_TYPE_BUY_LIMIT, "price": round(tick.ask - 0.0003, 5),
        "type_filling": c.ORDER_FILLING_RETURN, "comment": "mg-p1;"})
    assert placed is not None and placed.retcode == c.TRADE_RETCODE_PLACED
    for _ in range(6 * 60):  # a minute at a time, each followed by the probe call alone
        clock.advance(60.0)
        assert answered(term, name)
        if not term._ledger.orders:
            break
    assert not term._ledger.orders and [p.ticket for p in term._ledger.positions.values()] \
        == [placed.order]


@probe_call
def test_another_call_holding_the_guard_refuses_it(name: str) -> None:
    clock = BlockingClock()
    t = SimulatedTerminal(clock)
    connect(t)
    t.hang_next("positions_get", 30.0)
    worker = threading.Thread(target=t.positions_get)
    worker.start()
    assert clock.sleeping.wait(5.0)
    with pytest.raises(ConcurrentCallError, match="positions_get"):
        PROBE_CALLS[name](t)
    assert t.calls[name] == 1  # counted all the same
    clock.release.set()
    worker.join(5.0)
    assert answered(t, name) and t.calls[name] == 2 and not t._guard.lock.locked()


class CountingClock(FakeClock):
    """Counts sleeps and does not move: a call that sleeps out the latency reads the same
    instant (and so the same quotes) as one that does not."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps = 0

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1


def test_the_short_way_and_the_waiting_way_answer_alike() -> None:
    # Each probe call's block is written twice: inlined in its short way, and under
    # _HeldCall for a call that may wait. The latency sends every call of ``waiting`` the
    # second way; the two terminals must answer alike, last_error included, in every state.
    clock = CountingClock()
    short, waiting = SimulatedTerminal(clock), SimulatedTerminal(clock, call_latency=1.0)
    asks: list[Any] = [*PROBE_CALLS.values(), lambda t: t.symbol_info_tick("GBPUSD"),
                       lambda t: t.symbol_info_tick(42)]
    steps: list[Any] = [
        lambda t: None,  # not initialized
        lambda t: connect(t),
        lambda t: t.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                                "volume": 0.1, "type": c.ORDER_TYPE_BUY}),
        lambda t: t.server_offline(), lambda t: t.autotrading_off(),
        lambda t: t.investor_login(), lambda t: t.stale_quotes("EURUSD"),
        lambda t: t.revoke_auth(), lambda t: t.restore(), lambda t: connect(t),
        lambda t: t.disconnect(), lambda t: t.restore(), lambda t: t.set_down(True),
    ]
    for step in steps:
        clock.advance(7.0)
        for t in (short, waiting):
            step(t)
        before = clock.sleeps
        for ask in asks:
            assert (ask(short), short.last_error()) == (ask(waiting), waiting.last_error())
        assert clock.sleeps - before == len(asks)  # each went the waiting way (last_error sleeps not)


def test_calls_is_a_counter_whose_counts_dict_sets(term: SimulatedTerminal) -> None:
    # Counter's own __delitem__ (Python) would route every ``calls[name] += 1`` through a
    # Python-level slot lookup; dict's keeps the count in C.
    assert isinstance(term.calls, Counter) and type(term.calls).__delitem__ is dict.__delitem__
    before = term.calls["terminal_info"]
    assert term.terminal_info() is not None and term.calls["terminal_info"] == before + 1
    assert term.calls["order_send"] == 0 and "order_send" not in term.calls
    assert sum(term.calls.values()) == term.calls.total() >= 3
