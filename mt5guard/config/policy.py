"""Config of the policies: restart backoff, supervision, circuit breaker, health probes.

Every duration is float seconds. Each class validates itself on construction,
so objects built in code fail with the same ConfigError as YAML does.
"""

from __future__ import annotations

import attrs

from mt5guard.config.values import (
    HOUR,
    WEEK,
    documented,
    duration,
    field_error,
    instance_of,
    integer,
    meta,
    number,
    to_float,
    to_optional_float,
)

__all__ = ["BackoffConfig", "BreakerConfig", "HealthConfig", "SupervisionConfig"]


@documented
@attrs.frozen(kw_only=True)
class BackoffConfig:
    """Delay before restarting a crashed child (and so before reconnecting)."""

    initial: float = attrs.field(
        default=60.0,
        converter=to_float,
        validator=duration(),
        metadata=meta("Delay before the first restart, seconds (up to 24h).", kind="duration"),
    )
    maximum: float = attrs.field(
        default=600.0,
        converter=to_float,
        validator=duration(),
        metadata=meta("Upper bound of the delay, seconds (up to 24h).", kind="duration"),
    )
    multiplier: float = attrs.field(
        default=2.0,
        converter=to_float,
        validator=number(low=1.0, high=10.0),
        metadata=meta("Factor the delay grows by after each restart (1..10)."),
    )
    jitter: float = attrs.field(
        default=0.1,
        converter=to_float,
        validator=number(low=0.0, high=1.0),
        metadata=meta("Random spread as a fraction of the delay, 0..1 (0.1 = +/-10%)."),
    )
    reset_after: float = attrs.field(
        default=300.0,
        converter=to_float,
        validator=duration(),
        metadata=meta(
            "Seconds a child must stay up before the delay resets to initial (up to 24h).", kind="duration"
        ),
    )

    def __attrs_post_init__(self) -> None:
        if self.initial > self.maximum:
            raise field_error(
                self,
                "initial",
                f"{self.initial:g} s is more than maximum ({self.maximum:g} s)",
                "lower initial or raise maximum",
            )


@documented
@attrs.frozen(kw_only=True)
class SupervisionConfig:
    """How supervisors restart children and when they give up (escalate)."""

    backoff: BackoffConfig = attrs.field(
        factory=BackoffConfig,
        validator=instance_of(BackoffConfig),
        metadata=meta("Restart delay policy.", kind="section", section=BackoffConfig),
    )
    max_restarts: int = attrs.field(
        default=20,
        validator=integer(0, 10_000),
        metadata=meta(
            "Restarts allowed within period before the supervisor gives up "
            "(0..10000; 0 = the first crash escalates)."
        ),
    )
    period: float = attrs.field(
        default=10800.0,
        converter=to_float,
        validator=duration(high=WEEK),
        metadata=meta("Sliding window max_restarts is counted in, seconds (up to 168h).",
                      kind="duration"),
    )
    shutdown_timeout: float = attrs.field(
        default=5.0,
        converter=to_float,
        validator=duration(high=HOUR),
        metadata=meta("Seconds a child may take to stop before it is abandoned (up to 1h).",
                      kind="duration"),
    )


@documented
@attrs.frozen(kw_only=True)
class BreakerConfig:
    """The circuit breaker each account puts in front of its terminal."""

    failure_threshold: int = attrs.field(
        default=5,
        validator=integer(1, 10_000),
        metadata=meta("Consecutive counted failures that trip the breaker to OPEN (1..10000)."),
    )
    failure_rate: float | None = attrs.field(
        default=None,
        converter=to_optional_float,
        validator=number(low=0.0, low_open=True, high=1.0, optional=True),
        metadata=meta(
            "Optional second trip rule: failed fraction of the last window calls, in (0, 1]; "
            "null disables it."
        ),
    )
    window: int = attrs.field(
        default=20,
        validator=integer(1, 10_000),
        metadata=meta("Number of most recent calls failure_rate is measured over (1..10000)."),
    )
    minimum_calls: int = attrs.field(
        default=10,
        validator=integer(1, 10_000),
        metadata=meta("Calls in the window needed before failure_rate can trip (1..window)."),
    )
    open_duration: float = attrs.field(
        default=60.0,
        converter=to_float,
        validator=duration(),
        metadata=meta("Seconds OPEN lasts before a HALF_OPEN trial (up to 24h).", kind="duration"),
    )
    max_open_duration: float = attrs.field(
        default=600.0,
        converter=to_float,
        validator=duration(),
        metadata=meta(
            "Cap, seconds: open_duration doubles on each failed trial up to this (up to 24h).",
            kind="duration",
        ),
    )
    half_open_max_trials: int = attrs.field(
        default=1,
        validator=integer(1, 1000),
        metadata=meta("Trial calls let through at once while HALF_OPEN (1..1000)."),
    )
    success_threshold: int = attrs.field(
        default=1,
        validator=integer(1, 1000),
        metadata=meta("Successful trials needed to close the breaker again (1..1000)."),
    )
    trial_timeout: float = attrs.field(
        default=30.0,
        converter=to_float,
        validator=duration(high=HOUR),
        metadata=meta(
            "Seconds HALF_OPEN waits for a trial result before falling back to OPEN (up to 1h).",
            kind="duration",
        ),
    )

    def __attrs_post_init__(self) -> None:
        if self.open_duration > self.max_open_duration:
            raise field_error(
                self,
                "open_duration",
                f"{self.open_duration:g} s is more than max_open_duration "
                f"({self.max_open_duration:g} s)",
                "lower open_duration or raise max_open_duration",
            )
        if self.minimum_calls > self.window:
            raise field_error(
                self,
                "minimum_calls",
                f"{self.minimum_calls} is more than window ({self.window})",
                "the rate is measured over window calls; use minimum_calls <= window",
            )


@documented
@attrs.frozen(kw_only=True)
class HealthConfig:
    """Periodic health probes (terminal_info, account_info, one tick) per account."""

    interval: float = attrs.field(
        default=30.0,
        converter=to_float,
        validator=duration(),
        metadata=meta("Seconds between probes (up to 24h).", kind="duration"),
    )
    timeout: float = attrs.field(
        default=10.0,
        converter=to_float,
        validator=duration(high=HOUR),
        metadata=meta(
            "Seconds a probe may take before it counts as failed (< interval, up to 1h).",
            kind="duration",
        ),
    )
    failure_threshold: int = attrs.field(
        default=3,
        validator=integer(1, 1000),
        metadata=meta(
            "Consecutive failed probes before the account is reported unhealthy (1..1000)."
        ),
    )
    success_threshold: int = attrs.field(
        default=1,
        validator=integer(1, 1000),
        metadata=meta("Consecutive good probes before it is reported healthy again (1..1000)."),
    )
    startup_grace: float = attrs.field(
        default=120.0,
        converter=to_float,
        validator=duration(allow_zero=True),
        metadata=meta(
            "Seconds after start during which failed probes do not count (0..24h).", kind="duration"
        ),
    )
    max_tick_age: float = attrs.field(
        default=60.0,
        converter=to_float,
        validator=duration(high=WEEK),
        metadata=meta(
            "Seconds; an older last tick of the probe symbol means the data feed is stale "
            "(up to 168h).",
            kind="duration",
        ),
    )

    def __attrs_post_init__(self) -> None:
        if self.timeout >= self.interval:
            raise field_error(
                self,
                "timeout",
                f"{self.timeout:g} s must be less than interval ({self.interval:g} s)",
                "a probe has to finish before the next one starts; lower timeout",
            )
