"""One bridge session: its requests go to its own child worker.

Standard library only, like :mod:`mt5guard.terminal.bridge.server`.
"""

from __future__ import annotations

import json
import math
import sys
import time
from multiprocessing import connection as mpc
from typing import Any

__all__ = ["Relay"]


if __package__:
    from mt5guard.terminal.bridge._siblings import sibling as _sibling
else:  # loaded by path: server.py, run as a plain file, loaded the loader first
    _sibling = sys.modules["_mt5guard_siblings"].sibling


class Relay:
    """One authenticated client session and its worker.

    One request is in flight at a time; while it is, frames from the worker
    are relayed as they come: the reply ends the wait, pushed quote rounds
    (``["push", ...]``) and late replies pass through to the client. Between
    requests pushes are relayed too. A worker that dies ends the session
    (the client reconnects in ``initialize``). A client frame above the
    request cap ends the session after a typed error; a malformed request
    (not JSON, a budget that is not a finite number) is answered with one.
    """

    def __init__(self, client: Any, spec: dict[str, Any]) -> None:
        self.client, self.spec = client, spec
        self.worker: Any = None
        self.pending: tuple[Any, float, float] | None = None  # (id, deadline, budget_s)
        self._processes = _sibling("_processes")
        self._channel = _sibling("_channel")
        self._binary_ident = _sibling("_shapes").binary_ident

    def run(self) -> None:
        try:
            while True:
                self._step()
        except self._channel.FrameTooLarge as exc:
            try:
                self._send(["error", None, f"FrameTooLarge: {exc}"])
            except OSError:
                pass
        except (EOFError, OSError):
            pass  # the client went away (or its worker died); its worker goes with it
        finally:
            self._drop()
            self.client.close()

    def _drop(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker.reap()
            self.worker.conn.close()
            self.worker = None

    def _send(self, reply: list[Any]) -> None:
        self.client.send_bytes(json.dumps(reply).encode())

    def _step(self) -> None:
        waiting: list[Any] = [] if self.pending is not None else [self.client]
        if self.worker is not None:
            waiting.append(self.worker.conn)
        timeout = None if self.pending is None else max(0.0, self.pending[1] - time.monotonic())
        ready = [c for c in waiting if c.pending()] or mpc.wait(waiting, timeout)
        if self.worker is not None and self.worker.conn in ready:
            self._from_worker(self.worker)
        elif self.pending is not None and time.monotonic() >= self.pending[1]:
            ident, _, budget = self.pending
            pid = self.worker.pid if self.worker is not None else None
            self.pending = None
            self._drop()  # hung past its budget: kill this session's child only
            self._send(["timeout", ident, f"no reply within {budget:g} s; the bridge killed "
                                          f"worker pid {pid}"])
        if self.client in ready:
            self._one(self.client.recv_bytes())

    def _from_worker(self, worker: Any) -> None:
        try:
            raw = worker.conn.recv_bytes()
        except (EOFError, OSError):
            self._drop()
            if self.pending is not None:
                self._send(["lost", self.pending[0], f"the session's worker pid {worker.pid} died"])
            raise EOFError("the session's worker died") from None
        if self.pending is not None and not raw.startswith(b'["push"'):
            ident = self._binary_ident(raw)  # the usual reply, binary (protocol 4)
            if ident is None:
                try:
                    ident = json.loads(raw)[1]
                except (ValueError, TypeError, IndexError, KeyError, RecursionError):
                    ident = None
            if ident == self.pending[0]:
                self.pending = None
        self.client.send_bytes(raw)

    def _one(self, raw: bytes) -> None:
        try:
            request = json.loads(raw, parse_constant=_refuse_constant)
            ident, budget = request[1], float(request[3])
            if not math.isfinite(budget) or budget < 0:
                raise ValueError("the budget must be a finite number of seconds >= 0")
        except (ValueError, TypeError, IndexError, KeyError, RecursionError) as exc:
            self._send(["error", None, f"RequestRefused: malformed request ({exc})"[:300]])
            return
        if self.worker is None:
            try:
                self.worker = self._processes.spawn_worker(self.spec)
            except Exception as exc:
                self._send(["lost", ident, f"the bridge could not start a worker: {exc}"])
                return
        worker = self.worker
        try:
            worker.conn.send_bytes(raw)
        except (EOFError, OSError):
            self._drop()
            self._send(["lost", ident, f"the session's worker pid {worker.pid} died"])
            raise EOFError("the session's worker died") from None
        self.pending = (ident, time.monotonic() + budget, budget)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number this wire carries")


