"""Seeded chaos: a fault schedule per seed, a trading caller, invariants after every step.

``python -m mt5guard.testing.chaos --seeds N --days D --accounts A`` (``make
chaos``) runs seeds 0..N-1 on the deterministic runtime; ``--replay SEED``
runs one seed twice and shows that the event log is the same. A failing seed
is printed with a shrunk fault schedule. See docs/testing.md.
"""

from mt5guard.testing.chaos._run import ChaosResult, run
from mt5guard.testing.chaos._schedule import KINDS, Fault, draw_schedule, shrink

__all__ = ["KINDS", "ChaosResult", "Fault", "draw_schedule", "run", "shrink"]
