import random

import pytest

from mt5guard.supervision import Backoff


def test_default_delays_double_from_one_minute_to_ten() -> None:
    assert Backoff().schedule(7) == [60, 120, 240, 480, 600, 600, 600]


def test_jitter_never_leaves_the_bounds() -> None:
    backoff = Backoff(jitter=1.0)
    rng = random.Random(7)
    delays = [backoff.delay(n, rng) for n in range(50) for _ in range(20)]
    assert min(delays) >= 60 and max(delays) <= 600
    assert len(set(delays)) > 100, "jitter should actually spread the delays"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"initial": 0}, "initial"),
        ({"initial": 700}, "initial"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"jitter": 1.5}, "jitter"),
        ({"reset_after": -1}, "reset_after"),
    ],
)
def test_bad_parameters_name_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Backoff(**kwargs)
