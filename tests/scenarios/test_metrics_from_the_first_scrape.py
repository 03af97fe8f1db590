"""Story: an operator's Prometheus scrapes before anything happened, then an
account's breaker trips. Every labelled series exists at zero from the first
scrape, so ``increase()`` sees the first trip; per-account sync gauges say since
when each session is connected, how long, and how many orders are in doubt."""

from __future__ import annotations

import pytest

from mt5guard.errors import MT5OrderOutcomeUnknown
from mt5guard.observability import Metrics


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    sample: float | None = metrics.registry.get_sample_value(name, labels)
    return sample


def test_every_series_starts_at_zero_before_the_first_event() -> None:
    metrics = Metrics()
    metrics.expect("demo")
    zero = {
        "mt5guard_breaker_transitions_total": {"from_state": "closed", "to_state": "open"},
        "mt5guard_restarts_total": {"supervisor": "account:demo", "child": "session"},
        "mt5guard_child_failures_total": {"supervisor": "root", "child": "account:demo"},
        "mt5guard_probes_total": {"result": "failed"},
        "mt5guard_orders_reconciled_total": {"outcome": "unknown"},
        "mt5guard_sessions_connected": {},
        "mt5guard_breaker_state": {},
        "mt5guard_connected_since_timestamp_seconds": {},
        "mt5guard_uptime_seconds": {},
        "mt5guard_last_deal_timestamp_seconds": {},
        "mt5guard_unknown_outcomes_pending": {},
    }
    for name, labels in zero.items():
        labels = labels if "supervisor" in labels else {"account": "demo", **labels}
        assert value(metrics, name, **labels) == 0, name
    assert value(metrics, "mt5guard_supervisor_gave_up_total", supervisor="account:demo") == 0
    assert value(metrics, "mt5guard_health_status", account="demo", component="overall") == -1


def test_sync_gauges_follow_the_session(story_factory, bus, clock) -> None:
    metrics = Metrics(clock=clock)
    bus.subscribe(metrics)  # before the tree starts, as run.py does
    metrics.expect("demo")
    t0 = clock.now().timestamp()
    story = story_factory()
    metrics.track(story.guard)
    assert value(metrics, "mt5guard_connected_since_timestamp_seconds", account="demo") == t0
    story.clock.advance(90)
    assert value(metrics, "mt5guard_uptime_seconds", account="demo") == 90

    with story.session.watch_trades(lambda _event: None):
        story.clock.advance(1)  # the first poll takes the baseline
        story.session.place_order("EURUSD", "buy", 0.1, client_order_id="m1")
        story.clock.advance(5)  # a trade poll sees the deal
    assert value(metrics, "mt5guard_last_deal_timestamp_seconds", account="demo") > t0
    assert value(metrics, "mt5guard_unknown_outcomes_pending", account="demo") == 0
    story.terminal.lose_next_order_reply(executed=False)  # nothing found by its id: in doubt
    with pytest.raises(MT5OrderOutcomeUnknown):
        story.session.place_order("EURUSD", "sell", 0.1, client_order_id="m2")
    assert value(metrics, "mt5guard_unknown_outcomes_pending", account="demo") == 1

    story.terminal.revoke_auth()  # the broker refuses the account: probes fail, the breaker trips
    story.clock.advance(300)
    assert value(metrics, "mt5guard_breaker_transitions_total", account="demo",
                  from_state="closed", to_state="open") == 1  # 0 -> 1: increase() sees it

    story.terminal.set_down(True)  # the terminal dies: the session is lost
    story.clock.advance(120)
    assert value(metrics, "mt5guard_connected_since_timestamp_seconds", account="demo") == 0
    assert value(metrics, "mt5guard_uptime_seconds", account="demo") == 0
