"""The public test kit: simulated time for mt5guard and for your own tests."""

from mt5guard.testing._clock import DEFAULT_START, SettleTimeout, VirtualClock
from mt5guard.testing._runtime import DeterministicRuntime, RuntimeStuck
from mt5guard.testing._simulated_time import simulated_time

__all__ = [
    "DEFAULT_START",
    "DeterministicRuntime",
    "RuntimeStuck",
    "SettleTimeout",
    "VirtualClock",
    "simulated_time",
]
