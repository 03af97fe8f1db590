"""start_actor notices every way a pykka actor can end (pins pykka internals)."""

from __future__ import annotations

import threading
from typing import Any

import pykka
import pytest

from mt5guard.supervision import ChildExited, ChildFailed, ChildSpec, Supervisor, start_actor


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


def test_a_stopped_instance_cannot_start_again() -> None:
    actor = Mortal()
    start_actor(actor, None, None).stop()
    with pytest.raises(ValueError, match="a factory must build a new actor"):
        start_actor(actor, None, None)
    assert not actor.actor_ref.is_alive()


def test_a_factory_returning_the_same_instance_fails_loudly(clock, bus, recorder) -> None:
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
