"""A small mt5guard process for the crash-point tests: start a tree, place one order, stop.

``python crash_child.py STATE_DIR LEDGER CLIENT_ORDER_ID`` places a 0.1-lot
EURUSD buy with that id through ``mt5guard.start`` and prints ``OUTCOME
<json>`` or ``ERROR <type>: <message>``. The simulated terminal keeps its book
in LEDGER, so it outlives this process like a real trade server.

``MT5GUARD_TEST_CRASH_AT`` (read only by this script) SIGKILLs the process at
one step of the order:

- ``intent``: the intent row is committed, ``order_send`` not called yet;
- ``send``: the trade server executed the order, its reply never returns;
- ``reply``: the reply is in hand, the journal not updated yet;
- ``held``: the journal's storage refuses writes from the moment the order
  executed, so its outcome is held in memory; killed after printing it;
- ``late``: the reply is lost before the order reached the trade server (the
  caller is told the outcome is unknown); the order then fills on the server
  by itself, and the process is killed before it could look again.

Every ``OrderReconciled`` is printed as ``RECONCILED <id> <outcome> <sends>``
with the ``order_send`` calls this process had made when it was published.
``MT5GUARD_TEST_OTHER`` names a second id, placed after the first.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

import attrs

import mt5guard
from mt5guard.clock import SystemClock
from mt5guard.config import (
    AccountConfig,
    Config,
    HttpConfig,
    ObservabilityConfig,
    OrdersConfig,
    TerminalConfig,
)
from mt5guard.events.bus import EventBus
from mt5guard.orders.journal import OrderJournal
from mt5guard.orders.messages import OrderReconciled
from mt5guard.terminal import SimulatedTerminal

CRASH_AT = os.environ.get("MT5GUARD_TEST_CRASH_AT", "")


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


JOURNALS: list[OrderJournal] = []


class CrashingTerminal(SimulatedTerminal):
    late: dict[str, Any] | None = None

    def order_send(self, request: dict[str, Any]) -> Any:
        if CRASH_AT == "late":
            self.late = dict(request)
            self.lose_next_order_reply(executed=False)
        result = super().order_send(request)  # executed and saved to the ledger file
        if CRASH_AT == "send":
            die()
        if CRASH_AT == "held":  # the storage refuses every write from now on
            JOURNALS[0]._conn.execute("PRAGMA query_only = 1")
        return result


def arm_journal() -> None:
    if CRASH_AT == "intent":
        def mark_sent(self: OrderJournal, *args: Any) -> None:
            die()

        OrderJournal.mark_sent = mark_sent  # type: ignore[method-assign]
    elif CRASH_AT == "reply":
        def finish(self: OrderJournal, *args: Any) -> None:
            die()

        OrderJournal.finish = finish  # type: ignore[method-assign]


def place(guard: mt5guard.Guard, terminal: CrashingTerminal, client_order_id: str) -> None:
    try:
        outcome = guard.session("acct").place_order("EURUSD", "buy", 0.1,
                                                    client_order_id=client_order_id)
        print("OUTCOME " + json.dumps(attrs.asdict(outcome)), flush=True)
        if CRASH_AT == "held":
            die()
    except mt5guard.MT5Error as err:
        print(f"ERROR {type(err).__name__}: {err}", flush=True)
        if CRASH_AT == "late" and terminal.late is not None:
            terminal.execute_late(terminal.late)  # it fills on the server meanwhile
            die()


def main(state_dir: str, ledger: str, client_order_id: str) -> int:
    arm_journal()
    clock = SystemClock()
    config = Config(
        accounts=(AccountConfig(name="acct", symbols=("EURUSD",),
                                terminal=TerminalConfig(login=5001, server="MetaQuotes-Demo")),),
        observability=ObservabilityConfig(http=HttpConfig(enabled=False)),
        orders=OrdersConfig(state_dir=state_dir),
    )
    terminal = CrashingTerminal(clock, login=5001, server="MetaQuotes-Demo", ledger_path=ledger)
    bus = EventBus()
    bus.subscribe(lambda event: print(
        f"RECONCILED {event.client_order_id} {event.outcome} {terminal.calls['order_send']}",
        flush=True) if isinstance(event, OrderReconciled) else None)
    guard = mt5guard.start(config, clock=clock, terminals={"acct": terminal}, bus=bus)
    JOURNALS.extend(guard.journals.values())
    try:
        for cid in filter(None, (client_order_id, os.environ.get("MT5GUARD_TEST_OTHER"))):
            place(guard, terminal, cid)
    finally:
        guard.stop()
        clock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
