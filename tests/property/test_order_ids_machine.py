"""A Hypothesis state machine: places, retries, lost replies, link drops, reconnects,
session crashes and process restarts in any order. Invariants: never two
executions for one client order id; an outcome, once given, never changes; and
in the end every id is resolved or reported unknown with a ``retry_at``.

A process restart is a new tree on the same journal file and a new simulated
terminal on the same ledger file (the trade server outlives the process).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from storykit import PASSWORD, story_config

from mt5guard.config import OrdersConfig
from mt5guard.errors import (
    MT5CircuitBreakerOpen,
    MT5Error,
    MT5OrderOutcomeUnknown,
    MT5Unavailable,
)
from mt5guard.orders.messages import OrderOutcome
from mt5guard.orders.reconcile import comment_id
from mt5guard.session.guard import Guard, start
from mt5guard.terminal import SimulatedTerminal
from mt5guard.testing import VirtualClock


class OrderIds(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="mt5guard-machine-"))
        self.config = story_config(orders=OrdersConfig(state_dir=str(self.folder / "state")))
        self.clock = VirtualClock(settle_timeout=5.0)
        self.ids: list[str] = []
        self.outcomes: dict[str, OrderOutcome] = {}
        self.guard: Guard | None = None
        self._start()

    # the world ---------------------------------------------------------------

    def _start(self) -> None:
        self.terminal = SimulatedTerminal(self.clock, password=PASSWORD,
                                          ledger_path=str(self.folder / "ledger.json"))
        self.guard = start(self.config, clock=self.clock, terminals={"demo": self.terminal})
        self.clock.settle()

    def _ask(self, cid: str) -> Any:
        assert self.guard is not None
        try:
            answer: Any = self.guard.session("demo").place_order("EURUSD", "buy", 0.1,
                                                                 client_order_id=cid)
        except MT5Error as err:
            answer = err
        if isinstance(answer, OrderOutcome):
            first = self.outcomes.setdefault(cid, answer)
            assert (answer.order, answer.deal) == (first.order, first.deal), (first, answer)
        elif isinstance(answer, MT5OrderOutcomeUnknown):
            assert answer.retry_at is not None
        return answer

    # rules -------------------------------------------------------------------

    @rule()
    def place(self) -> None:
        cid = f"m{len(self.ids)}"
        self.ids.append(cid)
        self._ask(cid)

    @precondition(lambda self: bool(self.ids))
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        self._ask(data.draw(st.sampled_from(self.ids)))

    @rule(executed=st.booleans(), as_10012=st.booleans())
    def lose_next_reply(self, executed: bool, as_10012: bool) -> None:
        self.terminal.lose_next_order_reply(executed=executed, retcode=10012 if as_10012 else None)

    @rule()
    def drop_link(self) -> None:
        self.terminal.disconnect()

    @rule()
    def reconnect(self) -> None:
        self.terminal.reconnect_allowed()
        assert self.guard is not None
        try:
            self.guard.session("demo").reconnect()
        except MT5Error:
            pass  # the session is restarting, or the breaker is open: time will tell

    @rule()
    def session_crash(self) -> None:
        self.terminal.disconnect()
        self.clock.advance(31)  # the probe finds the link gone: the session fails
        self.terminal.reconnect_allowed()
        self.clock.advance(61)  # restarted after its backoff, journal reconciled

    @rule()
    def process_restart(self) -> None:
        assert self.guard is not None
        self.guard.stop()
        self._start()

    @rule(seconds=st.sampled_from([1.0, 30.0, 90.0]))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)

    # invariants --------------------------------------------------------------

    @invariant()
    def never_two_executions_for_one_id(self) -> None:
        executed = [comment_id(r["comment"]) for r in self.terminal.sent_orders()]
        assert len(executed) == len(set(executed)), executed

    def teardown(self) -> None:
        try:
            if self.guard is not None:
                self.terminal.reconnect_allowed()
                self.clock.advance(700)  # past any restart backoff and breaker open period
                for cid in self.ids:
                    answer = self._ask(cid)
                    for _ in range(5):
                        if not isinstance(answer, MT5CircuitBreakerOpen | MT5Unavailable):
                            break
                        self.clock.advance(120)
                        answer = self._ask(cid)
                    assert isinstance(answer, OrderOutcome | MT5OrderOutcomeUnknown), (cid, answer)
                self.never_two_executions_for_one_id()
        finally:
            if self.guard is not None:
                self.guard.stop()
            self.clock.close()
            shutil.rmtree(self.folder, ignore_errors=True)


OrderIds.TestCase.settings = settings(
    max_examples=12, stateful_step_count=12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_order_ids_machine = OrderIds.TestCase
