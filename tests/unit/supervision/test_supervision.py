"""Supervisor behaviour, one rule per test, on a VirtualClock."""

from __future__ import annotations

import threading
from typing import Any

import pykka
import pytest
from toyactors import Script, Worker

from mt5guard.events.bus import EventBus
from mt5guard.supervision import (
    Backoff,
    ChildExited,
    ChildFailed,
    ChildSpec,
    ChildStarted,
    ChildUnavailable,
    Restart,
    RestartScheduled,
    Strategy,
    Supervisor,
    SupervisorGaveUp,
)
from mt5guard.testing import VirtualClock


@pytest.fixture
def script() -> Script:
    return Script()


def specs(script: Script, *names: str, restart: Restart = Restart.PERMANENT) -> list[ChildSpec]:
    return [
        ChildSpec(name, lambda n=name: Worker(n, script), restart=restart) for name in names
    ]


def start(clock: VirtualClock, bus: EventBus, children: list[ChildSpec], **kw: Any) -> Any:
    kw.setdefault("max_restarts", 100)
    ref = Supervisor.start("sup", children, clock=clock, bus=bus, **kw)
    clock.settle()
    return ref


def who(spec: ChildSpec) -> tuple[str, int]:
    answer: tuple[str, int] = spec.handle.ask("who")
    return answer


def started(recorder: Any) -> list[tuple[str, float]]:
    return [(e.child, e.at.timestamp()) for e in recorder.of(ChildStarted)]


def test_children_start_in_order_and_stop_in_reverse(clock, bus, script) -> None:
    ref = start(clock, bus, specs(script, "a", "b", "c"))
    ref.stop()
    assert script.journal == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]


@pytest.mark.parametrize(
    ("strategy", "restarted"),
    [
        (Strategy.ONE_FOR_ONE, {"b"}),
        (Strategy.ONE_FOR_ALL, {"a", "b", "c"}),
        (Strategy.REST_FOR_ONE, {"b", "c"}),
    ],
)
def test_strategy_decides_which_siblings_restart(clock, bus, script, strategy, restarted) -> None:
    children = specs(script, "a", "b", "c")
    ref = start(clock, bus, children, strategy=strategy)
    before = {spec.name: who(spec)[1] for spec in children}
    children[1].handle.tell("crash")
    clock.advance(60)
    after = {spec.name: who(spec)[1] for spec in children}
    assert {name for name in before if before[name] != after[name]} == restarted
    stops = [e for e in script.journal if e.startswith("stop")]
    assert stops == [f"stop {n}" for n in ("c", "a") if n in restarted]  # reverse order
    ref.stop()


def test_group_restart_starts_children_in_order(clock, bus, script) -> None:
    children = specs(script, "a", "b", "c")
    ref = start(clock, bus, children, strategy=Strategy.ONE_FOR_ALL)
    script.journal.clear()
    children[2].handle.tell("crash")
    clock.advance(60)
    assert script.journal == ["stop b", "stop a", "start a", "start b", "start c"]
    ref.stop()


@pytest.mark.parametrize(
    ("restart", "after_exit", "after_crash"),
    [
        (Restart.PERMANENT, True, True),
        (Restart.TRANSIENT, False, True),
        (Restart.TEMPORARY, False, False),
    ],
)
def test_restart_type(clock, bus, script, recorder, restart, after_exit, after_crash) -> None:
    for ending, expected in (("exit", after_exit), ("crash", after_crash)):
        (child,) = specs(script, "w", restart=restart)
        ref = start(clock, bus, [child])
        child.handle.tell(ending)
        clock.advance(600)
        assert child.handle.running is expected, ending
        ref.stop()


def test_each_way_of_dying_is_noticed(clock, bus, script, recorder) -> None:
    script.start_failures["w"] = 1
    (child,) = specs(script, "w")
    ref = start(clock, bus, [child])  # on_start fails
    clock.advance(60)
    child.handle.tell("crash")  # a tell handler fails
    clock.advance(120)
    child.handle.tell("exit")  # stops itself
    clock.advance(240)
    assert [type(e) for e in recorder.of(ChildFailed, ChildExited)] == [
        ChildFailed,
        ChildFailed,
        ChildExited,
    ]
    assert child.handle.running
    ref.stop()


def test_an_exception_in_an_ask_goes_to_the_caller_and_is_no_crash(clock, bus, script, recorder) -> None:
    (child,) = specs(script, "w")
    ref = start(clock, bus, [child])
    incarnation = who(child)[1]
    with pytest.raises(ValueError, match="caller gets this"):
        child.handle.ask("bad question")
    clock.advance(600)
    assert who(child)[1] == incarnation and not recorder.of(ChildFailed)
    ref.stop()


def test_backoff_resets_after_a_stable_period(clock, bus, script, recorder) -> None:
    (child,) = specs(script, "w")
    ref = start(clock, bus, [child], backoff=Backoff(reset_after=300))
    for _ in range(4):  # each incarnation runs 940 s, longer than reset_after
        child.handle.tell("crash")
        clock.advance(1000)
    delays = [e.delay for e in recorder.of(RestartScheduled)]
    assert delays == [60, 60, 60, 60]
    ref.stop()


def test_backoff_grows_while_the_child_fails_quickly(clock, bus, script, recorder) -> None:
    (child,) = specs(script, "w")
    ref = start(clock, bus, [child], backoff=Backoff(reset_after=300))
    for delay in (60, 120, 240, 480):
        child.handle.tell("crash")
        clock.advance(delay)
    assert [e.delay for e in recorder.of(RestartScheduled)] == [60, 120, 240, 480]
    ref.stop()


