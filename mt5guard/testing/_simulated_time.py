"""``simulated_time()``: a VirtualClock with freezegun's wall clock kept in step."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

from mt5guard.testing._clock import DEFAULT_START, VirtualClock

__all__ = ["simulated_time"]


@contextlib.contextmanager
def simulated_time(
    start: datetime = DEFAULT_START, *, settle_timeout: float = 10.0
) -> Iterator[VirtualClock]:
    """Yield a :class:`VirtualClock`; ``datetime.now()`` follows it.

    freezegun (a test extra) freezes the process-wide wall clock at ``start``
    and every ``advance`` moves it along, so timestamps taken by code that
    reads the system clock agree with the simulated one. mt5guard's own
    actors never read it. asyncio keeps its real clock (freezegun's
    ``real_asyncio``), so ``await session.aio...`` still times out after
    ``request_timeout`` real seconds. Note that pykka's
    ``ask(timeout=...)`` never times out while freezegun is active: wait on
    replies without pykka timeouts.
    """
    try:
        import freezegun
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("simulated_time() needs freezegun: pip install 'mt5guard[test]'") from exc
    with freezegun.freeze_time(start, real_asyncio=True) as frozen:
        yield VirtualClock(start, settle_timeout=settle_timeout, on_advance=frozen.move_to)
