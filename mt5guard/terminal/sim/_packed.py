"""How the simulator keeps an hour of a symbol's prices: counts of points as small steps.

A quiet symbol moves a few points a tick, so an hour of 14,400 ticks kept as
the steps between them, with the exact points every :data:`CHUNK` ticks to
start from, takes an eighth of the memory of int32 points where every step
fits four bits, a quarter where it fits a byte. Decoding gives back the same
integers (so the same prices) bit for bit.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["CHUNK", "Packed", "pack"]

CHUNK: Final = 1024  # ticks between two checkpoints of a packed hour (4 min 16 s)

Points = npt.NDArray[np.int32]


class Packed(NamedTuple):
    """One hour's points as steps between ticks (``steps[0]`` is 0) and the points at every
    CHUNK-th tick. Steps within -8..7 (a quiet symbol's every step) are kept two to a
    byte (``nibbles``: the even tick's step in the low four bits); else one int8 each."""

    steps: npt.NDArray[np.int8]
    marks: Points
    nibbles: bool

    def _steps(self, first: int, last: int) -> npt.NDArray[np.int8]:
        """The steps of ticks ``first .. last - 1`` of the hour (``first`` even)."""
        if not self.nibbles:
            return self.steps[first:last]
        packed = self.steps[first // 2:(last + 1) // 2]
        steps = np.empty(2 * len(packed), np.int8)
        np.right_shift(np.left_shift(packed, 4), 4, out=steps[0::2])  # arithmetic: signed
        np.right_shift(packed, 4, out=steps[1::2])
        return steps[:last - first]

    def ticks(self) -> int:
        return 2 * len(self.steps) if self.nibbles else len(self.steps)

    def points(self) -> Points:
        full = np.cumsum(self._steps(0, self.ticks()), dtype=np.int64) + int(self.marks[0])
        return full.astype(np.int32)

    def chunk(self, number: int) -> tuple[int, Points | npt.NDArray[np.int16]]:
        """The points of ticks ``number * CHUNK`` .. ``(number + 1) * CHUNK - 1`` of the
        hour, as (the first one's, the others' offsets from it): int16 offsets where the
        steps are nibbles (1,023 steps of at most 8 points), else int32; exact either way."""
        first, last = number * CHUNK, min((number + 1) * CHUNK, self.ticks())
        if self.nibbles:  # the live quote's path: one gather of the bytes' step pairs
            steps = _NIBBLE_PAIRS.take(self.steps[first // 2:(last + 1) // 2].view(np.uint8),
                                       axis=0).reshape(-1)[:last - first]
        else:
            steps = self.steps[first:last].copy()
        steps[0] = 0  # the step into the chunk's first tick: its offset is 0
        offsets = np.cumsum(steps, dtype=np.int32)  # (numpy's int16 cumsum is slower)
        return int(self.marks[number]), offsets.astype(np.int16) if self.nibbles else offsets


def _nibble_pairs() -> npt.NDArray[np.int8]:
    """The two steps each byte of nibbles holds, ``[byte] -> (even tick's, odd tick's)``."""
    byte = np.arange(256, dtype=np.uint8).view(np.int8)
    pairs = np.empty((256, 2), np.int8)
    np.right_shift(np.left_shift(byte, 4), 4, out=pairs[:, 0])  # arithmetic: signed
    np.right_shift(byte, 4, out=pairs[:, 1])
    pairs.flags.writeable = False
    return pairs


_NIBBLE_PAIRS: Final = _nibble_pairs()


def pack(points: Points) -> Packed | None:
    """An hour's int32 points as packed steps, as small as they fit (nibbles for an even
    number of ticks); None if a step is over 127 points."""
    moves = np.empty_like(points)
    moves[0] = 0
    np.subtract(points[1:], points[:-1], out=moves[1:])
    low, high = int(moves.min()), int(moves.max())
    if max(-low, high) > 127:
        return None
    marks = points[::CHUNK].copy()
    steps = moves.astype(np.int8)
    if low >= -8 and high <= 7 and len(steps) % 2 == 0:
        return Packed((steps[1::2] << 4) | (steps[0::2] & 0x0F), marks, True)
    return Packed(steps, marks, False)
