"""The deterministic runtime: one thread, a seeded order, time that jumps."""

from __future__ import annotations

import threading
from typing import Any, cast

import pykka
import pytest
from storykit import deterministic_tree, story_config
from toyactors import Sleeper

from mt5guard.config import MEMORY, OrdersConfig
from mt5guard.errors import MT5TimeoutError
from mt5guard.session.guard import start
from mt5guard.terminal import SimulatedTerminal
from mt5guard.testing import DeterministicRuntime, RuntimeStuck


def one_hour_of_trading(seed: int) -> list[str]:
    with DeterministicRuntime(seed) as runtime:
        # In memory: each run must start from nothing, not from the last run's journal.
        config = story_config(orders=OrdersConfig(state_dir=MEMORY))
        term = config.accounts[0].terminal
        terminal = SimulatedTerminal(runtime.clock, login=term.login,
                                     password=term.password.reveal(), server=term.server)
        guard = start(config, clock=runtime.clock, terminals={"demo": terminal})
        session = guard.session("demo")
        assert session.get_price("EURUSD").ask > 0
        runtime.advance(1800)
        assert session.place_order("EURUSD", "buy", 0.1, client_order_id="t1").retcode == 10009
        runtime.advance(1800)
        assert session.health().overall.value == "SERVING"
        guard.stop()
        return runtime.log


def test_the_same_seed_replays_the_same_log_and_other_seeds_interleave_differently() -> None:
    first = one_hour_of_trading(7)
    assert len(first) > 200  # 120 probes and their replies, the requests, the breaker
    assert "\n".join(one_hour_of_trading(7)) == "\n".join(first)
    others = {tuple(one_hour_of_trading(seed)) for seed in (1, 2, 3)}
    assert any(log != tuple(first) for log in others)


def test_everything_runs_on_the_test_thread_and_a_hung_call_times_out_in_simulated_time() -> None:
    with DeterministicRuntime(1) as runtime:
        config = story_config(request_timeout=5.0)
        term = config.accounts[0].terminal
        terminal = SimulatedTerminal(runtime.clock, login=term.login,
                                     password=term.password.reveal(), server=term.server)
        threads = threading.active_count()
        guard = start(config, clock=runtime.clock, terminals={"demo": terminal})
        assert threading.active_count() == threads
        terminal.hang_next("symbol_info_tick", 3600)
        before = runtime.monotonic()
        with pytest.raises(MT5TimeoutError):
            guard.session("demo").get_price("EURUSD")
        assert runtime.monotonic() - before == pytest.approx(5.0)
        runtime.advance(3600)
        guard.stop()


class Counter(pykka.ThreadingActor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def on_receive(self, message: Any) -> Any:
        self.count += 1
        return self.count


def test_a_hosts_own_actors_run_on_it_and_asks_from_test_code_drive_it() -> None:
    with DeterministicRuntime(3) as runtime:
        counter = runtime.start(Counter)
        counter.tell("one")
        assert counter.ask("two") == 2
        assert counter.proxy().count.get() == 2
        counter.stop()
        assert not counter.is_alive()
        waiting = runtime.start(Counter).ask("never answered", block=False)
        runtime.close()
    with pytest.raises(pykka.Timeout):
        waiting.get(timeout=0)


def test_a_wait_that_can_never_end_says_so() -> None:
    with DeterministicRuntime(0) as runtime:
        never: pykka.Future[Any] = pykka.ThreadingActor._create_future()
        runtime.call_later(10, lambda: None)
        with pytest.raises(RuntimeStuck):
            runtime.wait_until(lambda: False, None)
        assert runtime.monotonic() == 10
        del never


class Rally(pykka.ThreadingActor):
    """Sends each ball back to its peer, forever: there is always an actor ready."""

    def __init__(self) -> None:
        super().__init__()
        self.peer: Any = None
        self.hits = 0

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, pykka.ActorRef):
            self.peer = message
        else:
            self.hits += 1
            self.peer.tell("ball")


def test_a_wait_from_test_code_ends_when_its_answer_is_there_while_actors_stay_busy() -> None:
    with DeterministicRuntime(5) as runtime:
        left, right = runtime.start(Rally), runtime.start(Rally)
        left.tell(right)
        right.tell(left)
        left.tell("ball")
        counter = runtime.start(Counter)
        assert counter.ask("one") == 1  # returns although the rally never ends
        hits = left.proxy().hits.get() + right.proxy().hits.get()
        assert 0 < hits < 100
        assert runtime.steps < 100


def test_the_seeded_pick_draws_what_random_randrange_draws() -> None:
    import random

    from mt5guard.testing._runtime import _Entry

    runtime, reference = DeterministicRuntime(seed=11), random.Random(11)
    try:
        for count in (2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 2, 3):
            entries = {seq: _Entry(cast(Any, None), seq) for seq in range(100, 100 - count, -1)}
            runtime._ready.update(entries)
            picked = runtime._pick()
            assert picked is entries[sorted(entries)[reference.randrange(count)]]
            runtime._ready.clear()
    finally:
        runtime.close()



