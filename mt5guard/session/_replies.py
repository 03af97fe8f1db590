"""The replies of the Session facade's calls: told to an actor, or already at hand.

A call of a call family returns a :data:`Reply` (see :mod:`~mt5guard.session._core`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar, Union

from mt5guard.session._direct import Answer

__all__ = ["UNSENT", "OrderReply", "Pending", "Ready", "Reply"]

T = TypeVar("T")
R = TypeVar("R")


class Pending(Generic[T]):
    """A request told to an actor; the actor answers ``reply``.

    A read not sent yet carries ``make(reply, deadline)``, which builds its
    message: the waiting side sends it (a blocking caller through the direct
    lane, with an :class:`~mt5guard.session._direct.Answer` for its reply; an
    awaiting one to the actor).
    """

    __slots__ = ("make", "operation", "reply", "shape", "started")

    def __init__(self, operation: str, reply: Future[Any] | Answer, started: float,
                 shape: Callable[[Any], T] | None = None,
                 make: Callable[[Any, float], Any] | None = None) -> None:
        self.operation = operation
        self.reply = reply
        self.started = started  # the core clock's monotonic seconds when it was sent
        self.shape = shape  # turns the actor's answer into what the caller gets
        self.make = make

    def shaped(self, shape: Callable[[Any], R]) -> Pending[R]:
        """The same request, its answer passed through ``shape`` (``int``, ``tuple``...)."""
        return Pending(self.operation, self.reply, self.started, shape, self.make)

    def value(self, answer: Any) -> T:
        result: T = answer if self.shape is None else self.shape(answer)
        return result


class Ready(Generic[T]):
    """An answer the caller's thread has without a hop (a cached quote, a subscription)."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


Reply = Union[Pending[T], Ready[T]]  # noqa: UP007 (a generic alias: X | Y is not subscriptable)


UNSENT: Future[Any] = Future()  # a read's reply until the waiting side sends it: never set


class OrderReply(Future[Any]):
    """The reply future of an order-changing request, knowing its client order id."""

    def __init__(self, client_order_id: str) -> None:
        super().__init__()
        self.client_order_id = client_order_id
