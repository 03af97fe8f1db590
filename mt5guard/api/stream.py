"""The tick stream: server-sent events of one account's quotes as they change.

A subscription on the session (the quote poll) feeds a bounded queue on the
event loop; when a slow client lets it fill, the oldest ticks are dropped
(a quote stream's newest value is the one that matters). The subscription
ends with the connection.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from mt5guard.plain import plain
from mt5guard.session.facade import Session

__all__ = ["tick_stream"]

QUEUE = 1000
KEEP_ALIVE = 15.0  # seconds of silence before a comment line keeps proxies from closing


def tick_stream(session: Session, symbols: tuple[str, ...]) -> StreamingResponse:
    """``text/event-stream`` of ``event: tick`` frames; subscribes now, so a bad symbol
    is refused before the stream starts."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE)

    def offer(tick: Any) -> None:
        if queue.full():
            queue.get_nowait()
        queue.put_nowait(tick)

    def on_tick(tick: Any) -> None:  # on the session's thread
        try:
            loop.call_soon_threadsafe(offer, tick)
        except RuntimeError:
            pass  # the loop is closing: the stream ends anyway

    subscription = session.subscribe(symbols, on_tick)

    async def frames() -> AsyncIterator[str]:
        try:
            yield f": ticks of {', '.join(symbols)} on account {session.account}\n\n"
            while True:
                try:
                    tick = await asyncio.wait_for(queue.get(), KEEP_ALIVE)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: tick\ndata: {json.dumps(plain(tick), sort_keys=True)}\n\n"
        finally:
            subscription.close()

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
