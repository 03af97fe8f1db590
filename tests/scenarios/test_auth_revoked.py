"""Story: the broker revokes the account's authorization mid-session. Probes
see it, health turns NOT_SERVING for auth, the breaker opens; when the
authorization comes back the breaker's trial re-logs in and all recovers."""

from __future__ import annotations

import pytest

from mt5guard.breaker.messages import BreakerState, BreakerStateChanged
from mt5guard.errors import MT5AuthError
from mt5guard.health.messages import HealthChanged, HealthStatus


def test_revoked_authorization_is_reported_then_recovered(story) -> None:
    story.terminal.revoke_auth()
    with pytest.raises(MT5AuthError) as refused:
        story.session.get_account_info()
    assert not refused.value.retryable and refused.value.code == -6

    story.clock.advance(90)  # probes at 30, 60, 90 fail on account_info
    auth = [(story.at(e), e.new) for e in story.events(HealthChanged) if e.component == "auth"]
    assert auth[-1] == (90, HealthStatus.NOT_SERVING)
    assert story.session.health().overall is HealthStatus.NOT_SERVING

    story.clock.advance(30)  # fifth counted failure (request + 4 probes): breaker opens
    assert story.session.breaker_state().state is BreakerState.OPEN

    story.terminal.restore_auth()
    story.clock.advance(60)  # HALF_OPEN: the trial probe logs in again and succeeds
    opened = [e for e in story.events(BreakerStateChanged) if e.new is BreakerState.OPEN]
    closed = [e for e in story.events(BreakerStateChanged) if e.new is BreakerState.CLOSED and e.old]
    assert [story.at(e) for e in opened] == [120] and [story.at(e) for e in closed] == [180]
    assert story.session.get_account_info().login == 5001
    assert story.session.health().overall is HealthStatus.SERVING
