"""Building benchmark trees: N simulated accounts, and waiting until they answer."""

from __future__ import annotations

import time
from collections.abc import Iterable

from mt5guard import MT5Unavailable, Session
from mt5guard.config import (
    AccountConfig,
    BackoffConfig,
    Config,
    HealthConfig,
    HttpConfig,
    ObservabilityConfig,
    SupervisionConfig,
    TerminalConfig,
)

__all__ = ["SYMBOL", "accounts_config", "process_memory_kb", "wait_answered"]

SYMBOL = "EURUSD"


def accounts_config(
    n: int,
    *,
    interval: float = 30.0,
    timeout: float = 10.0,
    jitter: float = 0.1,
) -> Config:
    """``n`` simulated accounts ``acc0000``.. trading one symbol; probes every ``interval`` s.

    The HTTP endpoint is off and status lines are off: the bench measures the
    tree, not the observability add-ons.
    """
    accounts = tuple(
        AccountConfig(
            name=f"acc{i:04d}",
            terminal=TerminalConfig(login=100_000 + i, server="MetaQuotes-Demo", seed=i + 1),
            symbols=(SYMBOL,),
        )
        for i in range(n)
    )
    return Config(
        accounts=accounts,
        supervision=SupervisionConfig(backoff=BackoffConfig(jitter=jitter)),
        health=HealthConfig(interval=interval, timeout=timeout),
        observability=ObservabilityConfig(http=HttpConfig(enabled=False), status_interval=0.0),
    )


def wait_answered(sessions: Iterable[Session], timeout: float = 120.0, poll: float = 0.002) -> None:
    """Block until every session has answered one ``get_price`` (real seconds).

    A session not started yet answers ``MT5Unavailable`` at once; it is asked
    again on the next pass.
    """
    pending = list(sessions)
    deadline = time.monotonic() + timeout
    while pending:
        still: list[Session] = []
        for session in pending:
            try:
                session.get_price(SYMBOL)
            except MT5Unavailable:
                still.append(session)
        pending = still
        if pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} sessions still unavailable after {timeout} s")
            time.sleep(poll)


def process_memory_kb() -> dict[str, int]:
    """VmRSS and VmSize of this process in KiB, from /proc/self/status (Linux)."""
    values: dict[str, int] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmSize", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values
