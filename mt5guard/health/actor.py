"""HealthProbeActor: probes through the SessionActor on a timer."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import attrs

from mt5guard.breaker.messages import (
    BreakerState,
    BreakerStateChanged,
    CallFailed,
)
from mt5guard.breaker.view import BreakerView
from mt5guard.clock import Clock, Timer
from mt5guard.config import HealthConfig
from mt5guard.events.bus import EventBus, deliver
from mt5guard.health.messages import (
    GetHealth,
    HealthChanged,
    HealthReport,
    ProbeRecorded,
    ProbeResult,
    RunProbe,
    SubscribeHealth,
)
from mt5guard.health.policy import HealthPolicy, StatusChange
from mt5guard.supervision import ChildHandle, ChildUnavailable, GuardedActor

__all__ = ["HealthProbeActor"]

_log = logging.getLogger("mt5guard.health")
_OPEN = BreakerState.OPEN  # read per probe: an enum member looked up on its class costs ~0.1 us


@attrs.frozen
class _ProbeUnsent:
    """The probe timer found the session down (told from the clock's thread)."""

    seq: int
    reason: str


class _ProbeTimedOut:
    __slots__ = ("seq",)

    def __init__(self, seq: int) -> None:
        self.seq = seq


class _SlotDue(_ProbeTimedOut):
    """A probe slot came while the last probe sent is still at the session."""


class _Probe:
    """The last probe handed to the session; ``sent`` once it was told (any thread)."""

    __slots__ = ("sent", "sent_at", "seq")

    def __init__(self, seq: int, sent_at: float, sent: bool) -> None:
        self.seq, self.sent_at, self.sent = seq, sent_at, sent


class _Slot(_Probe):
    """A probe armed on the grid: its RunProbe and both of its timers' callbacks.

    Built once per probe with everything the clock's thread needs, so arming
    creates no closures: :meth:`send` (the slot) tells the session,
    :meth:`time_out` (the timeout) tells the HealthProbeActor.
    """

    __slots__ = ("_actor", "_message", "_session")

    def __init__(self, seq: int, sent_at: float, symbol: str, actor: Any,
                 session: ChildHandle) -> None:
        self.seq, self.sent_at, self.sent = seq, sent_at, False
        self._actor, self._session = actor, session
        self._message = RunProbe(symbol, seq, reply_to=actor)

    def send(self) -> None:
        self.sent = True
        try:
            self._session.tell(self._message)
        except ChildUnavailable as exc:
            deliver(self._actor, _ProbeUnsent(self.seq, exc.reason))

    def time_out(self) -> None:
        deliver(self._actor, _ProbeTimedOut(self.seq))


class HealthProbeActor(GuardedActor):
    """Probes every ``interval`` seconds (a fixed-rate grid from the first
    probe); a probe without a reply within ``timeout`` seconds is a failure.
    While the breaker is OPEN probing pauses (status OUT_OF_SERVICE); on
    HALF_OPEN it probes at once, and that probe is the breaker's trial call.

    A probe timeout counts for the breaker (``CallFailed``, kind ``timeout``).
    While a probe is still unanswered at the session (a terminal call is
    stuck), no other is sent: each slot meanwhile is a failed, counted
    probe, so nothing piles up behind the stuck call.
    """

    def __init__(
        self,
        account: str,
        symbol: str,
        config: HealthConfig,
        clock: Clock,
        bus: EventBus,
        session: ChildHandle,
        breaker: ChildHandle,
        breaker_view: BreakerView | None = None,
    ) -> None:
        super().__init__()
        self.account = account
        self._breaker_view = breaker_view or BreakerView()
        self._breaker_epoch = -1
        self._symbol = symbol
        self._clock = clock
        self._bus = bus
        self._session = session
        self._breaker = breaker
        self._policy = HealthPolicy(config, clock.monotonic())
        self._interval, self._timeout = config.interval, config.timeout  # read per probe
        self._breaker_state = BreakerState.CLOSED
        self._seq = 0
        self._outstanding: int | None = None
        self._at_session: _Probe | None = None  # sent (or about to be), not answered yet
        self._sent_at = 0.0
        self._next_due = clock.monotonic()  # fixed-rate schedule of probes
        self._probe_timer: Timer | None = None
        self._timeout_timer: Timer | None = None
        self._subscribers: list[Any] = []
        self._me = self.actor_ref  # read per probe: pykka's property is a call each time

    def __str__(self) -> str:
        return f"HealthProbeActor {self.account}"

    def on_start(self) -> None:
        known = self._breaker_view.follow(self._breaker, self.actor_ref)
        now = self._clock.now()
        for component, status in self._policy.statuses().items():
            self._bus.publish(HealthChanged(self.account, component, None, status, "started", now))
        if known is not None:  # an OPEN breaker pauses even the first probe
            self._on_breaker(known)
        self._probe_now()

    def on_stop(self) -> None:
        self._cancel_timers()

    def on_receive(self, message: Any) -> Any:
        if type(message) is ProbeResult:  # one per probe: the rest of the chain is rare
            seq = message.seq
            at_session = self._at_session
            if at_session is not None and seq == at_session.seq:
                self._at_session = None  # the session answered the probe out
            if seq == self._outstanding:
                self._finish(message)
            return None
        at_session = self._at_session
        if isinstance(message, ProbeResult | _ProbeUnsent) and at_session is not None \
                and message.seq == at_session.seq:
            self._at_session = None  # the session answered (or never got) the probe out
        if isinstance(message, _ProbeUnsent):
            if message.seq == self._outstanding:
                self._finish(self._failed(message.seq, f"session unavailable: {message.reason}"))
        elif isinstance(message, ProbeResult):
            if message.seq == self._outstanding:
                self._finish(message)
        elif isinstance(message, _SlotDue):
            if message.seq == self._outstanding:
                self._slot_due(message.seq)
        elif isinstance(message, _ProbeTimedOut):
            if message.seq == self._outstanding:
                self._finish(self._failed(message.seq, "probe timed out "
                                          f"after {self._policy.config.timeout:g} s (MT5TimeoutError)"),
                             count=True)
        elif isinstance(message, BreakerStateChanged):
            self._on_breaker(message)
        elif isinstance(message, GetHealth):
            message.reply_to.set_result(self.report())
        elif isinstance(message, SubscribeHealth):
            self._subscribers.append(message.subscriber)
            now = self._clock.now()
            for component, status in self._policy.statuses().items():
                deliver(message.subscriber,
                         HealthChanged(self.account, component, None, status, "current", now))
        else:
            return super().on_receive(message)
        return None

    def report(self) -> HealthReport:
        statuses = self._policy.statuses()
        components = tuple((k, v) for k, v in statuses.items() if k != "overall")
        return HealthReport(self.account, statuses["overall"], components, self._breaker_state,
                            self._policy.last_result, self._clock.now())

    # internals --------------------------------------------------------------

    def _probe_now(self) -> None:
        """Probe at once (first probe, HALF_OPEN trial) unless paused or one is out."""
        if self._breaker_state is BreakerState.OPEN or self._outstanding is not None:
            return
        self._seq += 1
        seq = self._outstanding = self._seq
        self._next_due = self._sent_at = self._clock.monotonic()
        if self._stuck():
            self._finish(self._still_unanswered(seq), count=True)
            return
        self._at_session = _Probe(seq, self._sent_at, sent=True)
        try:
            self._session.tell(RunProbe(self._symbol, seq, reply_to=self.actor_ref))
        except ChildUnavailable as exc:
            self._finish(self._failed(seq, f"session unavailable: {exc.reason}"))
            return
        self._arm_timeout(seq, self._policy.config.timeout)

    def _arm_next(self, now: float) -> None:
        """Schedule the next probe on the fixed-rate grid (missed slots are skipped).

        ``now`` is the clock's monotonic seconds. The timer tells the SessionActor
        directly, from the clock's thread, so a probe costs one hop less than
        waking this actor first; the timeout is armed now, counted from the
        moment the probe will be sent.
        """
        if self._breaker_state is _OPEN or self._outstanding is not None:
            return
        interval = self._interval
        due = self._next_due + interval
        if due <= now:
            due += interval * ((now - due) // interval + 1)
        self._next_due = self._sent_at = due
        delay = due - now
        self._seq += 1
        seq = self._outstanding = self._seq
        me = self._me
        at_session = self._at_session
        if at_session is not None and at_session.sent:  # _stuck(), inline
            # this actor decides at the slot: the stuck probe may be back by then
            due_now = _SlotDue(seq)
            self._probe_timer = self._clock.call_later(delay, lambda: deliver(me, due_now))
            self._arm_timeout(seq, delay + self._timeout)
            return
        slot = self._at_session = _Slot(seq, due, self._symbol, me, self._session)
        call_later = self._clock.call_later
        self._probe_timer = call_later(delay, slot.send)
        self._timeout_timer = call_later(delay + self._timeout, slot.time_out)

    def _stuck(self) -> bool:
        return self._at_session is not None and self._at_session.sent

    def _still_unanswered(self, seq: int) -> ProbeResult:
        assert self._at_session is not None
        age = self._clock.monotonic() - self._at_session.sent_at
        return self._failed(seq, f"not sent: the probe sent {age:g} s ago is still unanswered "
                                 "(a terminal call is stuck)")

    def _slot_due(self, seq: int) -> None:
        if self._stuck():
            self._finish(self._still_unanswered(seq), count=True)
            return
        self._at_session = _Probe(seq, self._clock.monotonic(), sent=True)
        try:
            self._session.tell(RunProbe(self._symbol, seq, reply_to=self.actor_ref))
        except ChildUnavailable as exc:
            self._at_session = None
            self._finish(self._failed(seq, f"session unavailable: {exc.reason}"))

    def _count_timeout(self, result: ProbeResult) -> None:
        """A probe without an answer is a failed terminal call for the breaker too."""
        if self._breaker_state is BreakerState.OPEN or self._breaker_epoch < 0:
            return
        with contextlib.suppress(ChildUnavailable):
            self._breaker.tell(CallFailed(self._breaker_epoch, "probe", "timeout", None,
                                          result.latency_ms))

    def _arm_timeout(self, seq: int, delay: float) -> None:
        me = self.actor_ref
        self._timeout_timer = self._clock.call_later(delay, lambda: deliver(me, _ProbeTimedOut(seq)))

    def _cancel_timers(self) -> None:
        probe_timer, timeout_timer = self._probe_timer, self._timeout_timer
        if probe_timer is not None:
            probe_timer.cancel()
        if timeout_timer is not None:
            timeout_timer.cancel()
        self._probe_timer = self._timeout_timer = None

    def _failed(self, seq: int, why: str) -> ProbeResult:
        latency_ms = (self._clock.monotonic() - self._sent_at) * 1000.0
        return ProbeResult(seq, False, False, False, latency_ms, self._clock.now(), why)

    def _finish(self, result: ProbeResult, *, count: bool = False) -> None:
        """The probe out ended (answered, failed to send, timed out): record it, arm the next."""
        if count:
            self._count_timeout(result)
        self._outstanding = None
        # Every way a probe ends comes at or after its slot (its answer, the session
        # down when the slot told it, the slot finding the last one stuck, its timeout):
        # the slot's timer has fired, and only the timeout can still be armed.
        timeout_timer = self._timeout_timer
        if timeout_timer is not None:
            timeout_timer.cancel()
        self._probe_timer = self._timeout_timer = None
        self._bus.publish(ProbeRecorded(self.account, result))
        now = self._clock.monotonic()
        if not (result.skipped or self._breaker_state is _OPEN):
            changes = self._policy.record(result, now)
            if changes:  # nearly never: most probes change no status
                self._publish(changes)
                now = self._clock.monotonic()  # its subscribers ran meanwhile
        self._arm_next(now)

    def _on_breaker(self, message: BreakerStateChanged) -> None:
        if message.epoch < self._breaker_epoch:
            return  # older than what the view told us at start
        self._breaker_epoch = message.epoch
        previous, self._breaker_state = self._breaker_state, message.new
        blocked = message.new in (BreakerState.OPEN, BreakerState.HALF_OPEN)
        self._publish(self._policy.set_breaker_open(blocked, f"breaker {message.new.value}"))
        if message.new is BreakerState.OPEN:
            self._cancel_timers()  # paused; a probe already at the session is ignored
            self._outstanding = None
        elif message.new is BreakerState.HALF_OPEN and previous is not BreakerState.HALF_OPEN:
            self._probe_now()  # the trial call: do not wait for the next slot
        elif previous is BreakerState.OPEN:
            self._probe_now()  # reset or disabled while OPEN: resume probing

    def _publish(self, changes: list[StatusChange]) -> None:
        if not changes:  # nearly every probe
            return
        now = self._clock.now()
        for change in changes:
            event = HealthChanged(self.account, change.component, change.old, change.new,
                                  change.reason, now)
            self._bus.publish(event)
            self._subscribers = [s for s in self._subscribers if deliver(s, event)]
