"""The MT5Error hierarchy and the one table that classifies MetaTrader 5 codes.

Every failure mt5guard reports is an :class:`MT5Error` carrying data, not prose
to parse: a ``kind``, the MT5 ``code``, what the terminal said, the operation,
whether retrying may help (``retryable``) and whether it is evidence that the
terminal is unhealthy (``counts_for_breaker``).

Counting rule: connection, init, auth and timeout errors count against the
circuit breaker; business outcomes (market closed, no money, invalid volume,
unknown symbol, ...) are neutral, because a healthy terminal produces them too.

Errors never hold credentials: no constructor takes one, and callers must not
put a password or any other secret into ``detail``.

Exports the classes (``_hierarchy``: :class:`MT5Error` and its kinds) and the
code table with the functions that classify a code (``_codes``).
"""

from mt5guard.errors import _codes, _hierarchy
from mt5guard.errors._codes import *  # noqa: F403
from mt5guard.errors._hierarchy import *  # noqa: F403

__all__ = sorted([*_hierarchy.__all__, *_codes.__all__])
