"""The pykka glue: every contact mt5guard has with pykka internals is here.

pykka documents three methods "for implementors of new actor types":
``_create_actor_inbox``, ``_create_future`` and ``_start_actor_loop``.
:class:`GuardedActor` is such a type (a ``ThreadingActor`` by ancestry, so
``isinstance`` checks and ``use_daemon_thread`` still hold) and runs its own
loop instead of pykka's ``_actor_loop``, which gives it a contract pykka lacks:

* its end is always reported, once, to the callback given to
  :func:`start_actor`, with the exception that ended it (from ``on_start``, a
  ``tell`` handler, ``on_stop`` or ``on_failure``) or ``None`` for a stop;
* a ``BaseException`` (``SystemExit``, ``KeyboardInterrupt``...) in a handler
  stops only this actor and is reported as a failure. pykka's own loop calls
  ``ActorRegistry.stop_all()`` there, which would stop an embedding host's
  actors too;
* at its end, queued messages are answered: ``ask`` replies as pykka does,
  and every other message is handed to :meth:`GuardedActor.on_undelivered`,
  so an actor whose messages carry their own reply futures answers them;
* its inbox then stays closed: a message that arrives later (a sender that
  checked ``is_alive()`` just before the end) is answered the same way at
  once, on the sender's thread, instead of waiting for nobody;
* its inbox tells observers (:class:`InboxObserver`; the test clock) each time
  a message is put and each time the actor comes back for the next one.

Children a :class:`~mt5guard.supervision.Supervisor` starts may be plain
``pykka.ThreadingActor`` subclasses: :func:`start_actor` *adopts* them first
(:func:`adopt`, the one place that does): the instance's class becomes a
subclass of both its own class and :class:`GuardedActor`, and its empty pykka
queue is swapped for a :class:`Mailbox`. Their own methods keep precedence.

What is still pykka-internal here (and pinned by ``tests/unit/supervision/test_pykka_glue.py``
on the oldest and newest pykka 4.x we support): ``Envelope(message, reply_to)`` and
those two fields, ``messages._ActorStop``, ``Actor._handle_receive``
(dispatch of proxy calls, of the classes ``pykka.messages`` defines: any other
message goes to ``on_receive``) and the ``ActorRef.actor_inbox`` / ``actor_class``
attributes (``tell``, pykka's own steps inline, lives with ``deliver`` in
:mod:`mt5guard.events.bus`). Every other supervision module uses only pykka's public API; the
contract with loop hosts (:class:`LoopHost`, :func:`drive_until`) is in
``_hosting.py``, which touches no pykka at all.
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import pykka
from pykka import messages as pykka_messages
from pykka._envelope import Envelope

from mt5guard.events.bus import tell
from mt5guard.supervision._futures import UNREAD, _DrivenFuture
from mt5guard.supervision._hosting import (
    LoopAbandoned,
    LoopHost,
    mark_actor_thread,
)
from mt5guard.supervision._late import Late
from mt5guard.supervision._mailbox import InboxObserver, Mailbox

__all__ = [
    "GuardedActor",
    "InboxObserver",
    "Mailbox",
    "abandon",
    "adopt",
    "begin",
    "end",
    "fail_told",
    "handle",
    "is_plain_message",
    "is_stopped",
    "mailbox",
    "observe",
    "plain_receiver",
    "run_loop",
    "set_loop_host",
    "start_actor",
    "stop_unread",
    "tell",
]

_log = logging.getLogger("pykka")  # the messages pykka itself would log, on its logger

ExitCallback = Callable[[BaseException | None], None]


_thread_names = itertools.count()


class GuardedActor(pykka.ThreadingActor):
    """A pykka actor type whose end is reported and whose inbox closes (see module doc)."""

    # The glue's own per-actor state, set as plain attributes: reading or writing the
    # instance's ``__dict__`` directly makes CPython 3.11 build a real dict for it, and
    # every ``self.x`` of the actor is then looked up the slow way (about 4x slower).
    _mt5guard_host: LoopHost  # set_loop_host: runs the loop instead of a thread
    _mt5guard_started: bool  # start_actor ran
    _mt5guard_exit: ExitCallback | None  # start_actor's on_exit
    _mt5guard_failure: BaseException | None  # the first failure (None once told at the end)

    urgent_messages: ClassVar[tuple[type, ...]] = ()
    """Message types handled before every other queued message (FIFO among themselves).

    For control messages that change how the rest must be handled: a session
    stuck in a slow call learns that its breaker opened before it handles
    the requests that queued meanwhile.
    """

    @staticmethod
    def _create_actor_inbox() -> Mailbox:
        return Mailbox()

    @staticmethod
    def _create_future() -> pykka.Future[Any]:
        return _DrivenFuture()

    def _start_actor_loop(self) -> None:
        host: LoopHost | None = getattr(self, "_mt5guard_host", None)
        if host is not None:
            host.start_loop(self)
            return
        thread = threading.Thread(target=run_loop, args=(self,),
                                  name=f"{type(self).__name__}-{next(_thread_names)}")
        thread.daemon = self.use_daemon_thread
        thread.start()

    def _handle_failure(self, *exc_info: Any) -> None:
        # Every failure pykka knows of passes here (on_start, on_stop, handlers):
        # the first one is what ended the actor.
        if getattr(self, "_mt5guard_failure", None) is None:
            self._mt5guard_failure = exc_info[1]
        super()._handle_failure(*exc_info)

    def on_undelivered(self, message: Any) -> None:
        """A ``tell``-ed message this actor will never handle, because it ended.

        Runs on the actor's thread at its end for what was queued, or on the
        sender's thread for a message sent after the end. Override it to
        answer replies carried in messages; the default drops the message.
        A static method (one that needs only the message) lets the ended
        actor be freed at once: the closed inbox keeps a bound one's actor.
        """


def adopt(actor: Any) -> GuardedActor:
    """Make an unstarted ``pykka.ThreadingActor`` a :class:`GuardedActor` in place."""
    if isinstance(actor, GuardedActor):
        return actor
    if not isinstance(actor, pykka.ThreadingActor):
        raise TypeError(f"a child factory must return an unstarted pykka.ThreadingActor, got {actor!r}")
    old_inbox, mailbox = actor.actor_inbox, Mailbox()
    while not old_inbox.empty():
        mailbox.put(old_inbox.get())
    actor.__class__ = _adopted_class(type(actor))
    actor.actor_inbox = mailbox
    ref = actor.actor_ref
    ref.actor_inbox, ref.actor_class = mailbox, type(actor)
    assert isinstance(actor, GuardedActor)
    return actor


_adopted: dict[type[Any], type[GuardedActor]] = {}
_adopted_lock = threading.Lock()


def _adopted_class(cls: type[Any]) -> type[GuardedActor]:
    with _adopted_lock:
        made = _adopted.get(cls)
        if made is None:
            made = type(cls.__name__, (cls, GuardedActor), {"__module__": cls.__module__,
                                                            "__qualname__": cls.__qualname__})
            _adopted[cls] = made
        return made


def set_loop_host(actor: GuardedActor, host: LoopHost) -> None:
    """Run this unstarted actor's loop on ``host`` instead of a thread of its own."""
    actor._mt5guard_host = host


