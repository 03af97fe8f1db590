"""Story fixtures (see tests/storykit.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from storykit import Story, story_config

from mt5guard.events.bus import EventBus
from mt5guard.terminal import SimulatedTerminal
from mt5guard.testing import VirtualClock


@pytest.fixture
def story_factory(clock: VirtualClock, bus: EventBus, recorder: Any) -> Iterator[Callable[..., Story]]:
    stories: list[Story] = []

    def make(
        prepare: Callable[[Any], None] | None = None,
        terminal_class: type = SimulatedTerminal,
        **sections: Any,
    ) -> Story:
        story = Story(clock, bus, recorder, story_config(**sections), prepare, terminal_class)
        stories.append(story)
        return story

    yield make
    for story in stories:
        story.close()


@pytest.fixture
def story(story_factory: Callable[..., Story]) -> Story:
    return story_factory()
