"""Generic supervision for pykka actors: knows nothing about MetaTrader 5.

Exports the Supervisor (one_for_one, rest_for_one; restarts with Backoff),
ChildSpec and the ChildHandle callers reach a child through, GuardedActor and
start_actor (the pykka glue, ``_pykka``: the only module touching pykka
internals) and the supervision events (``events``).
"""

from mt5guard.supervision import events
from mt5guard.supervision._backoff import Backoff
from mt5guard.supervision._handle import ChildHandle, ChildUnavailable
from mt5guard.supervision._history import RestartHistory
from mt5guard.supervision._pykka import GuardedActor, start_actor
from mt5guard.supervision._spec import ChildSpec, Restart, Strategy
from mt5guard.supervision._supervisor import ChildState, Supervisor, SupervisorGaveUpError
from mt5guard.supervision.events import *  # noqa: F403 (the events, listed there once)

__all__ = [
    "Backoff",
    "ChildHandle",
    "ChildSpec",
    "ChildState",
    "ChildUnavailable",
    "GuardedActor",
    "Restart",
    "RestartHistory",
    "Strategy",
    "Supervisor",
    "SupervisorGaveUpError",
    "start_actor",
]
__all__ += events.__all__
