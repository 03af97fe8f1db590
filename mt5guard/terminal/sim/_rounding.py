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

``N`` is found without leaving floats or calling a function: for ``|y| < 2**51``,
``y + 1.5 * 2**52`` lies in ``[2**52, 2**53)``, where the floats are exactly the
integers, so IEEE addition (round to nearest, ties to even; CPython's floats are
IEEE doubles, no extended precision) makes it ``N + 1.5 * 2**52``, ``N`` the
integer nearest to ``y``, ties to even (``1.5 * 2**52`` is even), and taking
``1.5 * 2**52`` off again is exact. ``r = y - N`` is exact too (``N`` and ``y``
are multiples of ``y``'s last bit when ``|y| >= 1``; otherwise ``N`` is 0 or
``|y| >= 0.5`` and Sterbenz's lemma applies), and ``|r|`` is the distance
checked above. (``math.remainder(y, 1.0)`` gives the same ``r``, one C call
dearer: this runs ~8 times a valuation.)
"""

from __future__ import annotations

__all__ = ["rounded"]

_SCALES = tuple(10.0**d for d in range(16))  # exact: 10**d < 2**53
_LIMIT = 2e15  # below 2**51: y + _SHIFT stays where the floats are the integers
_SHIFT = 6755399441055744.0  # 1.5 * 2**52: adding it rounds y to an integer
_SLACK = 4.5e-16  # > 2**-52: twice the rounding error of x * scale, relative to y


def rounded(x: float, digits: int) -> float:
    """``round(x, digits)`` (the same float, ``0 <= digits < 16``)."""
    scale = _SCALES[digits]
    y = x * scale
    size = abs(y)  # NaN: not below _LIMIT, round() answers
    if size < _LIMIT:
        n = y + _SHIFT - _SHIFT  # N, the integer nearest to y (ties to even), exactly
        r = y - n  # exact
        if 0.5 - abs(r) > size * _SLACK and n != 0.0:  # n != 0: round keeps a zero's sign
            return n / scale
    return round(x, digits)