def test_advance_wakes_a_parked_actor_at_its_deadline_while_no_other_is_ready() -> None:
    with DeterministicRuntime(2) as runtime:
        woke: list[float] = []
        sleeper = runtime.start(Sleeper, runtime, woke)
        runtime.advance(1)
        sleeper.tell(10.0)
        runtime.advance(4)  # parked: nothing ready, no timer before its deadline at 11 s
        assert woke == []
        runtime.advance(6)
        assert woke == [11.0] and runtime.monotonic() == 11.0
        sleeper.tell(0.0)
        runtime.advance(0)  # no time passes: a wait of zero ends at once
        assert woke == [11.0, 11.0]
        assert runtime.log == ["1.000 Sleeper#1 float", "11.000 Sleeper#1 float"]


def test_the_log_reads_the_same_whenever_it_is_read() -> None:
    with DeterministicRuntime(4) as runtime:
        counter = runtime.start(Counter)
        counter.tell("a")
        runtime.run_until_idle()
        assert runtime.log == ["0.000 Counter#1 str"]
        counter.tell("b")  # the same instant, after the log was read
        runtime.advance(1.5)
        counter.tell(3)
        runtime.advance(0.0004)
        assert runtime.log == ["0.000 Counter#1 str", "0.000 Counter#1 str", "1.500 Counter#1 int"]
        counter.tell("d")
        runtime.advance(1)
        assert runtime.log[-1] == "1.500 Counter#1 str" and len(runtime.log) == 4  # at 1.5004 s


def test_a_probe_answer_for_a_health_actor_that_is_gone_leaves_the_session_serving() -> None:
    from mt5guard.health.messages import RunProbe

    with DeterministicRuntime(6) as runtime:
        guard, terminal = deterministic_tree(runtime)
        session = guard.session("demo")
        gone = runtime.start(Counter)
        gone.stop()
        calls = terminal.calls["terminal_info"]
        session._core.session.tell(RunProbe("EURUSD", 99, reply_to=gone))
        runtime.run_until_idle()
        assert terminal.calls["terminal_info"] == calls + 1  # probed, its answer dropped
        assert session.get_price("EURUSD").ask > 0
        assert session.health().overall.value == "SERVING"
        guard.stop()


class Fragile(pykka.ThreadingActor):
    """Counts told messages; "crash" fails it; its on_failure is noted."""

    def __init__(self, seen: list[Any]) -> None:
        super().__init__()
        self.seen = seen

    def on_receive(self, message: Any) -> Any:
        if message == "crash":
            raise RuntimeError("told to crash")
        if message == "exit":
            raise SystemExit(3)
        self.seen.append(message)
        return len(self.seen)

    def on_failure(self, *exc_info: Any) -> None:
        self.seen.append(f"failed: {exc_info[1]!r}")


class Rerouting(Fragile):
    """Overrides pykka's dispatch: every message goes through its own _handle_receive."""

    def _handle_receive(self, message: Any) -> Any:
        if isinstance(message, str):
            return super()._handle_receive(f"rerouted {message}")
        return super()._handle_receive(message)


@pytest.mark.parametrize(("fatal", "why"), [("crash", "RuntimeError('told to crash')"),
                                            ("exit", "SystemExit(3)")])
def test_told_messages_are_handled_as_pykka_would_and_a_failing_one_ends_only_that_actor(
        fatal: str, why: str) -> None:
    from mt5guard.supervision import start_actor

    with DeterministicRuntime(0) as runtime:
        seen: list[Any] = []
        ends: list[BaseException | None] = []
        fragile = start_actor(Fragile(seen), runtime, ends.append)
        bystander = runtime.start(Counter)
        for message in ("a", "b", 1):  # "a" teaches the glue that str goes to on_receive
            fragile.tell(message)
        assert fragile.ask("asked") == 4
        fragile.tell(fatal)
        fragile.tell("never")
        runtime.run_until_idle()
        assert seen == ["a", "b", 1, "asked", f"failed: {why}"]
        assert [repr(e) for e in ends] == [why] and not fragile.is_alive()
        assert bystander.ask("still here") == 1

        rerouted: list[Any] = []
        rerouting = runtime.start(Rerouting, rerouted)
        rerouting.tell("c")
        assert rerouting.ask("d") == 2
        assert rerouted == ["rerouted c", "rerouted d"]


class Introspecting(pykka.ThreadingActor):
    def __init__(self, runtime: DeterministicRuntime, seen: list[Any]) -> None:
        super().__init__()
        self.runtime, self.seen = runtime, seen

    def on_receive(self, message: Any) -> Any:
        self.seen.append((self.runtime.handling, self.runtime.handling_since))


def test_the_runtime_names_the_type_of_the_message_being_handled_and_when_it_began() -> None:
    with DeterministicRuntime(0) as runtime:
        seen: list[Any] = []
        ref = runtime.start(Introspecting, runtime, seen)
        ref.tell("text")
        runtime.advance(5)
        ref.tell(7)
        runtime.run_until_idle()
        assert seen == [("str", 0.0), ("int", 5.0)]
        assert runtime.handling is None  # test code handles nothing