def observe(actor: GuardedActor, observer: InboxObserver) -> None:
    """Tell ``observer`` about this actor's inbox and loop from now on."""
    inbox = actor.actor_inbox
    assert isinstance(inbox, Mailbox)
    inbox.observers = (*inbox.observers, observer)


def start_actor(actor: Any, clock: Any, on_exit: ExitCallback | None) -> pykka.ActorRef[Any]:
    """Adopt and start an unstarted pykka actor instance; return its ref.

    ``clock.attach_actor(actor)`` (if ``clock`` is given) runs first, so a
    test clock can observe the inbox or host the loop. ``on_exit`` runs once
    the loop has ended, on the loop's thread, with the exception that ended
    it or ``None`` for a normal stop.
    """
    guarded = adopt(actor)
    if getattr(guarded, "_mt5guard_started", False):
        raise ValueError(f"{guarded} is already started; a factory must build a new actor")
    guarded._mt5guard_started = True
    guarded._mt5guard_exit = on_exit
    urgent = type(guarded).urgent_messages
    if urgent:
        inbox = guarded.actor_inbox
        assert isinstance(inbox, Mailbox)
        inbox.urgent_types = urgent
    if clock is not None:
        clock.attach_actor(guarded)
    pykka.ActorRegistry.register(guarded.actor_ref)
    guarded._start_actor_loop()
    ref: pykka.ActorRef[Any] = guarded.actor_ref
    return ref


def stop_unread(ref: pykka.ActorRef[Any]) -> None:
    """``ref.stop(block=False)`` for a sender that drops the future it returns.

    The same envelope (``_ActorStop`` with a reply, which the actor, or its closed
    inbox, answers as before), without the two futures pykka builds for it (a
    ``threading.Condition`` each): a supervisor stops a sibling at every group restart.
    As there, nothing is sent once the actor has stopped.
    """
    if type(ref) is not pykka.ActorRef:
        ref.stop(block=False)
    elif ref.is_alive():
        ref.actor_inbox.put(Envelope(pykka_messages._ActorStop(), reply_to=UNREAD))


# The loop, in three parts so that a single-threaded host can step it ----------


def mailbox(actor: GuardedActor) -> Mailbox:
    """The actor's inbox: the :class:`Mailbox` a GuardedActor always has."""
    inbox = actor.actor_inbox
    assert isinstance(inbox, Mailbox)
    return inbox


def is_stopped(actor: GuardedActor) -> bool:
    """The actor stopped or failed: its loop must not take another message."""
    return actor.actor_stopped.is_set()


def abandon(actor: GuardedActor) -> None:
    """Mark the actor stopped and unregister it, running none of its hooks.

    For a loop host dropping actors it will never run again (the runtime's close).
    """
    actor.actor_stopped.set()
    pykka.ActorRegistry.unregister(actor.actor_ref)


