"""No password in any log record, repr, error, event or metric, whatever happens."""

from __future__ import annotations

import logging

import pytest
from storykit import PASSWORD

from mt5guard.config import render_config
from mt5guard.errors import MT5Error
from mt5guard.observability import EventLogger, JsonFormatter, Metrics


def test_the_password_never_leaks_through_a_day_of_faults(story_factory, bus, recorder, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    metrics = Metrics()
    bus.subscribe(metrics)
    bus.subscribe(EventLogger())
    story = story_factory(prepare=lambda t: t.initialize_times_out())
    texts: list[str] = []

    def attempt(call, *args, **kw) -> None:  # type: ignore[no-untyped-def]
        try:
            texts.append(repr(call(*args, **kw)))
        except MT5Error as err:
            texts.extend([str(err), repr(err), repr(err.__dict__)])

    story.clock.advance(60)
    story.terminal.initialize_times_out(False)
    story.clock.advance(60)
    attempt(story.session.get_account_info)
    story.terminal.revoke_auth()
    attempt(story.session.get_account_info)
    attempt(story.session.place_order, "EURUSD", "buy", 0.1)
    story.clock.advance(200)
    story.terminal.restore_auth()
    story.terminal.lose_next_order_reply(executed=True)
    story.clock.advance(400)
    attempt(story.session.place_order, "EURUSD", "buy", 0.1)
    story.terminal.set_down(True)
    story.clock.advance(400)
    attempt(story.session.get_price, "EURUSD")
    story.terminal.set_down(False)
    story.clock.advance(1200)
    attempt(story.session.health)
    attempt(story.session.breaker_state)

    config = story.config
    texts += [repr(config), str(config), render_config(config), repr(story.guard),
              repr(story.session), repr(story.terminal), repr(config.accounts[0].terminal)]
    texts += [repr(event) for event in recorder.events]
    formatter, json_formatter = logging.Formatter(), JsonFormatter()
    for record in caplog.records:
        texts += [formatter.format(record), json_formatter.format(record)]
    texts.append(metrics.render().decode())

    assert len(caplog.records) > 20 and len(recorder.events) > 50  # the story did happen
    leaks = [text for text in texts if PASSWORD in text]
    assert leaks == []


def test_the_secret_itself_refuses_to_be_shown_or_copied() -> None:
    from mt5guard.secret import Secret

    secret = Secret(PASSWORD)
    assert PASSWORD not in f"{secret} {secret!r} {secret:>40}"
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)
