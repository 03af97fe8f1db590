"""Config of the policies: restart backoff, supervision, circuit breaker, health probes.

Durations and validation are as the package says (:mod:`mt5guard.config`).
"""

from __future__ import annotations

import attrs

from mt5guard.config.values import (
    HOUR,
    WEEK,
    documented,
    field_error,
    int_field,
    meta,
    number,
    number_field,
    seconds_field,
    section_field,
    to_optional_float,
)

__all__ = ["BackoffConfig", "BreakerConfig", "HealthConfig", "SupervisionConfig"]


@documented
@attrs.frozen(kw_only=True)
class BackoffConfig:
    """Delay before restarting a crashed child (and so before reconnecting)."""

    initial: float = seconds_field(60.0, "Delay before the first restart, seconds (up to 24h).")
    maximum: float = seconds_field(600.0, "Upper bound of the delay, seconds (up to 24h).")
    multiplier: float = number_field(
        2.0, "Factor the delay grows by after each restart (1..10).", low=1.0, high=10.0)
    jitter: float = number_field(
        0.1, "Random spread as a fraction of the delay, 0..1 (0.1 = +/-10%).", low=0.0, high=1.0)
    reset_after: float = seconds_field(
        300.0, "Seconds a child must stay up before the delay resets to initial (up to 24h).")

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

    backoff: BackoffConfig = section_field(BackoffConfig, "Restart delay policy.")
    max_restarts: int = int_field(
        20, "Restarts allowed within period before the supervisor gives up "
        "(0..10000; 0 = the first crash escalates).", 0, 10_000)
    period: float = seconds_field(
        10800.0, "Sliding window max_restarts is counted in, seconds (up to 168h).", high=WEEK)
    shutdown_timeout: float = seconds_field(
        5.0, "Seconds a child may take to stop before it is abandoned (up to 1h).", high=HOUR)


@documented
@attrs.frozen(kw_only=True)
class BreakerConfig:
    """The circuit breaker each account puts in front of its terminal."""

    failure_threshold: int = int_field(
        5, "Consecutive counted failures that trip the breaker to OPEN (1..10000).", 1, 10_000)
    failure_rate: float | None = attrs.field(
        default=None,
        converter=to_optional_float,
        validator=number(low=0.0, low_open=True, high=1.0, optional=True),
        metadata=meta(
            "Optional second trip rule: failed fraction of the last window calls, in (0, 1]; "
            "null disables it."
        ),
    )
    window: int = int_field(
        20, "Number of most recent calls failure_rate is measured over (1..10000).", 1, 10_000)
    minimum_calls: int = int_field(
        10, "Calls in the window needed before failure_rate can trip (1..window).", 1, 10_000)
    open_duration: float = seconds_field(
        60.0, "Seconds OPEN lasts before a HALF_OPEN trial (up to 24h).")
    max_open_duration: float = seconds_field(
        600.0, "Cap, seconds: open_duration doubles on each failed trial up to this (up to 24h).")
    half_open_max_trials: int = int_field(
        1, "Trial calls let through at once while HALF_OPEN (1..1000).", 1, 1000)
    success_threshold: int = int_field(
        1, "Successful trials needed to close the breaker again (1..1000).", 1, 1000)
    trial_timeout: float = seconds_field(
        30.0, "Seconds HALF_OPEN waits for a trial result before falling back to OPEN (up to 1h).",
        high=HOUR)

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

    interval: float = seconds_field(30.0, "Seconds between probes (up to 24h).")
    timeout: float = seconds_field(
        10.0, "Seconds a probe may take before it counts as failed (< interval, up to 1h).",
        high=HOUR)
    failure_threshold: int = int_field(
        3, "Consecutive failed probes before the account is reported unhealthy (1..1000).",
        1, 1000)
    success_threshold: int = int_field(
        1, "Consecutive good probes before it is reported healthy again (1..1000).", 1, 1000)
    startup_grace: float = seconds_field(
        120.0, "Seconds after start during which failed probes do not count (0..24h).",
        allow_zero=True)
    max_tick_age: float = seconds_field(
        60.0, "Seconds; an older last tick of the probe symbol means the data feed is stale "
        "(up to 168h).", high=WEEK)

    def __attrs_post_init__(self) -> None:
        if self.timeout >= self.interval:
            raise field_error(
                self,
                "timeout",
                f"{self.timeout:g} s must be less than interval ({self.interval:g} s)",
                "a probe has to finish before the next one starts; lower timeout",
            )
