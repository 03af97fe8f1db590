"""Fault schedules drawn from a seed, applied to simulated terminals, and shrunk."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import attrs

__all__ = ["KINDS", "LAZY", "Fault", "apply", "draw_schedule", "shrink"]

KINDS = ("link_down", "auth_revoked", "ipc_timeout", "hung_call", "terminal_restart",
         "malformed_reply", "lost_order_reply", "worker_kill")

LAZY = frozenset({"ipc_timeout", "hung_call", "lost_order_reply", "worker_kill"})
"""Kinds that strike the account's next call of a kind, not at ``at``."""

_HANGABLE = ("symbol_info_tick", "account_info", "terminal_info", "order_send", "positions_get")


@attrs.frozen
class Fault:
    """One fault: ``kind`` on ``account`` at ``at`` simulated seconds, lasting ``seconds``."""

    at: float
    account: str
    kind: str
    seconds: float = 0.0
    call: str = ""
    executed: bool = True

    def __str__(self) -> str:
        extra = f" {self.call}" if self.call else ""
        extra += "" if self.executed else " not-executed"
        return f"{self.at:>9.0f}s {self.account} {self.kind} {self.seconds:g}s{extra}"


def draw_schedule(seed: int, accounts: Sequence[str], days: float,
                  mean_gap: float = 3 * 3600.0) -> tuple[Fault, ...]:
    """Faults at random times in the first ``days`` minus six quiet hours.

    ``mean_gap`` is the mean time (seconds) between two faults of one account.
    """
    rng = random.Random(f"faults:{seed}")
    end = max(0.0, days * 86_400.0 - 6 * 3600.0)
    faults: list[Fault] = []
    for account in accounts:
        at = rng.expovariate(1.0 / mean_gap)
        while at < end:
            kind = rng.choice(KINDS)
            seconds = {
                "link_down": rng.choice((5.0, 45.0, 300.0, 1800.0)),
                "auth_revoked": rng.choice((60.0, 900.0)),
                "ipc_timeout": rng.choice((1.0, 3.0)),
                "hung_call": rng.choice((20.0, 120.0, 900.0)),
                "terminal_restart": rng.choice((0.0, 30.0, 240.0)),
                "malformed_reply": rng.choice((30.0, 300.0)),
                "lost_order_reply": 0.0,
                "worker_kill": 0.0,
            }[kind]
            call = rng.choice(_HANGABLE) if kind in ("ipc_timeout", "hung_call") else ""
            call = rng.choice(("", "order_send")) if kind == "worker_kill" else call
            executed = rng.random() < 0.7 if kind in ("lost_order_reply", "worker_kill") else True
            faults.append(Fault(round(at, 3), account, kind, seconds, call, executed))
            at += rng.expovariate(1.0 / mean_gap)
    faults.sort(key=lambda f: (f.at, f.account))
    return tuple(faults)


def apply(fault: Fault, terminal: Any, later: Callable[[float, Callable[[], None]], None]) -> None:
    """Start ``fault`` on ``terminal``; ``later(delay, undo)`` schedules its end."""
    kind = fault.kind
    if kind == "link_down":
        terminal.disconnect(for_seconds=fault.seconds)
    elif kind == "auth_revoked":
        terminal.revoke_auth()
        later(fault.seconds, terminal.restore_auth)
    elif kind in ("ipc_timeout", "hung_call"):
        terminal.hang_next(fault.call, fault.seconds)
    elif kind == "terminal_restart":
        terminal.restart(downtime=fault.seconds)
    elif kind == "malformed_reply":
        terminal.garble = True
        later(fault.seconds, lambda: setattr(terminal, "garble", False))
    elif kind == "lost_order_reply":
        terminal.lose_next_order_reply(executed=fault.executed)
    elif kind == "worker_kill":
        terminal.kill_worker(executed=fault.executed, call=fault.call)
    else:  # pragma: no cover - KINDS and this function change together
        raise ValueError(f"unknown fault kind {kind!r}")


def shrink(schedule: Sequence[Fault], fails: Callable[[tuple[Fault, ...]], bool],
           budget: int = 60) -> tuple[Fault, ...]:
    """A smaller schedule that still fails: drop halves, then single faults (greedy)."""
    current = tuple(schedule)
    chunk = max(1, len(current) // 2)
    while chunk >= 1 and budget > 0:
        index, progressed = 0, False
        while index < len(current) and budget > 0:
            candidate = current[:index] + current[index + chunk:]
            budget -= 1
            if candidate != current and fails(candidate):
                current, progressed = candidate, True
            else:
                index += chunk
        if not progressed:
            chunk //= 2
    return current
