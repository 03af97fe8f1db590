"""The pykka glue: every end noticed, nothing left waiting, nothing global stopped.

These tests pin the pykka internals the glue relies on; CI runs them on the
oldest and newest pykka 4.x we support.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import weakref
from typing import Any

import pykka
import pytest
from pykka import messages as pykka_messages
from pykka._envelope import Envelope
from pykka.messages import ProxyCall

from mt5guard.supervision import (
    ChildExited,
    ChildFailed,
    ChildSpec,
    GuardedActor,
    Supervisor,
    start_actor,
)
from mt5guard.supervision._pykka import Mailbox, adopt, observe, stop_unread


class Mortal(pykka.ThreadingActor):
    def __init__(self, fail_start: bool = False) -> None:
        super().__init__()
        self.fail_start = fail_start

    def on_start(self) -> None:
        if self.fail_start:
            raise RuntimeError("cannot start")

    def on_receive(self, message: Any) -> Any:
        if message == "crash":
            raise RuntimeError("crashed")
        if message == "leave":
            self.stop()
        if message == "question":
            raise ValueError("for the caller")
        return None


def ended(actor: pykka.ThreadingActor, then: Any = None) -> BaseException | str | None:
    done = threading.Event()
    seen: list[BaseException | None] = []

    def on_exit(error: BaseException | None) -> None:
        seen.append(error)
        done.set()

    ref = start_actor(actor, None, on_exit)
    if callable(then):
        then(ref)
    assert done.wait(5), "the end was not noticed"
    return seen[0]


def test_failing_on_start_is_noticed_with_its_error() -> None:
    error = ended(Mortal(fail_start=True))
    assert isinstance(error, RuntimeError) and str(error) == "cannot start"


def test_failing_tell_handler_is_noticed() -> None:
    error = ended(Mortal(), lambda ref: ref.tell("crash"))
    assert isinstance(error, RuntimeError) and str(error) == "crashed"


def test_stopping_itself_and_being_stopped_end_without_error() -> None:
    assert ended(Mortal(), lambda ref: ref.tell("leave")) is None
    assert ended(Mortal(), lambda ref: ref.stop()) is None


def test_an_ask_that_raises_is_the_callers_problem_not_an_end() -> None:
    exits: list[Any] = []
    ref = start_actor(Mortal(), None, exits.append)
    with pytest.raises(ValueError):
        ref.ask("question")
    assert ref.is_alive() and exits == []
    ref.stop()
    assert exits == [None]


def test_a_factory_must_return_a_new_threading_actor() -> None:
    with pytest.raises(TypeError, match=r"unstarted pykka\.ThreadingActor"):
        start_actor(object(), None, None)
    actor = Mortal()
    ref = start_actor(actor, None, None)
    with pytest.raises(ValueError, match="already started"):
        start_actor(actor, None, None)
    ref.stop()


class Doomed(Mortal):
    def on_receive(self, message: Any) -> Any:
        if message == "exit the process":
            raise SystemExit(3)
        return super().on_receive(message)


def test_a_base_exception_stops_only_that_actor_and_counts_as_a_failure() -> None:
    bystander = pykka.ThreadingActor.start()
    try:
        error = ended(Doomed(), lambda ref: ref.tell("exit the process"))
        assert isinstance(error, SystemExit)
        assert bystander.is_alive()  # pykka's own loop would have called stop_all()
        assert bystander.ask("anything", timeout=5) is None
    finally:
        bystander.stop()


class Keeper(GuardedActor):
    """Records what it was sent but never handled."""

    def __init__(self) -> None:
        super().__init__()
        self.undelivered: list[Any] = []
        self.threads: list[str] = []
        self.gate = threading.Event()

    def on_receive(self, message: Any) -> Any:
        if message == "wait at the gate":
            self.gate.wait(5)
        return None

    def on_undelivered(self, message: Any) -> None:
        self.undelivered.append(message)
        self.threads.append(threading.current_thread().name)


def test_queued_and_late_messages_reach_on_undelivered_and_asks_are_answered() -> None:
    actor = Keeper()
    exits: list[Any] = []
    gone = threading.Event()
    ref = start_actor(actor, None, lambda error: (exits.append(error), gone.set()))
    ref.tell("wait at the gate")
    ref.stop(block=False)
    ref.tell("queued behind the stop")
    question = ref.ask("queued question", block=False)
    actor.gate.set()
    with pytest.raises(pykka.ActorDeadError):
        question.get(timeout=5)
    assert gone.wait(5) and exits == [None]
    # A sender that saw the actor alive a moment before its end puts its
    # message into the closed inbox: it is answered at once, on that thread.
    ref.actor_inbox.put(Envelope("late"))
    late_question: pykka.Future[Any] = pykka.ThreadingFuture()
    ref.actor_inbox.put(Envelope("late question", reply_to=late_question))
    with pytest.raises(pykka.ActorDeadError):
        late_question.get(timeout=0)
    assert actor.undelivered == ["queued behind the stop", "late"]
    assert actor.threads[1] == threading.current_thread().name


def test_a_stopped_instance_cannot_start_again() -> None:
    actor = Mortal()
    exits: list[Any] = []
    ref = start_actor(actor, None, exits.append)
    ref.stop()
    with pytest.raises(ValueError, match="already started"):
        start_actor(actor, None, None)
    assert exits == [None]


def test_a_plain_threading_actor_is_adopted_and_keeps_its_own_methods() -> None:
    actor = Mortal()
    ref = start_actor(actor, None, None)
    try:
        assert isinstance(actor, GuardedActor) and isinstance(actor, Mortal)
        assert type(actor).__name__ == "Mortal" and ref.actor_class is type(actor)
        with pytest.raises(ValueError, match="for the caller"):
            ref.ask("question", timeout=5)
        assert ref.proxy().fail_start.get(timeout=5) is False  # proxies still work
    finally:
        ref.stop()


def test_the_inbox_tells_its_observers_about_puts_and_returns() -> None:
    seen: list[str] = []

    class Observer:
        def put(self) -> None:
            seen.append("put")

        def returned(self) -> None:
            seen.append("returned")

        def loop_started(self) -> None:
            seen.append("started")

        def loop_ended(self) -> None:
            seen.append("ended")

    class Attaching:
        def attach_actor(self, actor: Any) -> None:
            observe(actor, Observer())

    ref = start_actor(Mortal(), Attaching(), None)
    ref.ask("ping", timeout=5)
    ref.stop()
    assert seen[:2] == ["started", "returned"]
    assert seen[-1] == "ended" and seen.count("put") == 2


def test_a_factory_returning_the_same_instance_fails_loudly(clock, bus, recorder) -> None:  # type: ignore[no-untyped-def]
    """The restart is reported as the factory's mistake, not as a clean exit."""
    only = Mortal()
    ref = Supervisor.start("sup", [ChildSpec("m", lambda: only)], clock=clock, bus=bus)
    clock.settle()
    only.actor_ref.tell("crash")
    clock.advance(60)
    failures = [e.error for e in recorder.of(ChildFailed)]
    assert len(failures) == 2 and "a factory must build a new actor" in failures[1]
    assert not recorder.of(ChildExited)
    ref.stop()


