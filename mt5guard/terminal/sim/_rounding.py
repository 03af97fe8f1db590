"""``round(x, digits)`` for floats, the same float, faster where it can be shown to be.

Python's ``round(x, 2)`` converts ``x`` to decimal digits and back (0.3-0.6 us);
the simulator rounds money ~10 times per account valuation, once per health
probe. :func:`rounded` takes a shortcut where the result is provably the one
``round`` gives, and calls ``round`` otherwise:

``round(x, d)`` is the float nearest to ``N / 10**d``, ``N`` the integer
nearest to the exact ``x * 10**d`` (ties to even). ``y = x * 10.0**d``
differs from the exact product by at most ``|y| * 2**-53``; when ``y`` lies
farther than that from a half-integer, the integer nearest to ``y`` is
``N`` and no tie is possible, and ``N / 10.0**d`` (``N`` and ``10**d`` exact
floats, IEEE division correctly rounded) is the float nearest to
``N / 10**d``. Otherwise (near a tie, a zero result, whose sign ``round``
keeps, huge or non-finite values) ``round`` itself answers.

``N`` is found without leaving floats: ``math.remainder(y, 1.0)`` is IEEE's
remainder ``r = y - N`` (``N`` nearest, ties to even), exact, and ``y - r`` is
``N`` exactly (an integer below 2**52); ``|r|`` is the distance checked above.
"""

from __future__ import annotations

from math import remainder

__all__ = ["rounded"]

_SCALES = tuple(10.0**d for d in range(16))  # exact: 10**d < 2**53
_LIMIT = 4e15  # below 2**52: N is an exact float, and so is every integer near y
_SLACK = 4.5e-16  # > 2**-52: twice the rounding error of x * scale, relative to y


def rounded(x: float, digits: int) -> float:
    """``round(x, digits)`` (the same float, ``0 <= digits < 16``)."""
    scale = _SCALES[digits]
    y = x * scale
    if -_LIMIT < y < _LIMIT:
        r = remainder(y, 1.0)  # y - N, exactly; N the integer nearest to y
        if 0.5 - abs(r) > abs(y) * _SLACK and y != r:  # y != r: N is not 0
            return (y - r) / scale  # y - r is N exactly
    return round(x, digits)
