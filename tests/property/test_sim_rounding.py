"""The simulator's fast rounding gives exactly the float ``round`` gives: prices never move."""

from __future__ import annotations

import math
import struct

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mt5guard.terminal.sim._rounding import rounded


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


@settings(max_examples=3000, deadline=None)
@given(x=st.floats(allow_nan=True, allow_infinity=True), digits=st.integers(0, 8))
@example(x=0.125, digits=2)  # an exact tie: half to even
@example(x=0.375, digits=2)
@example(x=2.675, digits=2)  # below the tie in binary
@example(x=-0.001, digits=2)  # rounds to -0.0: the sign kept
@example(x=1.085105, digits=5)
@example(x=4.5e13 + 0.005, digits=2)
@example(x=5e-324, digits=8)
@example(x=-0.125, digits=2)  # a negative tie: half to even
@example(x=-2.5, digits=0)
@example(x=1.9999999999999e13 + 0.005, digits=2)  # just inside the shortcut's limit
@example(x=2.2517998136852485e13, digits=2)  # y at 2**51: round() answers
@example(x=-4.5e15, digits=0)
def test_rounded_is_round_bit_for_bit(x: float, digits: int) -> None:
    expected = round(x, digits)
    got = rounded(x, digits)
    assert _bits(got) == _bits(expected) or (math.isnan(got) and math.isnan(expected))


@settings(max_examples=3000, deadline=None)
@given(cents=st.integers(-10**12, 10**12), nudge=st.sampled_from([0.0, 5e-16, -5e-16, 1e-12]),
       digits=st.integers(2, 3))
def test_near_ties_and_money_amounts(cents: int, nudge: float, digits: int) -> None:
    # Amounts a book holds (whole cents, half cents) and their neighbours: the
    # shortcut must step aside near every tie.
    for x in (cents / 100, (cents + 0.5) / 100, cents / 1000 + nudge):
        assert _bits(rounded(x, digits)) == _bits(round(x, digits))
