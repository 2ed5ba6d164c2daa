"""Fast distance to the edge of the water near the boat, from the river map.

The avoidance asks this several hundred times a scan (returns to explain, candidate positions to
keep off the bank). ``RiverFrame.bank_clearance`` searches the whole reach; here only the few
centerline segments within sensor range of the boat are tried, chosen once per scan.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from riverpatrol.geo.frame import RiverFrame

FloatArray = NDArray[np.float64]

BANK_HARD_M = 0.8  # water the boat's circle always keeps from the bank


class NearWater:
    """The river map around one position: ``clearance`` of points within ``reach_m`` of it."""

    def __init__(self, river: RiverFrame, reach_m: float) -> None:
        self.river = river
        self._reach = reach_m + float(river.widths.max())
        self._hint = 0
        a = river.xy[:-1]
        self._a, self._d = a, np.diff(river.xy, axis=0)
        self._len2 = np.maximum(river.seg_len**2, 1e-12)
        self._pick(np.arange(1), 0.0, 0.0)

    def focus(self, x: float, y: float) -> None:
        """Pick the segments that can be nearest to any point within reach of (x, y)."""
        river = self.river
        self._hint = river.segment_near(x, y, self._hint)
        s0 = river.vertex_s[self._hint]
        lo = np.searchsorted(river.vertex_s, s0 - self._reach, side="right") - 1
        hi = np.searchsorted(river.vertex_s, s0 + self._reach + river.seg_len[self._hint], side="left")
        self._pick(np.arange(max(lo, 0), min(hi, len(river.seg_len))), x, y)

    def _pick(self, k: NDArray[np.intp], x: float, y: float) -> None:
        ax, ay, dx, dy, len2 = self._a[k, 0], self._a[k, 1], self._d[k, 0], self._d[k, 1], self._len2[k]
        f = np.minimum(np.maximum(((x - ax) * dx + (y - ay) * dy) / len2, 0.0), 1.0)
        self._seg_gap = np.hypot(ax + dx * f - x, ay + dy * f - y)  # each segment's distance to the focus
        self._segs = k
        # rows: start x, start y, dx, dy, squared length, chainage at the start, length: one fancy
        # index picks a subset of segments for a query (these arrays are a few long, so each numpy
        # call costs far more than its arithmetic)
        self._near = np.vstack([ax, ay, dx, dy, len2, self.river.vertex_s[k], self.river.seg_len[k]])
        self._ends = bool(len(k)) and (int(k[0]) == 0 or int(k[-1]) == len(self.river.seg_len) - 1)

    def river_coords(self, x: FloatArray, y: FloatArray,
                     within_m: float | None = None) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
        """Chainage and signed offset (left of the centerline positive) of points near the focus,
        and whether each lies past either end of the reach.

        With ``within_m`` (every point that near the focus) only the segments that can be nearest
        to such a point are tried: no farther from the focus than the nearest one plus twice that.
        """
        near, segs = self._near, self._segs
        if within_m is not None:
            few = self._seg_gap <= self._seg_gap.min() + 2.0 * within_m
            if not few.all() and few.any():
                near, segs = near[:, few], segs[few]
        ax, ay, dx, dy, len2, start_s, seg_len = near
        qx, qy = x[:, None], y[:, None]
        raw = ((qx - ax) * dx + (qy - ay) * dy) / len2
        f = np.minimum(np.maximum(raw, 0.0), 1.0)  # np.clip costs more on small arrays
        gap = np.hypot(ax + dx * f - qx, ay + dy * f - qy)
        j = np.argmin(gap, axis=1)
        rows = np.arange(len(j))
        jx, jy, jdx, jdy, _, j_start, j_len = near[:, j]  # each point's nearest segment
        s = j_start + f[rows, j] * j_len
        left = jdx * (y - jy) - jdy * (x - jx) >= 0.0
        off = gap[rows, j]
        n = np.where(left, off, -off)
        if not self._ends:  # no segment here ends the reach: nothing can lie past an end
            return s, n, np.zeros(len(j), dtype=bool)
        seg = segs[j]
        past_end = ((seg == 0) & (raw[rows, j] < 0.0)) | ((seg == len(self.river.seg_len) - 1) & (raw[rows, j] > 1.0))
        return s, n, past_end

    def clearance(self, x: FloatArray, y: FloatArray, within_m: float | None = None) -> FloatArray:
        """Distance from each point to the water's edge (banks and end sections), negative outside;
        ``within_m`` as for ``river_coords``."""
        s, n, past_end = self.river_coords(x, y, within_m)
        river = self.river
        clear = np.minimum(river.width_at(s) / 2.0 - np.abs(n), np.minimum(s, river.length - s))
        return np.where(past_end, -np.abs(clear) - 1e-9, clear)
