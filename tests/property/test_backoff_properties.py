import random

from hypothesis import given
from hypothesis import strategies as st

from mt5guard.supervision import Backoff

seconds = st.floats(min_value=0.001, max_value=10_000, allow_nan=False)


@given(
    initial=seconds,
    extra=st.floats(min_value=0, max_value=10_000),
    multiplier=st.floats(min_value=1, max_value=10),
    jitter=st.floats(min_value=0, max_value=1),
    attempt=st.integers(min_value=0, max_value=10_000),
    seed=st.integers(),
)
def test_every_delay_stays_within_initial_and_maximum(
    initial: float, extra: float, multiplier: float, jitter: float, attempt: int, seed: int
) -> None:
    backoff = Backoff(initial=initial, maximum=initial + extra, multiplier=multiplier, jitter=jitter)
    delay = backoff.delay(attempt, random.Random(seed))
    assert backoff.initial <= delay <= backoff.maximum


@given(st.integers(min_value=0, max_value=200))
def test_without_jitter_delays_never_shrink(failures: int) -> None:
    delays = Backoff().schedule(failures)
    assert delays == sorted(delays)