# The pykka internals the glue relies on (docs/pykka.md), one test each, so a
# pykka release that changes one fails here by name.


class Plain(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        return ("received", message)

    def double(self, x: int) -> int:
        return 2 * x


def test_pykka_builds_the_inbox_with_the_hook_and_the_ref_copies_class_inbox_and_flag() -> None:
    actor = Keeper()  # a GuardedActor, not started
    ref = actor.actor_ref
    assert isinstance(actor.actor_inbox, Mailbox)
    assert ref.actor_inbox is actor.actor_inbox and ref.actor_stopped is actor.actor_stopped
    assert ref.actor_class is Keeper and isinstance(actor.actor_stopped, threading.Event)


def test_pykka_asks_the_ref_actor_class_for_the_reply_future() -> None:
    actor = adopt(Plain())
    actor.actor_ref.ask("question", block=False)
    envelope = actor.actor_inbox.get()
    assert type(envelope.reply_to).__name__ == "_DrivenFuture"
    assert envelope.message == "question"


def test_pykka_tell_puts_an_envelope_and_refuses_once_the_flag_is_set() -> None:
    actor = adopt(Plain())
    actor.actor_ref.tell("hello")
    envelope = actor.actor_inbox.get()
    assert isinstance(envelope, Envelope) and envelope.reply_to is None
    actor.actor_stopped.set()
    with pytest.raises(pykka.ActorDeadError):
        actor.actor_ref.tell("too late")


def test_pykka_handle_receive_dispatches_stop_proxy_calls_and_the_rest() -> None:
    actor = adopt(Plain())
    assert actor._handle_receive("x") == ("received", "x")
    assert actor._handle_receive(ProxyCall(attr_path=("double",), args=(4,), kwargs={})) == 8
    actor._handle_receive(pykka_messages._ActorStop())
    assert actor.actor_stopped.is_set()


def test_pykka_handle_failure_sets_the_flag_and_unregisters() -> None:
    actor = adopt(Plain())
    pykka.ActorRegistry.register(actor.actor_ref)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        actor._handle_failure(*sys.exc_info())
    assert actor.actor_stopped.is_set()
    assert actor.actor_ref not in pykka.ActorRegistry.get_all()
    assert isinstance(actor.__dict__["_mt5guard_failure"], RuntimeError)


def test_pykka_stop_asks_the_internal_stop_message() -> None:
    actor = adopt(Plain())
    actor.actor_ref.stop(block=False)
    assert isinstance(actor.actor_inbox.get().message, pykka_messages._ActorStop)


def test_stop_unread_sends_the_stop_message_with_a_reply_nobody_reads() -> None:
    assert ended(Mortal(), stop_unread) is None
    actor = adopt(Plain())
    stop_unread(actor.actor_ref)
    envelope = actor.actor_inbox.get()
    assert isinstance(envelope.message, pykka_messages._ActorStop)
    envelope.reply_to.set(None)
    envelope.reply_to.set_exception((RuntimeError, RuntimeError("late"), None))
    envelope.reply_to.set(None)  # one reply serves every such stop
    actor.actor_stopped.set()
    stop_unread(actor.actor_ref)  # as ref.stop(block=False): nothing sent to a stopped actor
    assert actor.actor_inbox.empty()


def test_an_actor_knows_its_own_loop_thread_and_other_threads_are_not_loops() -> None:
    from mt5guard.supervision._hosting import on_actor_thread, runs_own_loop

    class Asks(pykka.ThreadingActor):
        def on_receive(self, message: Any) -> Any:
            other = message
            return on_actor_thread(), runs_own_loop(self), runs_own_loop(other)

    one, two = Asks(), Asks()
    first, second = start_actor(one, None, None), start_actor(two, None, None)
    try:
        assert first.ask(two) == (True, True, False)
        assert (on_actor_thread(), runs_own_loop(one)) == (False, False)
        seen: list[bool] = []
        plain = threading.Thread(target=lambda: seen.append(on_actor_thread()))
        plain.start()
        plain.join(5)
        assert seen == [False]
    finally:
        first.stop()
        second.stop()


def test_handle_takes_pykkas_own_messages_the_generic_way_and_honours_an_override() -> None:
    from mt5guard.supervision._pykka import handle

    actor = adopt(Plain())
    for _ in range(2):  # the second time from what handle() learned the first
        handle(actor, Envelope("x", reply_to=(said := pykka.ThreadingFuture[Any]())))
        assert said.get(timeout=1) == ("received", "x")
        call = ProxyCall(attr_path=("double",), args=(4,), kwargs={})
        handle(actor, Envelope(call, reply_to=(doubled := pykka.ThreadingFuture[Any]())))
        assert doubled.get(timeout=1) == 8

    class Routes(Plain):
        def _handle_receive(self, message: Any) -> Any:
            return ("routed", message)

    routed = adopt(Routes())
    for _ in range(2):
        handle(routed, Envelope("x", reply_to=(answer := pykka.ThreadingFuture[Any]())))
        assert answer.get(timeout=1) == ("routed", "x")
    handle(actor, Envelope(pykka_messages._ActorStop()))
    assert actor.actor_stopped.is_set()


class _Crash(Exception):
    """A failure a test can hold a weak reference to."""


class _Crasher(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        raise _Crash(f"crashed on {message!r}")


def test_a_failure_is_freed_once_its_end_is_noticed_without_the_garbage_collector() -> None:
    # The failure's traceback holds the actor's frames, and so the actor; were the actor
    # to keep the failure too, only the collector would free it and every frame in it.
    # (Log records are off: pytest's capture would keep the logged failure itself.)
    before = set(threading.enumerate())
    freed: list[weakref.ref[BaseException]] = []
    done = threading.Event()

    def on_exit(error: BaseException | None) -> None:
        assert error is not None
        freed.append(weakref.ref(error))
        done.set()

    was = gc.isenabled()
    gc.disable()
    logging.disable(logging.CRITICAL)
    try:
        start_actor(_Crasher(), None, on_exit).tell("boom")
        assert done.wait(5), "the end was not noticed"
        for thread in set(threading.enumerate()) - before:
            thread.join(5)
        assert freed[0]() is None
    finally:
        logging.disable(logging.NOTSET)
        if was:
            gc.enable()


class _Urgent:
    pass


class _MoreUrgent(_Urgent):
    pass


class Prioritising(GuardedActor):
    urgent_messages = (_Urgent,)

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Any] = []

    def on_receive(self, message: Any) -> Any:
        self.seen.append(message)


def test_urgent_messages_queued_behind_others_are_handled_first_subclasses_too() -> None:
    from mt5guard.testing import DeterministicRuntime

    with DeterministicRuntime(seed=0) as runtime:
        actor = Prioritising()
        ref = start_actor(actor, runtime, None)
        first, second = _Urgent(), _MoreUrgent()
        for message in ("a", first, "b", second):
            ref.tell(message)
        runtime.run_until_idle()
        assert actor.seen == [first, second, "a", "b"]
