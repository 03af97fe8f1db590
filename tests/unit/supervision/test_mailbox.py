"""An actor's inbox: order, urgent envelopes, a waiting consumer woken, and its size.

Every account has four inboxes, mostly idle, so what an idle one holds is
paid a thousand times over at 1,000 accounts (issue 21).
"""

from __future__ import annotations

import threading
import tracemalloc

import pytest

from mt5guard.supervision._mailbox import Mailbox


class _Text(str):
    """An envelope that is its own message (as a pykka envelope holds one)."""

    @property
    def message(self) -> str:
        return self


class _Urgent(_Text):
    """A message of the inbox's urgent type."""


def _text(text: str) -> _Text:
    return _Urgent(text) if text.startswith("!") or text == "urgent" else _Text(text)


def test_urgent_envelopes_come_first_in_their_order_then_the_others_in_theirs() -> None:
    inbox = Mailbox()
    inbox.urgent_types = (_Urgent,)
    for envelope in ("a", "!x", "b", "!y", "c"):
        inbox.put(_text(envelope))
    assert not inbox.empty()
    assert [inbox.get() for _ in range(3)] == ["!x", "!y", "a"]
    inbox.put(_text("!z"))
    assert [inbox.take(), inbox.take(), inbox.take(), inbox.take()] == ["!z", "b", "c", None]
    assert inbox.empty()


class _Envelope:
    def __init__(self, message: object) -> None:
        self.message = message


def test_envelopes_whose_message_is_of_an_urgent_type_come_first_in_their_order() -> None:
    inbox = Mailbox()
    inbox.urgent_types = (int, bytes)  # what a GuardedActor's urgent_messages become
    for message in ("a", 1, "b", True, b"c"):  # a bool is an int: isinstance, not type()
        inbox.put(_Envelope(message))
    assert [inbox.take().message for _ in range(5)] == [1, True, b"c", "a", "b"]
    assert inbox.take() is None


def test_a_consumer_waiting_for_an_envelope_gets_each_one_put_from_other_threads() -> None:
    inbox = Mailbox()
    received: list[tuple[int, int]] = []

    def consume() -> None:
        for _ in range(4 * 500):
            received.append(inbox.get())

    consumer = threading.Thread(target=consume)
    consumer.start()
    producers = [threading.Thread(target=lambda p=p: [inbox.put((p, n)) for n in range(500)])
                 for p in range(4)]
    for producer in producers:
        producer.start()
    for producer in producers:
        producer.join(10)
    consumer.join(10)
    assert not consumer.is_alive(), "the consumer was not woken"
    for p in range(4):  # every envelope, each producer's in the order it put them
        assert [n for q, n in received if q == p] == list(range(500))


def test_a_second_thread_waiting_in_get_is_refused_not_left_asleep() -> None:
    inbox = Mailbox()
    waiting = threading.Thread(target=inbox.get)
    waiting.start()
    while inbox._waiter is None:  # the first consumer is about to wait
        threading.Event().wait(0.001)
    with pytest.raises(RuntimeError, match="one consumer"):
        inbox.get()
    inbox.put("for the first")
    waiting.join(5)
    assert not waiting.is_alive() and inbox.empty()


def test_closing_returns_what_was_queued_and_hands_later_envelopes_to_the_handler() -> None:
    inbox = Mailbox()
    inbox.urgent_types = (_Urgent,)
    inbox.put(_text("first"))
    inbox.put(_text("urgent"))
    late: list[str] = []
    assert inbox.close(late.append) == ["urgent", "first"]
    inbox.put("late")
    assert late == ["late"] and inbox.empty()


def test_an_idle_inbox_holds_about_a_kilobyte() -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        inboxes = [Mailbox() for _ in range(200)]
        for inbox in inboxes:
            inbox.urgent_types = (_Urgent,)  # as a session's inbox: urgent ones may come
            inbox.put(_text("one"))
            inbox.get()
        per_inbox = (tracemalloc.get_traced_memory()[0] - before) / len(inboxes)
    finally:
        tracemalloc.stop()
    # with a threading.Condition and both queues made up front: ~2.8 KiB
    assert per_inbox < 1300, f"{per_inbox:.0f} bytes per idle inbox"


def test_a_put_that_raises_leaves_the_inbox_open_to_the_next_put_and_a_closed_one_answers() -> None:
    inbox = Mailbox()
    inbox.urgent_types = (_Urgent,)
    with pytest.raises(AttributeError):
        inbox.put(42)  # the urgency check fails (no message): nothing queued, the lock released
    inbox.put(_text("a"))
    assert inbox.take() == "a"
    answered: list[str] = []
    assert inbox.close(answered.append) == []
    inbox.put("late")  # answered at once by the closing handler, outside the lock
    assert answered == ["late"]
