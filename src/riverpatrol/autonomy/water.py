"""Fast distance to the edge of the water near the boat, from the river map.

The avoidance asks this several hundred times a scan (returns to explain, candidate positions to
keep off the bank), on arrays a few dozen long, where numpy's fixed cost per call was most of the
work: the nearest-segment search runs as one compiled loop (``_kernels``) over the few centerline
segments within sensor range of the boat, chosen once per scan. ``RiverFrame.bank_clearance``
answers the same for the whole reach.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from riverpatrol.autonomy import _kernels
from riverpatrol.geo.frame import RiverFrame

FloatArray = NDArray[np.float64]

BANK_HARD_M = 0.8  # water the boat's circle always keeps from the bank


class NearWater:
    """The river map around one position: ``clearance`` of points within ``reach_m`` of it."""

    def __init__(self, river: RiverFrame, reach_m: float) -> None:
        self.river = river
        self._reach = reach_m + float(river.widths.max())
        self._hint = 0
        d = np.diff(river.xy, axis=0)
        # one column per segment; rows as _kernels has them: start x, start y, dx, dy, squared
        # length, chainage at the start, length
        table = np.ascontiguousarray(np.vstack([
            river.xy[:-1, 0], river.xy[:-1, 1], d[:, 0], d[:, 1], np.maximum(river.seg_len**2, 1e-12),
            river.vertex_s[:-1], river.seg_len]))
        self._segments = _kernels.Segments(table, river.vertex_s, river.widths)

    def focus(self, x: float, y: float) -> None:
        """Pick the segments that can be nearest to any point within reach of (x, y)."""
        self._hint = self.river.segment_near(x, y, self._hint)
        self._segments.pick_around(self._hint, x, y, self._reach)

    def river_coords(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
        """Chainage and signed offset (left of the centerline positive) of points near the focus,
        and whether each lies past either end of the reach."""
        return self._segments.river_coords(np.ascontiguousarray(x, float), np.ascontiguousarray(y, float))

    def clearance(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Distance from each point to the water's edge (banks and end sections), negative outside."""
        return self._segments.clearance(np.ascontiguousarray(x, float), np.ascontiguousarray(y, float))

    def off_the_banks(self, x: float, y: float, points: FloatArray, tolerance_m: float, per_m: float) -> FloatArray:
        """The points (k x 2) farther inside the water than ``tolerance_m + per_m * d``, where d is
        each point's distance from (x, y): returns the map cannot put on a bank."""
        return self._segments.off_the_banks(x, y, points, tolerance_m, per_m)
