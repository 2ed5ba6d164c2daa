"""Obstacle ranging: a 360° ring of sectors shaped like MAVLink OBSTACLE_DISTANCE.

Banks, static obstacles and vessel hulls are sampled as outline points; a sector reports the nearest
point whose bearing falls inside it (clockwise from the bow, sector i centred on i * increment), in
centimetres, or max + 1 where nothing is within range. Scans are computed for many poses at once:
none of this feeds back into the hull within a tick.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from shapely import Geometry

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.scenario import ObstacleRanging
from riverpatrol.twin import _kernels
from riverpatrol.twin.traffic import Traffic

SPACING_M = 0.5  # outline sampling: below a 5° sector's width at 6 m
FAR_STRIDE = 2  # banks more than NEAR_M away along the river are sampled every 1 m: 5° is 0.9 m at 10 m
NEAR_M = 10.0
MIN_CM = 20  # the sensor's blind zone


def _outline_points(geom: Geometry) -> NDArray[np.float64]:
    ring = geom.exterior
    count = max(8, int(np.ceil(ring.length / SPACING_M)))
    pts = ring.interpolate(np.linspace(0.0, ring.length, count, endpoint=False))
    return np.array([[p.x, p.y] for p in pts])


class RangingSensor:
    """Computes OBSTACLE_DISTANCE-shaped scans from the true scene."""

    def __init__(self, config: ObstacleRanging, river: RiverFrame, traffic: Traffic) -> None:
        self.range_m = config.max_range_m
        self.increment_deg = config.sector_deg
        self.sectors = int(round(360.0 / config.sector_deg))
        self.max_cm = int(round(self.range_m * 100))
        left, right = river.banks
        order = np.argsort(np.concatenate([left.s, right.s]), kind="stable")
        self._bank_xy = np.concatenate([left.xy, right.xy])[order]
        self._bank_s = np.concatenate([left.s, right.s])[order]
        self._far_xy = np.concatenate([left.xy[::FAR_STRIDE], right.xy[::FAR_STRIDE]])
        self._far_s = np.concatenate([left.s[::FAR_STRIDE], right.s[::FAR_STRIDE]])
        order = np.argsort(self._far_s, kind="stable")
        self._far_xy, self._far_s = self._far_xy[order], self._far_s[order]
        self._bank_xy = self._bank_xy.astype(np.float32)
        self._far_xy = self._far_xy.astype(np.float32)
        self._reach = self.range_m + float(river.widths.max()) / 2.0
        self._static = [_outline_points(o.geometry) for o in traffic.static]
        self._static_boxes = [(*p.min(axis=0).tolist(), *p.max(axis=0).tolist()) for p in self._static]
        self._vessels = traffic.vessels
        longest = max((max(v.length, v.beam) for v in self._vessels), default=0.0)
        self._edge_frac = np.linspace(0.0, 1.0, max(2, int(np.ceil(longest / SPACING_M))), endpoint=False)

    def scans(self, t: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64],
              psi: NDArray[np.float64], s: NDArray[np.float64]) -> NDArray[np.uint16]:
        """Distances (scans x sectors, uint16 cm) for poses (x, y, heading psi rad, chainage s) at times t."""
        clouds = [
            (_window(self._bank_xy, self._bank_s, s - NEAR_M, s + NEAR_M), SPACING_M),
            (_window(self._far_xy, self._far_s, s - self._reach, s - NEAR_M), SPACING_M * FAR_STRIDE),
            (_window(self._far_xy, self._far_s, s + NEAR_M, s + self._reach), SPACING_M * FAR_STRIDE),
        ]
        near = self._static_near(x, y)
        if near is not None:
            clouds.append((np.broadcast_to(near.astype(np.float32), (len(x), *near.shape)), SPACING_M))
        for vessel in self._vessels:
            pose = vessel.pose(t)
            if np.hypot(pose[0] - x, pose[1] - y).min() <= self.range_m + vessel.length:
                clouds.append((self._hull_points(vessel.corners(*pose)).astype(np.float32), SPACING_M))
        best = np.full(len(x) * self.sectors, np.inf, dtype=np.float32)
        step = np.float32(np.deg2rad(self.increment_deg))
        for cloud, spacing in clouds:
            _kernels.bin_points(best, cloud, x, y, psi, spacing, step, self.range_m, self.sectors)
        cm = np.where(np.isfinite(best), np.clip(np.round(best * 100.0), MIN_CM, self.max_cm), self.max_cm + 1)
        return cm.astype(np.uint16).reshape(len(x), self.sectors)

    def _static_near(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """Outline points of the static obstacles that any pose of this batch could see."""
        if not self._static:
            return None
        x_lo, y_lo = float(x.min()) - self.range_m, float(y.min()) - self.range_m
        x_hi, y_hi = float(x.max()) + self.range_m, float(y.max()) + self.range_m
        # an outline whose bounding box misses the poses' box by range has no point in range
        near = [p for p, (bx_lo, by_lo, bx_hi, by_hi) in zip(self._static, self._static_boxes)
                if bx_lo <= x_hi and bx_hi >= x_lo and by_lo <= y_hi and by_hi >= y_lo]
        return np.concatenate(near) if near else None

    def _hull_points(self, corners: NDArray[np.float64]) -> NDArray[np.float64]:
        """Points along the four edges of each hull rectangle (times x 4 x 2 corners)."""
        b = np.roll(corners, -1, axis=1)
        edges = corners[:, :, None, :] + (b - corners)[:, :, None, :] * self._edge_frac[None, None, :, None]
        return edges.reshape(len(corners), -1, 2)


def _window(xy: NDArray[np.float32], along: NDArray[np.float64], lo: NDArray[np.float64],
            hi: NDArray[np.float64]) -> NDArray[np.float32]:
    """Per pose, the points from the first at chainage >= lo, as many as the widest [lo, hi) holds.

    Windows are equal slices of the sorted samples; a slice may run past hi (or end early at the
    last sample, repeated): extra points are real outline points, so they never give a false range.
    """
    first = np.searchsorted(along, lo)
    width = int(max(1, (np.searchsorted(along, hi) - first).max()))
    return _kernels.windows(xy, first, width)
