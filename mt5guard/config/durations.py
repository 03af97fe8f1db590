"""Duration text of the config: ``250ms``, ``60s``, ``10m``, ``1h30m``, or plain seconds.

:func:`parse_duration` reads it, :func:`format_duration` writes the shortest
text that reads back exactly (the rendered config and the schema reference).
"""

from __future__ import annotations

import math
import re
from typing import Final, cast

__all__ = ["DURATION_HINT", "format_duration", "parse_duration"]

DURATION_HINT: Final = "use seconds (30) or a value like 30s, 10m, 1h"

# Units largest first, each at most once: 1h30m, 1m30s, 1.5s, 250ms.
_DURATION = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)s)?(?:(?P<ms>\d+(?:\.\d+)?)ms)?"
)
_UNITS: Final = (("h", 3600.0), ("m", 60.0), ("s", 1.0))


def parse_duration(value: object) -> float:
    """Seconds from a number of seconds or a string like ``250ms``, ``60s``, ``10m``, ``1h30m``.

    Raises ValueError for anything else (booleans, unit-less strings, NaN, inf).
    Negative numbers are returned as they are; the fields reject them.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(cast(float, value))
        if math.isfinite(seconds):
            return seconds
    elif isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match is not None and any(match.groups()):
            parts = match.groupdict()
            seconds = sum(float(parts[unit] or 0) * size for unit, size in _UNITS)
            return seconds + float(parts["ms"] or 0) / 1000
    raise ValueError(f"{value!r} is not a duration")


def format_duration(seconds: float) -> str | float:
    """The shortest text (``90`` -> ``1m30s``) that :func:`parse_duration` reads back exactly.

    Falls back to the bare float when no unit form is exact.
    """
    seconds = float(seconds)
    if seconds == 0:
        return "0s"
    if not 0 < seconds < 1e12:  # negative, inf, or beyond any sensible duration
        return seconds
    candidates: list[str] = []
    if seconds.is_integer():
        rest = int(seconds)
        text = ""
        for unit, size in _UNITS:
            count, rest = divmod(rest, int(size))
            text += f"{count}{unit}" if count else ""
        candidates.append(text)
    if (seconds * 1000).is_integer():
        candidates.append(f"{int(seconds * 1000)}ms")
    if "e" not in repr(seconds):
        candidates.append(f"{seconds!r}s")
    exact = [text for text in candidates if parse_duration(text) == seconds]
    return min(exact, key=len) if exact else seconds
