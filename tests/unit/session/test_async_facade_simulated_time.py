"""The awaitable facade inside simulated_time(): timeouts still fire.

freezegun freezes ``time.monotonic``, which asyncio's loop clock reads; a
request timeout built on the loop's clock would never expire.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from storykit import Story, story_config

from mt5guard.errors import MT5TimeoutError
from mt5guard.events.bus import EventBus
from mt5guard.testing import simulated_time


def test_an_awaited_request_on_a_hung_terminal_times_out_under_simulated_time() -> None:
    outcome: list[Any] = []
    with simulated_time(settle_timeout=5.0) as clock:
        story = Story(clock, EventBus(), lambda _event: None, story_config(request_timeout=0.1))
        try:
            story.terminal.hang_next("symbol_info_tick", seconds=3600)

            def caller() -> None:
                try:
                    outcome.append(asyncio.run(story.session.aio.get_price("EURUSD")))
                except Exception as exc:
                    outcome.append(exc)

            thread = threading.Thread(target=caller, daemon=True)
            thread.start()
            thread.join(timeout=5.0)  # a real wait: the request's timeout is 0.1 s
            assert outcome and isinstance(outcome[0], MT5TimeoutError), outcome
        finally:
            story.close()
            thread.join(timeout=5.0)
