"""What an ended actor's inbox still gets, answered without the actor where possible."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pykka
from pykka import messages as pykka_messages

__all__ = ["Late"]

_log = logging.getLogger("pykka")  # where the glue logged it before, as pykka would


class Late:
    """Answers what an ended actor's inbox still gets: pykka's asks with ActorDeadError,
    the rest through the actor's ``on_undelivered`` (``hook``; None: dropped).

    It keeps the actor only where that hook is a method of the actor's own: with
    the default hook or a static one, the actor, its ref and its inbox are no cycle
    for the garbage collector to find (an ended account's actors are freed at once).
    """

    __slots__ = ("hook", "name")

    def __init__(self, name: str, hook: Callable[[Any], None] | None) -> None:
        self.name, self.hook = name, hook

    def __call__(self, envelope: Any) -> None:
        message, reply = envelope.message, envelope.reply_to
        if reply is not None:
            if isinstance(message, pykka_messages._ActorStop):
                reply.set(None)
            else:
                error = pykka.ActorDeadError(f"{self.name} stopped before handling the message")
                reply.set_exception(exc_info=(pykka.ActorDeadError, error, None))
            return
        if self.hook is None:
            return
        try:
            self.hook(message)
        except Exception:
            _log.exception("on_undelivered of %s failed", self.name)
