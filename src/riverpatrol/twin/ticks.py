"""True states of the boat over consecutive control ticks: what the twin's sensors and truth work on."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class TickBlock:
    """True states over consecutive control ticks."""

    ticks: NDArray[np.int64]
    t: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    psi: NDArray[np.float64]
    vx: NDArray[np.float64]
    vy: NDArray[np.float64]
    s: NDArray[np.float64]  # river coordinates of the true positions
    n: NDArray[np.float64]
    inside: NDArray[np.bool_]  # not past either end of the reach

    @staticmethod
    def concat(blocks: list[TickBlock]) -> TickBlock:
        """Consecutive blocks as one: sensors computed over it report what they would have over each."""
        if len(blocks) == 1:
            return blocks[0]
        return TickBlock(*(np.concatenate([getattr(b, f.name) for b in blocks]) for f in fields(TickBlock)))
