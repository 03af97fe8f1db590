"""A Hypothesis state machine on the deterministic runtime: a few client order ids sent
and resent in any order with lost replies of every kind, sends slower than the
caller's ``request_timeout``, link drops and reconnects (issue 17).

Every answer is checked against the trade server's own records:

- at most one execution per id, ever;
- "filled" (an OrderOutcome) means the id has exactly one deal, that one;
- any other answer but "unknown" (retryable or a final "no") means the id has
  no deal; MT5Unavailable, MT5CircuitBreakerOpen and MT5RateLimited say the
  call was not handled at all, so they promise only that this attempt
  executed nothing;
- an id whose last answer was retryable still has no deal once every send in
  flight has finished;
- at the end, with the link back and time gone by, every id that has a deal is
  answered with exactly that deal, and no id without one is answered filled.

Time is the runtime's: a slow send outlives ``request_timeout`` (5 s) without
any real waiting, and the seed that picks the actors' interleaving is drawn too.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from storykit import story_config

from mt5guard.config import MEMORY, OrdersConfig
from mt5guard.errors import (
    MT5CircuitBreakerOpen,
    MT5Error,
    MT5OrderOutcomeUnknown,
    MT5RateLimited,
    MT5Unavailable,
)
from mt5guard.orders.messages import OrderOutcome
from mt5guard.orders.reconcile import comment_id
from mt5guard.session.guard import Guard, start
from mt5guard.terminal import SimulatedTerminal
from mt5guard.testing import DeterministicRuntime

IDS = ("a", "b", "c")
REQUEST_TIMEOUT = 5.0
NOT_HANDLED = (MT5Unavailable, MT5CircuitBreakerOpen, MT5RateLimited)
#: How a reply gets lost: (retcode, last_error) - None/None is the IPC timeout (-10005).
LOST = st.sampled_from([
    (None, None), (10012, None), (99999, None), (0, None),
    (None, (1, "Success")), (None, (-1, "Terminal: Call failed")),
    (None, (-3, "Terminal: Out of memory")),
    (None, (-10003, "IPC initialize failed, MetaTrader 5 x64 not found")),
])


class SlowSends(SimulatedTerminal):
    """The next ``order_send`` takes ``slow`` seconds of clock time, then goes through."""

    slow = 0.0

    def order_send(self, request: dict[str, Any]) -> Any:
        delay, self.slow = self.slow, 0.0
        if delay:
            self._clock.sleep(delay)
        return super().order_send(request)


class OrderAnswers(RuleBasedStateMachine):
    runtime: DeterministicRuntime
    guard: Guard
    terminal: SlowSends

    @initialize(seed=st.integers(0, 10_000))
    def start_tree(self, seed: int) -> None:
        self.runtime = DeterministicRuntime(seed).__enter__()
        config = story_config(request_timeout=REQUEST_TIMEOUT,
                              orders=OrdersConfig(state_dir=MEMORY))
        term = config.accounts[0].terminal
        self.terminal = SlowSends(self.runtime.clock, login=term.login,
                                  password=term.password.reveal(), server=term.server)
        self.guard = start(config, clock=self.runtime.clock, terminals={"demo": self.terminal})
        self.volume = {cid: 0.1 * (n + 1) for n, cid in enumerate(IDS)}
        self.last_answer: dict[str, Any] = {}

    # the trade server's records ----------------------------------------------------------

    def executed(self, cid: str) -> list[dict[str, Any]]:
        return [r for r in self.terminal.sent_orders() if comment_id(r["comment"]) == cid]

    def deal_order(self, cid: str) -> int:
        """The order ticket of the one deal carrying ``cid``."""
        deals = [d for d in self.terminal._ledger.deals if comment_id(d.comment) == cid]
        assert len(deals) == 1, (cid, deals)
        return int(deals[0].order)

    # asking ----------------------------------------------------------------------------

    def ask(self, cid: str) -> Any:
        before = len(self.executed(cid))
        try:
            answer: Any = self.guard.session("demo").place_order(
                "EURUSD", "buy", self.volume[cid], client_order_id=cid)
        except MT5Error as err:
            answer = err
        after = len(self.executed(cid))
        self.last_answer[cid] = answer
        if isinstance(answer, OrderOutcome):
            assert after == 1 and answer.order == self.deal_order(cid), (cid, answer)
        elif isinstance(answer, NOT_HANDLED):
            assert after == before, (cid, answer)  # this attempt executed nothing
        elif not isinstance(answer, MT5OrderOutcomeUnknown):
            # retryable or a final "no": the id has no deal at all
            assert after == 0, (cid, answer)
        return answer

    # rules -------------------------------------------------------------------------------

    @rule(cid=st.sampled_from(IDS))
    def send(self, cid: str) -> None:
        self.ask(cid)

    @rule(cid=st.sampled_from(IDS), executed=st.booleans(), how=LOST)
    def send_and_lose_the_reply(self, cid: str, executed: bool,
                                how: tuple[int | None, Any]) -> None:
        """The next order_send of any id (this one's, unless it is known) loses its reply."""
        retcode, last_error = how
        self.terminal.lose_next_order_reply(executed=executed, retcode=retcode,
                                            last_error=last_error)
        self.ask(cid)

    @rule(seconds=st.sampled_from([REQUEST_TIMEOUT + 1, 60.0]))
    def next_send_outlives_the_caller(self, seconds: float) -> None:
        self.terminal.slow = seconds

    @rule()
    def drop_link(self) -> None:
        self.terminal.disconnect()

    @rule()
    def link_back(self) -> None:
        self.terminal.reconnect_allowed()

    @rule(seconds=st.sampled_from([1.0, 30.0, 120.0]))
    def time_passes(self, seconds: float) -> None:
        self.runtime.advance(seconds)

    # invariants --------------------------------------------------------------------------

    @invariant()
    def at_most_one_execution_per_id(self) -> None:
        if hasattr(self, "terminal"):
            for cid in IDS:
                assert len(self.executed(cid)) <= 1, cid

    def teardown(self) -> None:
        if not hasattr(self, "runtime"):
            return
        try:
            self.terminal.restore()  # no more faults: the link is back
            self.terminal.slow = 0.0
            self.runtime.advance(900)  # past restarts, breaker periods and slow sends
            for cid, last in self.last_answer.items():  # nothing went after a "retryable"
                if isinstance(last, MT5Error) and last.retryable and not isinstance(
                        last, NOT_HANDLED):
                    assert not self.executed(cid), (cid, last)
            for cid in IDS:
                answer = self.ask(cid)
                for _ in range(5):  # the session may still be starting or the breaker open
                    if not isinstance(answer, NOT_HANDLED):
                        break
                    self.runtime.advance(300)
                    answer = self.ask(cid)
                if self.executed(cid):
                    assert isinstance(answer, OrderOutcome), (cid, answer)
                else:
                    assert not isinstance(answer, OrderOutcome), (cid, answer)
                    assert isinstance(answer, MT5OrderOutcomeUnknown) or (
                        isinstance(answer, MT5Error) and not answer.retryable), (cid, answer)
            self.at_most_one_execution_per_id()
        finally:
            self.guard.stop()
            self.runtime.__exit__(None, None, None)


OrderAnswers.TestCase.settings = settings(
    max_examples=80, stateful_step_count=12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_order_answers_agree = OrderAnswers.TestCase
