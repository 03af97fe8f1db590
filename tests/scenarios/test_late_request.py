"""A request that reaches a session just after it ended is answered at once.

Issue 11, "late request": a caller that saw the session alive and put its
request into the inbox after the session's teardown had drained it waited its
whole ``request_timeout`` (70 s) for an answer that never came.
"""

from __future__ import annotations

import concurrent.futures

import pytest
from pykka._envelope import Envelope
from storykit import Story

from mt5guard.errors import MT5Unavailable
from mt5guard.market.messages import GetPrice


def test_a_request_sent_as_the_session_ends_is_answered_unavailable_at_once(story: Story) -> None:
    handle = story.session._core.session
    ended = handle.ref()
    queued: concurrent.futures.Future[object] = concurrent.futures.Future()
    ended.tell(GetPrice("EURUSD", reply_to=queued, deadline=None))
    ended.stop(block=True, timeout=5)
    # The caller checked is_alive() just before the end, then put its request.
    late: concurrent.futures.Future[object] = concurrent.futures.Future()
    ended.actor_inbox.put(Envelope(GetPrice("EURUSD", reply_to=late, deadline=None)))

    with pytest.raises(MT5Unavailable, match="session ended before handling"):
        late.result(timeout=0)
    assert queued.done()  # answered (handled before the stop, or drained at the end)