def run_loop(actor: GuardedActor) -> None:
    """The whole loop on the calling thread: begin, handle until stopped, end."""
    mark_actor_thread(actor)
    try:
        begin(actor)
        inbox = actor.actor_inbox
        while not is_stopped(actor):
            handle(actor, inbox.get())
    except LoopAbandoned:
        return
    end(actor)


def begin(actor: GuardedActor) -> None:
    """Tell the observers the loop starts, then run ``on_start``."""
    for observer in _observers(actor):
        observer.loop_started()
    try:
        actor.on_start()
    except LoopAbandoned:
        raise
    except BaseException:
        _fail(actor, with_hook=False)


# pykka's own messages (stop, proxy calls): every class its messages module defines
_PYKKA_MESSAGES = tuple(v for v in vars(pykka_messages).values()
                        if isinstance(v, type) and v.__module__ == pykka_messages.__name__)
_PYKKA_RECEIVE = pykka.Actor._handle_receive
# What handle() learned, per message type: not one of pykka's own (on_receive takes it);
# per actor class: pykka's _handle_receive, not an override of it.
_plain_messages: dict[type, bool] = {}
_plain_actors: dict[type, bool] = {}


def handle(actor: GuardedActor, envelope: Any) -> None:
    """Handle one envelope as pykka does, except that nothing stops other actors.

    A message that pykka's ``_handle_receive`` would only pass on to
    ``on_receive`` goes there directly (what it is is learned once per type):
    the same call, without its four type tests on every message.
    """
    message = envelope.message
    try:
        if _plain_messages.get(type(message)) and _plain_actors.get(type(actor)):
            response = actor.on_receive(message)
        else:
            response = _receive(actor, message)
        if envelope.reply_to is not None:
            envelope.reply_to.set(response)
    except LoopAbandoned:
        raise
    except Exception:
        if envelope.reply_to is not None:
            _log.info(f"Exception returned from {actor} to caller:", exc_info=sys.exc_info())
            envelope.reply_to.set_exception()
        else:
            _fail(actor, with_hook=True)
    except BaseException:
        if envelope.reply_to is not None:
            envelope.reply_to.set_exception()
        _fail(actor, with_hook=True)


is_plain_message = _plain_messages.get
"""Whether :func:`handle` found that messages of this type go to ``on_receive`` as they are
(None: not learned yet; a loop host then hands the envelope to :func:`handle`)."""


def plain_receiver(actor: GuardedActor) -> Callable[[Any], Any] | None:
    """``actor.on_receive`` if pykka's dispatch hands it every plain message, else None.

    With :func:`is_plain_message` and :func:`fail_told`, what a loop host needs to do
    :func:`handle`'s work for a told plain message itself (one Python call less a message).
    """
    return actor.on_receive if type(actor)._handle_receive is _PYKKA_RECEIVE else None


def fail_told(actor: GuardedActor) -> None:
    """In an ``except`` block: a told message's handler raised; what :func:`handle` does then."""
    _fail(actor, with_hook=True)


def _receive(actor: GuardedActor, message: Any) -> Any:
    """pykka's dispatch (``_handle_receive``), learning what :func:`handle` may skip."""
    kind = type(message)
    if kind not in _plain_messages and message.__class__ is kind:  # not a proxy posing as one
        _plain_messages[kind] = not issubclass(kind, _PYKKA_MESSAGES)
    cls = type(actor)
    if cls not in _plain_actors:
        _plain_actors[cls] = cls._handle_receive is _PYKKA_RECEIVE
    return actor._handle_receive(message)


def end(actor: GuardedActor) -> None:
    """Close the inbox, answer what it held, report the end, tell the observers."""
    inbox = actor.actor_inbox
    assert isinstance(inbox, Mailbox)
    hook = actor.on_undelivered  # bound: keeps the actor; the default or a static one: not
    late = Late(str(actor.actor_ref),
                None if type(actor).on_undelivered is GuardedActor.on_undelivered else hook)
    for envelope in inbox.close(late):
        late(envelope)
    on_exit = getattr(actor, "_mt5guard_exit", None)
    failure: BaseException | None = getattr(actor, "_mt5guard_failure", None)
    actor._mt5guard_exit = None  # told once; its failure's traceback holds this actor
    actor._mt5guard_failure = None
    if on_exit is not None:
        on_exit(failure)
    del failure
    for observer in _observers(actor):
        observer.loop_ended()
    inbox.observers = ()  # nothing runs here any more: they would only keep the actor


def _observers(actor: GuardedActor) -> tuple[InboxObserver, ...]:
    inbox = actor.actor_inbox
    return inbox.observers if isinstance(inbox, Mailbox) else ()


def _fail(actor: GuardedActor, *, with_hook: bool) -> None:
    """Record the first failure, stop this actor only, and call ``on_failure``."""
    exc_info = sys.exc_info()
    actor._handle_failure(*exc_info)  # logs, unregisters, sets actor_stopped
    if not with_hook:
        return
    try:
        actor.on_failure(*exc_info)
    except LoopAbandoned:
        raise
    except BaseException:
        actor._handle_failure(*sys.exc_info())
