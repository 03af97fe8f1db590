"""Config of the order journal: where it lives, how long it looks back and keeps entries.

Every duration is float seconds.
"""

from __future__ import annotations

from typing import Final, Literal

import attrs

from mt5guard.config.values import DAY, HOUR, choice_field, documented, seconds_field, text_field

__all__ = ["MEMORY", "OrdersConfig", "Synchronous"]

#: ``state_dir`` value that keeps the journal in memory (tests; nothing survives the process).
MEMORY: Final = ":memory:"

Synchronous = Literal["FULL", "NORMAL"]
SYNCHRONOUS: Final[tuple[Synchronous, ...]] = ("FULL", "NORMAL")


@documented
@attrs.frozen(kw_only=True)
class OrdersConfig:
    """The write-ahead order journal (SQLite, one file per account) and reconciliation."""

    state_dir: str = text_field(
        "./state", "Folder of the journals (<state_dir>/<account>.journal.sqlite3); "
        ":memory: keeps them in memory (tests only: ids are then forgotten on exit).")
    synchronous: Synchronous = choice_field(
        "NORMAL", SYNCHRONOUS, "SQLite synchronous setting of the commit made just before "
        "order_send: NORMAL survives a process crash (kill -9), FULL also power loss (one fsync "
        "per order).")
    lookback: float = seconds_field(
        7 * DAY, "Seconds of terminal history searched for a client order id (1m..366 days).",
        low=60.0, high=366 * DAY)
    retention: float = seconds_field(
        7 * DAY, "Seconds a finished journal entry is kept before it is pruned (up to 3660 days).",
        high=3660 * DAY)
    recheck_after: float = seconds_field(
        30.0, "Seconds after which an unknown outcome is worth asking about again (retry_at, "
        "up to 1h).", high=HOUR)
