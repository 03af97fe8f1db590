"""Health aggregation as a pure object: probe results in, status changes out.

Each component (connection, auth, data_feed) is UNKNOWN until its first
result, then flips to SERVING after ``success_threshold`` consecutive good
probes and to NOT_SERVING after ``failure_threshold`` consecutive bad ones
(the Kubernetes probe rule). During the startup phase (``startup_grace``
seconds from start, until the first good probe) failures leave a component
UNKNOWN: the terminal may still be launching or logging in. The overall
status is OUT_OF_SERVICE while the breaker is OPEN, otherwise the worst
component. HALF_OPEN counts as out of service too: the breaker is still
testing the terminal with a trial call.
"""

from __future__ import annotations

import attrs

from mt5guard.config import HealthConfig
from mt5guard.health.messages import HealthStatus, ProbeResult

__all__ = ["COMPONENTS", "HealthPolicy", "StatusChange"]

COMPONENTS = ("connection", "auth", "data_feed")
# a component's statuses, best to worst
_SERVING, _UNKNOWN, _NOT_SERVING = HealthStatus.SERVING, HealthStatus.UNKNOWN, HealthStatus.NOT_SERVING


@attrs.frozen
class StatusChange:
    component: str
    old: HealthStatus
    new: HealthStatus
    reason: str


@attrs.define
class _Component:
    status: HealthStatus = HealthStatus.UNKNOWN
    successes: int = 0
    failures: int = 0


class HealthPolicy:
    """``now`` arguments are monotonic seconds from the owner's clock."""

    def __init__(self, config: HealthConfig, started_at: float) -> None:
        self.config = config
        self.started_at = started_at
        self._components = {name: _Component() for name in COMPONENTS}
        self._parts = tuple(self._components.values())
        self._all_serving = False  # every component SERVING (statuses change only in record)
        self._steady = 0  # good probes while all SERVING, not yet added to each component
        self.overall = HealthStatus.UNKNOWN
        self.breaker_open = False
        self.ever_served = False
        self.last_result: ProbeResult | None = None

    def record(self, result: ProbeResult, now: float) -> list[StatusChange]:
        """Count one probe result; returns the statuses it changed."""
        self.last_result = result
        if self._all_serving and result.connection_ok and result.auth_ok and result.data_feed_ok:
            self._steady += 1  # the steady state: a good probe moves no status (counted once)
            return []
        self._settle()
        starting = not self.ever_served and now - self.started_at < self.config.startup_grace
        flags = {
            "connection": result.connection_ok,
            "auth": result.auth_ok,
            "data_feed": result.data_feed_ok,
        }
        changes: list[StatusChange] = []
        why = result.error or "probe failed"
        for name, ok in flags.items():
            comp = self._components[name]
            old = comp.status
            if ok:
                comp.successes, comp.failures = comp.successes + 1, 0
                if comp.successes >= self.config.success_threshold:
                    comp.status = HealthStatus.SERVING
            else:
                comp.successes, comp.failures = 0, comp.failures + 1
                if not starting and comp.failures >= self.config.failure_threshold:
                    comp.status = HealthStatus.NOT_SERVING
            if comp.status is not old:
                reason = "probe ok" if ok else f"{comp.failures} failed probes: {why}"
                changes.append(StatusChange(name, old, comp.status, reason))
        if not changes:  # nothing moved, so neither did ever_served nor the overall status
            return changes
        self._all_serving = all(c.status is HealthStatus.SERVING for c in self._parts)
        if self._all_serving:
            self.ever_served = True
        return changes + self._overall(changes[-1].reason)

    @property
    def components(self) -> dict[str, _Component]:
        """Each component's status and its consecutive successes and failures."""
        self._settle()
        return self._components

    def _settle(self) -> None:
        """Add the steady state's good probes to every component's count, as each
        would have had them one by one (a success more, no failure since)."""
        steady = self._steady
        if steady:
            for comp in self._parts:
                comp.successes += steady
                comp.failures = 0
            self._steady = 0

    def set_breaker_open(self, is_open: bool, reason: str) -> list[StatusChange]:
        """``is_open``: the breaker is OPEN or HALF_OPEN."""
        self.breaker_open = is_open
        return self._overall(reason)

    def _overall(self, reason: str) -> list[StatusChange]:
        if self.breaker_open:
            new = HealthStatus.OUT_OF_SERVICE
        else:  # the worst, found by identity (a dict of ranks hashed each member: a Python call)
            statuses = [c.status for c in self._parts]
            new = _NOT_SERVING if _NOT_SERVING in statuses else (
                _UNKNOWN if _UNKNOWN in statuses else _SERVING)
        if new is self.overall:
            return []
        old, self.overall = self.overall, new
        return [StatusChange("overall", old, new, reason)]

    def statuses(self) -> dict[str, HealthStatus]:
        return {"overall": self.overall, **{n: c.status for n, c in self._components.items()}}
