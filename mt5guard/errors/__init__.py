"""The MT5Error hierarchy and the code table (moved into a package; split next)."""

from mt5guard.errors._hierarchy import *  # noqa: F403
from mt5guard.errors._hierarchy import __all__  # noqa: F401
