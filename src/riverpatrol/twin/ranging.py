"""Obstacle ranging: a 360° ring of sectors shaped like MAVLink OBSTACLE_DISTANCE.

Banks, static obstacles and vessel hulls are sampled as outline points; a sector reports the nearest
point whose bearing falls inside it (clockwise from the bow, sector i centred on i * increment), in
centimetres, or max + 1 where nothing is within range. Scans are computed for many poses at once:
none of this feeds back into the hull within a tick. A boat avoiding asks for one pose at a time,
so every part costs a fixed, small number of numpy calls whatever the number of poses.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from shapely import Geometry

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.scenario import ObstacleRanging
from riverpatrol.twin.traffic import Traffic, Vessel

SPACING_M = 0.5  # outline sampling: below a 5° sector's width at 6 m
FAR_STRIDE = 2  # banks more than NEAR_M away along the river are sampled every 1 m: 5° is 0.9 m at 10 m
NEAR_M = 10.0
MIN_CM = 20  # the sensor's blind zone
_AHEAD = 50  # scans a vessel is placed ahead for, when a boat avoiding asks scan by scan


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
        self._step = np.float32(np.deg2rad(self.increment_deg))
        left, right = river.banks
        order = np.argsort(np.concatenate([left.s, right.s]), kind="stable")
        bank_xy = np.concatenate([left.xy, right.xy])[order]
        self._bank_xy = np.ascontiguousarray(bank_xy.T, np.float32)  # rows x and y, as every cloud here
        self._bank_s = np.concatenate([left.s, right.s])[order]
        far_xy = np.concatenate([left.xy[::FAR_STRIDE], right.xy[::FAR_STRIDE]])
        far_s = np.concatenate([left.s[::FAR_STRIDE], right.s[::FAR_STRIDE]])
        order = np.argsort(far_s, kind="stable")
        self._far_xy, self._far_s = np.ascontiguousarray(far_xy[order].T, np.float32), far_s[order]
        self._reach = self.range_m + float(river.widths.max()) / 2.0
        self._static = _StaticOutlines([_outline_points(o.geometry) for o in traffic.static], self.range_m)
        self._vessels = [_VesselOutline(v, self.range_m, 1.0 / config.rate_hz) for v in traffic.vessels]

    def scans(self, t: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64],
              psi: NDArray[np.float64], s: NDArray[np.float64]) -> NDArray[np.uint16]:
        """Distances (scans x sectors, uint16 cm) for poses (x, y, heading psi rad, chainage s) at times t."""
        clouds = [
            (_window(self._bank_xy, self._bank_s, s - NEAR_M, s + NEAR_M), SPACING_M),
            (_window(self._far_xy, self._far_s, s - self._reach, s - NEAR_M), SPACING_M * FAR_STRIDE),
            (_window(self._far_xy, self._far_s, s + NEAR_M, s + self._reach), SPACING_M * FAR_STRIDE),
        ]
        near = self._static.near(x, y)
        if near is not None:
            clouds.append((np.broadcast_to(near[:, None, :], (2, len(x), near.shape[1])), SPACING_M))
        clouds += [(hull, SPACING_M) for hull in (v.points_near(t, x, y) for v in self._vessels) if hull is not None]
        best = np.full(len(x) * self.sectors, np.inf, dtype=np.float32)
        self._bin(best, clouds, x, y, psi)
        cm = np.where(np.isfinite(best), np.clip(np.round(best * 100.0), MIN_CM, self.max_cm), self.max_cm + 1)
        return cm.astype(np.uint16).reshape(len(x), self.sectors)

    def _bin(self, best: NDArray[np.float32], clouds: list[tuple[NDArray[np.float32], float]],
             x: NDArray[np.float64], y: NDArray[np.float64], psi: NDArray[np.float64]) -> None:
        """Lower each sector's distance to the nearest in-range point of the clouds (2 x scans x points:
        x, then y).

        A point stands for its cloud's ``spacing`` metres of outline, so close up it spans several
        sectors: each point is spread over every sector its piece of outline covers, leaving no gaps.
        Hot path: float32, the clouds binned as one, integer sectors offset to stay positive.
        """
        inv_step = np.float32(1.0) / self._step
        cloud = np.concatenate([c for c, _ in clouds], axis=2)
        half = np.concatenate([np.full(c.shape[2], np.float32(spacing / 2.0 * inv_step)) for c, spacing in clouds])
        dx = cloud[0] - x.astype(np.float32)[:, None]
        dy = cloud[1] - y.astype(np.float32)[:, None]
        dist = np.hypot(dx, dy).ravel()
        keep = np.flatnonzero(dist <= self.range_m)
        if keep.size == 0:
            return
        scan, point = np.divmod(keep, cloud.shape[2])
        dist = dist[keep]
        # clockwise bearing in sectors, shifted by whole turns so truncation is floor
        bearing = (psi * float(inv_step) + 0.5 + 4 * self.sectors).astype(np.float32)[scan]
        bearing -= np.arctan2(dy.ravel()[keep], dx.ravel()[keep]) * inv_step
        spread = np.minimum(half[point] / dist, np.float32(self.sectors / 4))
        lo = (bearing - spread).astype(np.int32)
        more = (bearing + spread).astype(np.int32) - lo  # sectors past lo the point spreads over
        rows = scan.astype(np.int32) * self.sectors
        np.minimum.at(best, rows + lo % self.sectors, dist)
        wide = np.flatnonzero(more)  # close points: one index per extra sector, all at once
        if wide.size:
            more = more[wide]
            first = np.cumsum(more) - more
            k = np.arange(1, int(first[-1] + more[-1]) + 1, dtype=np.int32) - np.repeat(first.astype(np.int32), more)
            sector = (np.repeat(lo[wide], more) + k) % self.sectors
            np.minimum.at(best, np.repeat(rows[wide], more) + sector, np.repeat(dist[wide], more))


class _StaticOutlines:
    """Outline points of the static obstacles, and those of them a batch of poses can see."""

    def __init__(self, outlines: list[NDArray[np.float64]], range_m: float) -> None:
        self._outlines = [np.ascontiguousarray(o.T, np.float32) for o in outlines]
        self._range = range_m
        self._lo = np.array([o.min(axis=0) for o in outlines]).reshape(-1, 2)
        self._hi = np.array([o.max(axis=0) for o in outlines]).reshape(-1, 2)
        self._chosen: tuple[bool, ...] = ()
        self._points: NDArray[np.float32] | None = None

    def near(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float32] | None:
        """Points (2 x points: x, y) of every obstacle whose bounding box comes within range of the
        poses' box (a superset of what they can see; the last answer is kept, as a boat moves slowly)."""
        if not self._outlines:
            return None
        lo = np.array([x.min(), y.min()]) - self._range
        hi = np.array([x.max(), y.max()]) + self._range
        chosen = tuple(np.all((self._hi >= lo) & (self._lo <= hi), axis=1).tolist())
        if chosen != self._chosen:
            self._chosen = chosen
            picked = [o for o, c in zip(self._outlines, chosen) if c]
            self._points = np.concatenate(picked, axis=1) if picked else None
        return self._points


