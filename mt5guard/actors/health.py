"""HealthProbeActor: probes through the SessionActor on a timer."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import pykka

from mt5guard.actors.health_policy import HealthPolicy, StatusChange
from mt5guard.bus import EventBus, deliver
from mt5guard.clock import Clock, Timer
from mt5guard.config import HealthConfig
from mt5guard.messages import (
    BreakerState,
    BreakerStateChanged,
    GetHealth,
    HealthChanged,
    HealthReport,
    ProbeRecorded,
    ProbeResult,
    RunProbe,
    SubscribeBreaker,
    SubscribeHealth,
)
from mt5guard.supervision import ChildHandle, ChildUnavailable

__all__ = ["HealthProbeActor"]

_log = logging.getLogger("mt5guard.health")


class _Tick:
    __slots__ = ()


class _ProbeTimedOut:
    __slots__ = ("seq",)

    def __init__(self, seq: int) -> None:
        self.seq = seq


class HealthProbeActor(pykka.ThreadingActor):
    """Probes every ``interval`` seconds; a probe without a reply within
    ``timeout`` seconds is a failure. While the breaker is OPEN probing pauses
    (status OUT_OF_SERVICE); on HALF_OPEN it probes at once, and that probe is
    the breaker's trial call.
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
    ) -> None:
        super().__init__()
        self.account = account
        self._symbol = symbol
        self._config = config
        self._clock = clock
        self._bus = bus
        self._session = session
        self._breaker = breaker
        self._policy = HealthPolicy(config, clock.monotonic())
        self._breaker_state = BreakerState.CLOSED
        self._seq = 0
        self._outstanding: int | None = None
        self._sent_at = 0.0
        self._tick_timer: Timer | None = None
        self._timeout_timer: Timer | None = None
        self._subscribers: list[Any] = []

    def __str__(self) -> str:
        return f"HealthProbeActor {self.account}"

    def on_start(self) -> None:
        with contextlib.suppress(ChildUnavailable):
            self._breaker.tell(SubscribeBreaker(self.actor_ref))
        now = self._clock.now()
        for component, status in self._policy.statuses().items():
            self._bus.publish(HealthChanged(self.account, component, None, status, "started", now))
        self._probe()
        self._schedule_tick()

    def on_stop(self) -> None:
        for timer in (self._tick_timer, self._timeout_timer):
            if timer is not None:
                timer.cancel()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, _Tick):
            self._schedule_tick()
            self._probe()
        elif isinstance(message, ProbeResult):
            if message.seq == self._outstanding:
                self._finish(message)
        elif isinstance(message, _ProbeTimedOut):
            if message.seq == self._outstanding:
                self._finish(self._failed(message.seq, "probe timed out "
                                          f"after {self._config.timeout:g} s (MT5TimeoutError)"))
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
                            self._policy.last_result, self._clock.now())  # fmt: skip

    # internals --------------------------------------------------------------

    def _schedule_tick(self) -> None:
        me = self.actor_ref
        self._tick_timer = self._clock.call_later(self._config.interval, lambda: _safe_tell(me, _Tick()))

    def _probe(self) -> None:
        if self._breaker_state is BreakerState.OPEN or self._outstanding is not None:
            return  # paused while OPEN; never pile probes on a stuck one
        self._seq += 1
        seq = self._outstanding = self._seq
        self._sent_at = self._clock.monotonic()
        try:
            self._session.tell(RunProbe(self._symbol, seq, reply_to=self.actor_ref))
        except ChildUnavailable as exc:
            self._finish(self._failed(seq, f"session unavailable: {exc.reason}"))
            return
        me = self.actor_ref
        self._timeout_timer = self._clock.call_later(
            self._config.timeout, lambda: _safe_tell(me, _ProbeTimedOut(seq))
        )

    def _failed(self, seq: int, why: str) -> ProbeResult:
        latency_ms = (self._clock.monotonic() - self._sent_at) * 1000.0
        return ProbeResult(seq, False, False, False, latency_ms, self._clock.now(), why)

    def _finish(self, result: ProbeResult) -> None:
        self._outstanding = None
        if self._timeout_timer is not None:
            self._timeout_timer.cancel()
            self._timeout_timer = None
        self._bus.publish(ProbeRecorded(self.account, result))
        if result.skipped or self._breaker_state is BreakerState.OPEN:
            return
        self._publish(self._policy.record(result, self._clock.monotonic()))

    def _on_breaker(self, message: BreakerStateChanged) -> None:
        previous, self._breaker_state = self._breaker_state, message.new
        blocked = message.new in (BreakerState.OPEN, BreakerState.HALF_OPEN)
        self._publish(self._policy.set_breaker_open(blocked, f"breaker {message.new.value}"))
        if message.new is BreakerState.HALF_OPEN and previous is not BreakerState.HALF_OPEN:
            self._probe()  # the trial call: do not wait for the next tick

    def _publish(self, changes: list[StatusChange]) -> None:
        now = self._clock.now()
        for change in changes:
            event = HealthChanged(self.account, change.component, change.old, change.new,
                                  change.reason, now)  # fmt: skip
            self._bus.publish(event)
            self._subscribers = [s for s in self._subscribers if deliver(s, event)]


def _safe_tell(ref: pykka.ActorRef[Any], message: Any) -> None:
    with contextlib.suppress(pykka.ActorDeadError):
        ref.tell(message)
