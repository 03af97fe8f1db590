"""``deliver``: an actor subscriber is told, a gone one is reported so it can be dropped,
a callable one is called and kept even when it raises."""

from __future__ import annotations

import logging
from typing import Any

import pykka
import pytest

from mt5guard.events.bus import deliver


class Inbox(pykka.ThreadingActor):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[Any] = []

    def on_receive(self, message: Any) -> Any:
        if message == "what did you get?":
            return list(self.got)
        self.got.append(message)
        return None


class CountingRef(pykka.ActorRef[Any]):
    """A subclass of ActorRef: told through its own ``tell``."""

    told: list[Any]

    def tell(self, message: Any) -> None:
        self.told.append(message)
        super().tell(message)


def test_a_live_actor_is_told_and_kept() -> None:
    ref = Inbox.start()
    try:
        assert deliver(ref, "one") is True
        assert deliver(ref, "two") is True
        assert ref.ask("what did you get?", timeout=5.0) == ["one", "two"]
    finally:
        ref.stop()


def test_a_stopped_actor_is_reported_gone_and_gets_nothing() -> None:
    ref = Inbox.start()
    ref.stop()
    assert deliver(ref, "late") is False
    assert ref.actor_inbox.empty()


def test_a_subclassed_ref_is_told_through_its_own_tell() -> None:
    plain = Inbox.start()
    ref = object.__new__(CountingRef)  # the same actor, behind a subclassed ref
    for name in ("actor_class", "actor_urn", "actor_inbox", "actor_stopped"):
        setattr(ref, name, getattr(plain, name))
    ref.told = []
    try:
        assert deliver(ref, "hello") is True
        assert ref.told == ["hello"]
        assert ref.ask("what did you get?", timeout=5.0) == ["hello"]
    finally:
        ref.stop()
    assert deliver(ref, "late") is False


def test_a_callable_is_called_and_kept_even_when_it_raises(
        caplog: pytest.LogCaptureFixture) -> None:
    heard: list[Any] = []
    assert deliver(heard.append, "event") is True
    assert heard == ["event"]

    def broken(_event: Any) -> None:
        raise RuntimeError("subscriber bug")

    with caplog.at_level(logging.ERROR, logger="mt5guard.events.bus"):
        assert deliver(broken, "event") is True
    assert "subscriber bug" in caplog.text
