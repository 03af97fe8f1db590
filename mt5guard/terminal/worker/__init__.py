"""Terminals out of process: a worker per account, killed by PID past a deadline.

:class:`WorkerTerminal` satisfies the :class:`~mt5guard.terminal.Terminal`
protocol; its worker is ``python -m mt5guard.terminal.bridge.server`` (a local child,
or a bridge reached over TCP). See docs/operations.md, "Terminal workers".
"""

from __future__ import annotations

from mt5guard.terminal.worker.client import WorkerCallError, WorkerTerminal
from mt5guard.terminal.worker.links import BridgeLink, LocalLink, bridge_opener, local_opener

__all__ = ["BridgeLink", "LocalLink", "WorkerCallError", "WorkerTerminal", "bridge_opener",
           "local_opener"]
