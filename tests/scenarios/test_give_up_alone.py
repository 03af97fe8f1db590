"""Story: failure stays where it belongs. Of two accounts, one whose terminal
never comes back gives up alone at 2 h 55 min; the other goes on trading and
the process keeps running (no exit 3). Only when every account has given up,
or when the one that gave up is marked ``vital``, does the root give up."""

from __future__ import annotations

import attrs
import pytest

from mt5guard.config import AccountConfig, TerminalConfig
from mt5guard.errors import MT5Unavailable
from mt5guard.supervision import SupervisorGaveUp

GIVE_UP_AT = 10_500  # the 21st failure with the default supervision settings


def other(vital: bool = False) -> AccountConfig:
    return AccountConfig(name="other", terminal=TerminalConfig(login=5002, server="MetaQuotes-Demo"),
                         symbols=("USDJPY",), vital=vital)


def two_accounts(story_factory, *, demo_vital: bool = False):
    def accounts(config):  # the story's account "demo" (terminal down from the start) + "other"
        demo = attrs.evolve(config.accounts[0], vital=demo_vital)
        return (demo, other())

    from storykit import story_config

    base = story_config()
    return story_factory(prepare=lambda terminal: terminal.set_down(True), accounts=accounts(base))


def test_an_account_that_gives_up_gives_up_alone(story_factory) -> None:
    story = two_accounts(story_factory)
    story.clock.advance(GIVE_UP_AT + 600)

    gave_up = [(e.supervisor, story.at(e)) for e in story.events(SupervisorGaveUp)]
    assert gave_up == [("account:demo", GIVE_UP_AT)]
    assert story.guard.running and not story.guard.wait_gave_up(timeout=0)
    assert story.guard.session("other").get_price("USDJPY").bid > 0  # still trading
    with pytest.raises(MT5Unavailable) as refused:
        story.session.get_price("EURUSD")  # a typed answer at once, not a hang
    assert "gave up" in str(refused.value) and refused.value.retry_at is None  # no attempt is due
    assert story.guard.status.snapshot()["demo"]["last_error"].startswith("gave up")

    story.guard.terminals["other"].set_down(True)  # now the last account goes down too
    story.clock.advance(24 * 3600)
    supervisors = [e.supervisor for e in story.events(SupervisorGaveUp)]
    assert supervisors == ["account:demo", "account:other", "root"]
    assert story.guard.wait_gave_up(timeout=0)  # run.py exits 3 now


def test_a_vital_account_that_gives_up_ends_the_process(story_factory) -> None:
    story = two_accounts(story_factory, demo_vital=True)
    story.clock.advance(GIVE_UP_AT + 600)

    gave_up = [(e.supervisor, story.at(e)) for e in story.events(SupervisorGaveUp)]
    assert gave_up == [("account:demo", GIVE_UP_AT), ("root", GIVE_UP_AT)]
    assert story.guard.wait_gave_up(timeout=0) and not story.guard.running