class _VesselOutline:
    """A vessel's hull as outline points, for the poses it can be in range of."""

    def __init__(self, vessel: Vessel, range_m: float, period_s: float) -> None:
        self._vessel = vessel
        self._reach = range_m + vessel.length
        longest = max(vessel.length, vessel.beam)
        self._edge_frac = np.linspace(0.0, 1.0, max(2, int(np.ceil(longest / SPACING_M))), endpoint=False)
        self._seen = (np.inf, 0.0, 0.0)  # a time and where the vessel's centre was then
        self._period = period_s
        self._ahead: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float32]] | None = None

    def points_near(self, t: NDArray[np.float64], x: NDArray[np.float64],
                    y: NDArray[np.float64]) -> NDArray[np.float32] | None:
        """Hull points per pose (2 x times x points: x, y), or None when the hull is out of range of all.

        A vessel moves no faster than its speed: from where it was last seen, that rules most
        poses out without placing it again.
        """
        t0, cx, cy = self._seen
        moved = self._vessel.speed * float(np.abs(t - t0).max())
        if float(np.hypot(x - cx, y - cy).min()) - moved > self._reach:
            return None
        centre, points = self._placed(t)
        self._seen = (float(t[-1]), float(centre[-1, 0]), float(centre[-1, 1]))
        if np.hypot(centre[:, 0] - x, centre[:, 1] - y).min() > self._reach:
            return None
        return points

    def _placed(self, t: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
        """Hull centres (times x 2) and outline points (2 x times x points) at times t.

        A vessel runs its script whatever the boat does, so a scan on its own (a boat avoiding)
        places the hull for the next _AHEAD scans as well, and the scans after it read from there.
        """
        if len(t) != 1:
            return self._outline(t)
        if self._ahead is not None:
            times, centres, points = self._ahead
            i = int(np.searchsorted(times, t[0]))
            if i < len(times) and times[i] == t[0]:
                return centres[i : i + 1], points[:, i : i + 1]
        first = round(float(t[0]) / self._period)
        times = np.arange(first, first + _AHEAD) * self._period
        if times[0] != t[0]:  # not on the scan clock: placed for this time alone
            return self._outline(t)
        self._ahead = (times, *self._outline(times))
        return self._ahead[1][:1], self._ahead[2][:, :1]

    def _outline(self, t: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
        """Centres and outline points (points along the four edges) of the hull at times t."""
        corners = self._vessel.footprints(t)
        b = np.roll(corners, -1, axis=1)
        edges = corners[:, :, None, :] + (b - corners)[:, :, None, :] * self._edge_frac[None, None, :, None]
        return corners.mean(axis=1), np.moveaxis(edges.reshape(len(corners), -1, 2), 2, 0).astype(np.float32)


def _window(xy: NDArray[np.float32], along: NDArray[np.float64], lo: NDArray[np.float64],
            hi: NDArray[np.float64]) -> NDArray[np.float32]:
    """Per pose, the points (2 x poses x points: x, y) from the first at chainage >= lo, as many as
    the widest [lo, hi) holds.

    Windows are equal slices of the sorted samples; a slice may run past hi (or end early at the
    last sample, repeated): extra points are real outline points, so they never give a false range.
    """
    first = np.searchsorted(along, lo)
    width = int(max(1, (np.searchsorted(along, hi) - first).max()))
    return np.take(xy, np.minimum(first[:, None] + np.arange(width), len(along) - 1), axis=1)