def test_handle_fails_fast_with_the_next_attempt_while_down(clock, bus, script) -> None:
    (child,) = specs(script, "w")
    ref = start(clock, bus, [child])
    child.handle.tell("crash")
    clock.advance(1)
    with pytest.raises(ChildUnavailable) as caught:
        child.handle.ask("who")
    assert caught.value.retry_at is not None
    assert (caught.value.retry_at - clock.now()).total_seconds() == pytest.approx(59)
    clock.advance(59)
    assert who(child)[0] == "w"
    ref.stop()


def test_a_superseded_restart_timer_does_not_start_a_child_early(clock, bus, script, recorder) -> None:
    children = specs(script, "a", "b")
    ref = start(clock, bus, children, strategy=Strategy.REST_FOR_ONE)
    t0 = clock.now().timestamp()
    children[1].handle.tell("crash")  # b alone, due at t0 + 60
    clock.advance(10)
    children[0].handle.tell("crash")  # a and b, due at t0 + 70
    clock.advance(200)
    restarts = [(n, t - t0) for n, t in started(recorder)[2:]]
    assert restarts == [("a", 70), ("b", 70)]
    ref.stop()


def test_restart_intensity_exceeded_gives_up_and_reports(clock, bus, script, recorder) -> None:
    script.always_fail.add("w")
    gave_up: list[SupervisorGaveUp] = []
    (child,) = specs(script, "w")
    ref = start(clock, bus, [child], max_restarts=3, period=3600, on_give_up=gave_up.append)
    clock.advance(3600)
    assert len(gave_up) == 1 and gave_up[0].restarts == 4 and gave_up[0].period == 3600
    assert gave_up[0].reason == "last failure: w (RuntimeError: w cannot start)"
    assert len(recorder.of(ChildStarted)) == 4  # first start + 3 restarts
    assert not ref.is_alive()
    with pytest.raises(ChildUnavailable, match="gave up"):
        child.handle.ref()


def test_nested_supervisor_that_gives_up_is_restarted_by_its_parent(clock, bus, script, recorder) -> None:
    script.start_failures["w"] = 3
    inner_children = specs(script, "w")
    inner = ChildSpec(
        "inner",
        lambda: Supervisor("inner", inner_children, clock=clock, bus=bus, max_restarts=1),
    )
    inner_children[0].handle.parent = inner.handle
    ref = start(clock, bus, [inner])
    clock.advance(60)  # w fails twice: inner gives up, root schedules inner in 60 s
    with pytest.raises(ChildUnavailable) as caught:
        who(inner_children[0])
    assert caught.value.retry_at is not None
    clock.advance(600)
    assert who(inner_children[0])[0] == "w"
    gave_up = recorder.of(SupervisorGaveUp)
    assert [e.supervisor for e in gave_up] == ["inner"]
    assert [e.child for e in recorder.of(ChildFailed) if e.supervisor == "sup"] == ["inner"]
    ref.stop()
    assert script.journal[-1] == "stop w"


def test_stopping_the_tree_leaves_no_thread_and_cancels_timers(clock, bus, script) -> None:
    children = specs(script, "a", "b")
    ref = start(clock, bus, children)
    children[0].handle.tell("crash")
    clock.advance(1)
    ref.stop()
    clock.advance(3600)  # the pending restart must not revive anything
    names = {t.name for t in threading.enumerate()}
    assert not any(n.startswith(("Worker", "Supervisor")) for n in names)
    assert not children[0].handle.running and not children[1].handle.running


class HostEngine(pykka.ThreadingActor):
    def __init__(self, clock: VirtualClock, children: list[ChildSpec]) -> None:
        super().__init__()
        self.clock, self.children, self.tree = clock, children, None

    def on_start(self) -> None:
        self.tree = Supervisor.start("embedded", self.children, clock=self.clock)

    def stop_tree(self) -> bool:
        assert self.tree is not None
        return bool(self.tree.stop())


def test_a_tree_under_a_host_actor_stops_without_touching_the_host(clock, script) -> None:
    other = pykka.ThreadingActor.start()
    host = HostEngine.start(clock, specs(script, "a"))
    clock.settle()
    host.proxy().stop_tree().get()
    assert host.is_alive() and other.is_alive()
    assert script.journal == ["start a", "stop a"]
    host.stop()
    other.stop()


def test_a_seeded_supervisor_jitters_its_restarts_the_same_way_every_run(script) -> None:
    """Its random state is made at the first restart (most supervisors never restart a
    child), from the same seed: a test runtime's runs stay reproducible."""

    def delays(seed: int) -> list[float]:
        clock, bus = VirtualClock(), EventBus()
        seen: list[float] = []
        bus.subscribe(lambda e: seen.append(e.delay) if isinstance(e, RestartScheduled) else None)
        (child,) = specs(script, "w")
        ref = start(clock, bus, [child], backoff=Backoff(jitter=0.5), seed=seed)
        for _ in range(4):
            child.handle.tell("crash")
            clock.advance(1000)
        ref.stop()
        return seen

    first = delays(7)
    assert len(first) == 4 and len(set(first)) > 1  # jittered
    assert delays(7) == first
    assert delays(8) != first


def test_a_handle_wakes_its_first_start_waiters_then_keeps_no_event_of_its_own(
        clock, bus, script) -> None:
    children = specs(script, "a", "b")
    assert not children[0].handle.wait_started(timeout=0)  # not started yet: waits
    woken: list[bool] = []
    waiter = threading.Thread(target=lambda: woken.append(children[0].handle.wait_started(10)))
    waiter.start()
    ref = start(clock, bus, children)
    waiter.join(10)
    assert woken == [True]
    assert all(spec.handle.wait_started(timeout=0) for spec in children)  # at once from now on
    # 1,000 accounts kept 4,000 spent events; now every started handle shares one
    assert children[0].handle._first_start is children[1].handle._first_start
    ref.stop()
