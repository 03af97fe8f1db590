"""A rest-for-one restart is bounded by the shutdown timeout, even past a stuck sibling.

Before: a sibling that never finished stopping (a session blocked in a
terminal call) held its group's restart for ever. Now it is abandoned after
``shutdown_timeout`` (its ``on_abandon`` ends the call it is blocked in) and
the group restarts; its late end is not taken for a new crash.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pykka

from mt5guard.clock import SystemClock
from mt5guard.events.bus import EventBus
from mt5guard.supervision import (
    Backoff,
    ChildFailed,
    ChildSpec,
    RestartScheduled,
    Strategy,
    Supervisor,
)
from mt5guard.supervision.events import ChildAbandoned


class Stuck(pykka.ThreadingActor):
    """Blocks its own thread on ``"block"`` until ``release`` is set: a hung terminal call."""

    made = 0
    blocked: list[threading.Thread] = []  # the threads "block" held, oldest first

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.release = release
        Stuck.made += 1
        self.incarnation = Stuck.made

    def on_receive(self, message: Any) -> Any:
        if message == "block":
            Stuck.blocked.append(threading.current_thread())
            self.release.wait(30)
        if message == "crash":
            raise RuntimeError("crashed")
        return self.incarnation


def test_a_sibling_stuck_in_a_call_is_abandoned_at_the_shutdown_timeout_and_the_group_restarts(
) -> None:
    clock, bus, events = SystemClock(), EventBus(), []
    bus.subscribe(events.append)
    release, abandoned = threading.Event(), threading.Event()
    first = ChildSpec("first", lambda: Stuck(threading.Event()))
    second = ChildSpec("second", lambda: Stuck(release), on_abandon=abandoned.set)
    sup = Supervisor.start("account", [first, second], clock=clock, bus=bus,
                           strategy=Strategy.REST_FOR_ONE, shutdown_timeout=0.3,
                           backoff=Backoff(initial=0.05, maximum=0.05, jitter=0.0),
                           max_restarts=10)
    try:
        old = _eventually(lambda: second.handle.ask("who"))
        second.handle.tell("block")  # its thread is now blocked, like a session in a hung call
        started = time.monotonic()
        first.handle.tell("crash")  # restarts first and, rest-for-one, second
        deadline = started + 10
        while True:
            try:
                if second.handle.ask("who", timeout=0.05) != old:
                    break
            except Exception:
                pass
            assert time.monotonic() < deadline, "the group never restarted"
            time.sleep(0.01)
        took = time.monotonic() - started
        assert 0.3 <= took < 3.0  # the shutdown timeout (+ backoff), not for ever
        assert abandoned.is_set()
        assert [e.child for e in events if isinstance(e, ChildAbandoned)] == ["second"]
        restarts = len([e for e in events if isinstance(e, RestartScheduled)])
        release.set()  # the stuck call returns at last and the old incarnation ends
        # its end, witnessed: its thread reported the end to the supervisor before it ended
        # (start_actor's on_exit), and a query answered after that notice in the supervisor's
        # inbox shows the supervisor has taken it in; it must not be taken for a crash
        stuck = Stuck.blocked[-1]
        stuck.join(timeout=3)
        assert not stuck.is_alive(), "the old incarnation never ended"
        sup.proxy().children().get(timeout=3)
        assert len([e for e in events if isinstance(e, RestartScheduled)]) == restarts
        assert [e.child for e in events if isinstance(e, ChildFailed)] == ["first"]
    finally:
        release.set()
        sup.stop()
        clock.close()


def _eventually(call: Any) -> Any:
    deadline = time.monotonic() + 3
    while True:
        try:
            return call()
        except Exception:
            assert time.monotonic() < deadline
            time.sleep(0.01)


class HeldLink:
    """A link whose far end the test holds: it answers (or hangs up) when the test says."""

    reconnectable = False

    def __init__(self) -> None:
        import socket

        from mt5guard.terminal.bridge._channel import REPLY_CAP, REQUEST_CAP, Framed

        ours, theirs = socket.socketpair()
        self.conn = Framed(ours, REPLY_CAP)
        self.far = Framed(theirs, REQUEST_CAP)
        self.pid: int | None = None
        self.killed = False

    def kill(self) -> None:
        self.killed = True  # a worker that does not die at once (SIGKILL is pending)

    def close(self) -> None:
        self.killed = True

    def describe(self) -> str:
        return "held link"


def test_a_call_of_an_abandoned_incarnation_cannot_touch_the_restarted_ones_worker() -> None:
    import json

    from mt5guard.terminal.worker import WorkerTerminal

    links: list[HeldLink] = []

    def opener(timeout: float) -> HeldLink:
        links.append(HeldLink())
        return links[-1]

    clock = SystemClock()
    terminal = WorkerTerminal(opener, clock, name="shared", call_timeout=10.0)
    try:
        terminal.start()
        old_answer: list[Any] = []
        stuck = threading.Thread(target=lambda: old_answer.append(terminal.account_info()))
        stuck.start()  # the old incarnation, blocked in a call
        request = json.loads(links[0].far.recv_bytes())
        terminal.start()  # the restarted incarnation opens its own worker
        links[0].far.send_bytes(json.dumps(["ok", request[1], None, [-10005, "late"]]).encode())
        stuck.join(5)
        assert old_answer == [None]  # the stale call failed...
        assert terminal.lost is None and terminal.last_error() == (1, "Success")  # ...quietly
        links[0].far.close()  # and its worker's end hanging up is no news either
        assert terminal.lost is None
        ping = threading.Thread(target=terminal.ping, args=("new",))
        ping.start()
        request = json.loads(links[1].far.recv_bytes())
        links[1].far.send_bytes(json.dumps(["ok", request[1], "new", None]).encode())
        ping.join(5)
        assert terminal.lost is None and terminal.requests == 2
    finally:
        terminal.close()
        clock.close()
