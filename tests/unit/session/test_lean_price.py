"""A blocking get_price's lean path keeps every guarantee of a GetPrice handled on the
caller's thread: the breaker told each outcome, the worker's deadline armed for the call,
typed errors, a lost session failed, and anything else left to the usual path."""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged, CallFailed
from mt5guard.errors import MT5ConnectionError, MT5DataError, MT5TimeoutError
from mt5guard.session._breaker_link import BreakerLink
from mt5guard.session._calls import GuardedCalls
from mt5guard.session._direct import HANDED, PASSED, Door
from mt5guard.terminal.hung import TerminalHung
from mt5guard.testing import VirtualClock


class Breaker:
    def __init__(self) -> None:
        self.told: list[Any] = []

    def tell(self, message: Any) -> None:
        self.told.append(message)


class Worker:
    def __init__(self) -> None:
        self.deadline: float | None = None
        self.lost: str | None = None


class Connection:
    def __init__(self) -> None:
        self.worker = Worker()
        self.connected = True


class Actor:
    """The actor's thread: opens doors and lives on while they are used (a thread's id
    may be reused once it ends, and a door never serves its actor's thread)."""

    def __init__(self, door: Door) -> None:
        self._doors: queue.Queue[Door | None] = queue.Queue()
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self.open(door)

    def _run(self) -> None:
        while (door := self._doors.get()) is not None:
            door.open()
            self._opened.set()

    def open(self, door: Door) -> None:
        self._opened.clear()
        self._doors.put(door)
        assert self._opened.wait(5)

    def end(self) -> None:
        self._doors.put(None)
        self._thread.join(5)


class Lane:
    """One door over a fake terminal call, opened by another thread (the actor's)."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.breaker = Breaker()
        self.link = BreakerLink(self.clock, self.breaker)  # type: ignore[arg-type]
        self.connection = Connection()
        self.calls = GuardedCalls(self.clock, self.link, self.connection)  # type: ignore[arg-type]
        self.reply: Any = "tick"
        self.deadlines: list[float | None] = []
        self.made = 0
        self.failed: list[str] = []
        self.door = Door(self.link, lambda _m: True, self.ready, self.failed.append, calls=True,
                         price=functools.partial(self.calls.now, "get_price", self.call))
        self.actor = Actor(self.door)

    def ready(self) -> bool:
        return self.connection.connected and self.link.live and self.connection.worker.lost is None

    def call(self, symbol: str) -> Any:
        self.made += 1
        self.deadlines.append(self.connection.worker.deadline)
        if isinstance(self.reply, BaseException):
            raise self.reply
        return self.reply

    def price(self) -> Any:
        return self.door.price("EURUSD", self.clock.monotonic() + 60.0, 1.0)


@pytest.fixture
def lane() -> Iterator[Lane]:
    made = Lane()
    yield made
    made.actor.end()


def test_a_read_arms_the_workers_deadline_for_the_call_only_and_counts_its_success(
        lane: Lane) -> None:
    deadline = lane.clock.monotonic() + 60.0
    assert lane.price() == "tick"
    assert lane.deadlines == [deadline] and lane.connection.worker.deadline is None
    for _ in range(62):
        lane.price()
    # plain successes are batched, as the actor's: 63 counted, the 64th tells them all
    assert lane.breaker.told == []
    lane.price()
    assert [m.count for m in lane.breaker.told] == [64]


def test_a_failure_is_told_to_the_breaker_at_once_and_raised_typed(lane: Lane) -> None:
    lane.price()
    lane.reply = MT5TimeoutError(operation="get_price", code=-10005)
    with pytest.raises(MT5TimeoutError):
        lane.price()
    (failed,) = lane.breaker.told
    assert isinstance(failed, CallFailed) and failed.successes_before == 1
    assert lane.failed == [] and lane.connection.worker.deadline is None
    lane.reply = "tick"
    assert lane.price() == "tick" and lane.made == 3  # the door stays open


def test_a_malformed_reply_is_a_data_error_told_to_the_breaker(lane: Lane) -> None:
    lane.reply = AttributeError("no bid")
    with pytest.raises(MT5DataError, match="malformed terminal reply"):
        lane.price()
    lane.reply = "tick"
    assert lane.failed == [] and lane.price() == "tick"


def test_a_hang_fails_the_session_and_the_caller_still_gets_its_timeout(lane: Lane) -> None:
    lane.reply = TerminalHung(operation="get_price", detail="no reply")
    with pytest.raises(TerminalHung):
        lane.price()
    assert isinstance(lane.breaker.told[-1], CallFailed)
    assert len(lane.failed) == 1 and "no reply" in lane.failed[0]
    assert lane.price() is PASSED and lane.made == 1  # closed until the restarted actor opens


def test_a_worker_lost_after_its_answer_fails_the_session_and_keeps_the_answer(
        lane: Lane) -> None:
    def lost_meanwhile(symbol: str) -> str:
        lane.connection.worker.lost = "killed"
        return "tick"

    lane.door._price = functools.partial(lane.calls.now, "get_price", lost_meanwhile)
    assert lane.price() == "tick"
    assert lane.failed == ["terminal worker killed"]


def test_a_connection_lost_is_handed_to_the_actor_unreported(lane: Lane) -> None:
    lane.reply = MT5ConnectionError(operation="get_price", detail="gone")
    assert lane.price() is HANDED
    assert lane.breaker.told == [] and lane.failed == []
    assert lane.connection.worker.deadline is None


def test_a_breaker_not_closed_leaves_the_read_to_the_usual_path_without_a_call(
        lane: Lane) -> None:
    for state in (BreakerState.OPEN, BreakerState.HALF_OPEN):
        lane.link.adopt(BreakerStateChanged("demo", BreakerState.CLOSED, state, "test",
                                            lane.clock.now(), 2, trials=1))
        assert lane.price() is PASSED
    assert lane.made == 0 and lane.breaker.told == []
    assert lane.link.admit("get_price") is None  # the HALF_OPEN trial is still the actor's


def test_a_request_past_its_deadline_is_a_timeout_without_a_call(lane: Lane) -> None:
    with pytest.raises(MT5TimeoutError, match="past its deadline"):
        lane.door.price("EURUSD", lane.clock.monotonic() - 1.0, 1.0)
    assert lane.made == 0


def test_the_actors_own_thread_and_a_held_lock_are_not_entered(lane: Lane) -> None:
    opened = Lane()
    opened.door.open()  # this thread is now the actor's
    assert opened.price() is PASSED and opened.made == 0
    opened.actor.end()
    with lane.door.lock:  # the actor handles a message: the caller waits up to its timeout
        got: list[Any] = []
        caller = threading.Thread(target=lambda: got.append(
            lane.door.price("EURUSD", lane.clock.monotonic() + 60.0, 0.01)))
        caller.start()
        caller.join(5)
    assert lane.made == 0 and len(got) == 1 and got[0] not in ("tick", PASSED)


def test_a_door_of_a_terminal_in_this_process_makes_no_lean_read(lane: Lane) -> None:
    door = Door(lane.link, lambda _m: True, lane.ready, lane.failed.append, calls=False,
                price=functools.partial(lane.calls.now, "get_price", lane.call))
    lane.actor.open(door)
    assert door.price("EURUSD", 60.0, 1.0) is PASSED and lane.made == 0
