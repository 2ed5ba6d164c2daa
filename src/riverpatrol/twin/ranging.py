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
from riverpatrol.twin.traffic import Traffic

SPACING_M = 0.5  # outline sampling: below a 5° sector's width at 6 m
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
        self._river = river
        self._static = [_outline_points(o.geometry) for o in traffic.static]
        self._vessels = traffic.vessels
        longest = max((max(v.length, v.beam) for v in self._vessels), default=0.0)
        self._edge_frac = np.linspace(0.0, 1.0, max(2, int(np.ceil(longest / SPACING_M))), endpoint=False)

    def scans(self, t: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64],
              psi: NDArray[np.float64], s: NDArray[np.float64]) -> NDArray[np.uint16]:
        """Distances (scans x sectors, uint16 cm) for poses (x, y, heading psi rad, chainage s) at times t."""
        clouds = [self._bank_window(s)]
        near = self._static_near(x, y)
        if near is not None:
            clouds.append(np.broadcast_to(near, (len(x), *near.shape)))
        for vessel in self._vessels:
            corners = vessel.footprints(t)
            centre = corners.mean(axis=1)
            if np.hypot(centre[:, 0] - x, centre[:, 1] - y).min() <= self.range_m + vessel.length:
                clouds.append(self._hull_points(corners))
        cloud = np.concatenate(clouds, axis=1)
        dx = np.subtract(cloud[..., 0], x[:, None], dtype=np.float32)
        dy = np.subtract(cloud[..., 1], y[:, None], dtype=np.float32)
        dist = np.hypot(dx, dy)
        keep = dist <= self.range_m
        dist = dist[keep]
        rows = np.broadcast_to(np.arange(len(x), dtype=np.int64)[:, None] * self.sectors, keep.shape)[keep]
        step = np.float32(np.deg2rad(self.increment_deg))
        clockwise = (np.broadcast_to(psi[:, None].astype(np.float32), keep.shape)[keep] - np.arctan2(dy[keep], dx[keep])) / step + np.float32(0.5)
        # Each outline point stands for SPACING_M of outline: close up it spans several sectors.
        spread = np.minimum(np.float32(SPACING_M / 2.0) / np.maximum(dist, np.float32(1e-3)), np.float32(np.pi / 2)) / step
        lo = np.floor(clockwise - spread).astype(np.int64)
        hi = np.floor(clockwise + spread).astype(np.int64)
        best = np.full(len(x) * self.sectors, np.inf, dtype=np.float32)
        for k in range(int((hi - lo).max(initial=0)) + 1):
            part = lo + k <= hi
            np.minimum.at(best, rows[part] + (lo[part] + k) % self.sectors, dist[part])
        cm = np.where(np.isfinite(best), np.clip(np.round(best * 100.0), MIN_CM, self.max_cm), self.max_cm + 1)
        return cm.astype(np.uint16).reshape(len(x), self.sectors)

    def _bank_window(self, s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Bank points within range along the river of each pose, padded to one width."""
        reach = self.range_m + float(self._river.widths.max()) / 2.0
        lo = np.searchsorted(self._bank_s, s - reach)
        hi = np.searchsorted(self._bank_s, s + reach)
        width = int(max(1, (hi - lo).max()))
        idx = np.minimum(lo[:, None] + np.arange(width)[None, :], np.maximum(hi - 1, lo)[:, None])
        idx = np.minimum(idx, len(self._bank_s) - 1)
        return self._bank_xy[idx]

    def _static_near(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """Outline points of the static obstacles that any pose of this batch could see."""
        if not self._static:
            return None
        lo = np.array([x.min(), y.min()]) - self.range_m
        hi = np.array([x.max(), y.max()]) + self.range_m
        near = [p for p in self._static if np.any(np.all((p >= lo) & (p <= hi), axis=1))]
        return np.concatenate(near) if near else None

    def _hull_points(self, corners: NDArray[np.float64]) -> NDArray[np.float64]:
        """Points along the four edges of each hull rectangle (times x 4 x 2 corners)."""
        b = np.roll(corners, -1, axis=1)
        edges = corners[:, :, None, :] + (b - corners)[:, :, None, :] * self._edge_frac[None, None, :, None]
        return edges.reshape(len(corners), -1, 2)
