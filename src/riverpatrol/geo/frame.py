"""The local metric frame and the river frame (s, n) of spec section 1.

Everything metric happens in one azimuthal-equidistant frame centred on the first centerline vertex;
the river frame adds chainage ``s`` along the centerline and signed offset ``n`` (left bank positive,
looking downstream). Projection onto the centerline follows the nearest segment exactly as the
scoring tool does, so a point gets the same (s, n) everywhere in the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from pyproj.enums import TransformDirection
from shapely.geometry import LineString, Polygon

FloatArray = NDArray[np.float64]

_CHUNK = 2048  # points projected at once: bounds the (points x segments) temporaries
_RUN = 512  # consecutive points sharing one bounding box when choosing candidate segments


class LocalFrame:
    """WGS84 lon/lat <-> local aeqd metres (x east, y north) around one origin."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = float(lon0), float(lat0)
        crs = f"+proj=aeqd +lat_0={self.lat0} +lon_0={self.lon0} +datum=WGS84 +units=m"
        self._transformer = Transformer.from_crs("EPSG:4326", crs, always_xy=True)  # one, run both ways

    def to_xy(self, lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
        x, y = self._transformer.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def to_lonlat(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        lon, lat = self._transformer.transform(np.asarray(x, float), np.asarray(y, float),
                                                direction=TransformDirection.INVERSE)
        return np.asarray(lon, float), np.asarray(lat, float)


def _dist2(seg: tuple[float, float, float, float, float], x: float, y: float) -> float:
    ax, ay, dx, dy, len2 = seg
    t = min(max(((x - ax) * dx + (y - ay) * dy) / len2, 0.0), 1.0)
    return (ax + t * dx - x) ** 2 + (ay + t * dy - y) ** 2


def _per_vertex(value: float | list[float], count: int) -> FloatArray:
    arr = np.asarray(value, float)
    return np.full(count, float(arr)) if arr.ndim == 0 else arr.copy()


@dataclass(frozen=True)
class BankGeometry:
    """One bank sampled densely in order of chainage: points (N x 2, local metres) and their s."""

    xy: FloatArray
    s: FloatArray


class RiverFrame:
    """A river reach: centerline, width and depth per vertex, and the (s, n) frame on it."""

    def __init__(
        self,
        centerline: list[list[float]] | NDArray[np.float64],
        width_m: float | list[float],
        depth_m: float | list[float],
    ) -> None:
        line = np.asarray(centerline, float)
        self.centerline_lonlat = line
        self.local = LocalFrame(line[0, 0], line[0, 1])
        x, y = self.local.to_xy(line[:, 0], line[:, 1])
        self.xy = np.column_stack([x, y])
        self._a = self.xy[:-1]
        self._d = np.diff(self.xy, axis=0)
        self.seg_len = np.hypot(self._d[:, 0], self._d[:, 1])
        self.vertex_s = np.concatenate([[0.0], np.cumsum(self.seg_len)])
        self.length = float(self.vertex_s[-1])
        self.widths = _per_vertex(width_m, len(line))
        self.depths = _per_vertex(depth_m, len(line))
        safe = np.maximum(self.seg_len, 1e-12)
        self._unit = self._d / safe[:, None]
        self._left_normal = np.column_stack([-self._unit[:, 1], self._unit[:, 0]])

    # ---- along-river properties -------------------------------------------------------------
    def width_at(self, s: ArrayLike) -> FloatArray:
        return np.interp(np.asarray(s, float), self.vertex_s, self.widths)

    def depth_at(self, s: ArrayLike) -> FloatArray:
        return np.interp(np.asarray(s, float), self.vertex_s, self.depths)

    def downstream_unit(self, s: ArrayLike) -> FloatArray:
        """Unit tangent (N x 2) of the centerline segment holding chainage s: the current's direction."""
        return self._unit[self._segment_of(np.asarray(s, float))]

    def _segment_of(self, s: FloatArray) -> NDArray[np.intp]:
        k = np.searchsorted(self.vertex_s, s, side="right") - 1
        return np.clip(k, 0, len(self.seg_len) - 1)

    def segment_near(self, x: float, y: float, hint: int) -> int:
        """Index of the centerline segment nearest (x, y), searched outward from ``hint``.

        Scalar and local on purpose: the twin asks once a second for the current's direction,
        and the boat moves a few metres between asks, so a full projection would be wasted.
        """
        segs = self._segments_py
        last = len(segs) - 1
        k = min(max(hint, 0), last)
        best = _dist2(segs[k], x, y)
        while True:
            moved = False
            for j in (k - 1, k + 1):
                if 0 <= j <= last:
                    d = _dist2(segs[j], x, y)
                    if d < best:
                        best, k, moved = d, j, True
            if not moved:
                return k

    @cached_property
    def _segments_py(self) -> list[tuple[float, float, float, float, float]]:
        len2 = np.maximum(self.seg_len**2, 1e-12)
        return list(zip(self._a[:, 0].tolist(), self._a[:, 1].tolist(), self._d[:, 0].tolist(),
                        self._d[:, 1].tolist(), len2.tolist()))

    # ---- conversions ------------------------------------------------------------------------
    def project(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
        """(s, n) of local points, plus whether each foot falls inside the reach (not past an end).

        Points go in runs of consecutive ones (a track or a bank is local), and each run tries only
        the segments near its bounding box first; points that find none within the river's width
        are projected onto every segment. Either way the answer is the nearest segment's, as if all
        were tried.
        """
        px = np.atleast_1d(np.asarray(x, float)).ravel()
        py = np.atleast_1d(np.asarray(y, float)).ravel()
        s, n, inside = np.empty(px.size), np.empty(px.size), np.empty(px.size, bool)
        margin = float(self.widths.max())
        far = np.zeros(px.size, bool)
        for lo in range(0, px.size, _RUN):
            run = slice(lo, lo + _RUN)
            rx, ry = px[run], py[run]
            candidates = np.flatnonzero(
                (self._seg_hi[:, 0] >= rx.min() - margin) & (self._seg_lo[:, 0] <= rx.max() + margin)
                & (self._seg_hi[:, 1] >= ry.min() - margin) & (self._seg_lo[:, 1] <= ry.max() + margin))
            if candidates.size:
                far[run] = self._project_onto(candidates, rx, ry, s[run], n[run], inside[run]) > margin
            else:
                far[run] = True  # a segment outside the box could be nearer: try them all
        if far.any():
            idx = np.flatnonzero(far)
            sub_s, sub_n, sub_in = np.empty(idx.size), np.empty(idx.size), np.empty(idx.size, bool)
            self._project_onto(np.arange(len(self.seg_len)), px[idx], py[idx], sub_s, sub_n, sub_in)
            s[idx], n[idx], inside[idx] = sub_s, sub_n, sub_in
        return s, n, inside

    @cached_property
    def _seg_lo(self) -> FloatArray:
        """Lower-left corner of each segment's bounding box."""
        return np.minimum(self._a, self._a + self._d)

    @cached_property
    def _seg_hi(self) -> FloatArray:
        """Upper-right corner of each segment's bounding box."""
        return np.maximum(self._a, self._a + self._d)

    def _project_onto(self, segs: NDArray[np.intp], px: FloatArray, py: FloatArray,
                      s: FloatArray, n: FloatArray, inside: NDArray[np.bool_]) -> FloatArray:
        """Nearest-segment projection over ``segs`` (ascending, so ties go to the first segment)."""
        ax, ay = self._a[segs, 0], self._a[segs, 1]
        dx, dy = self._d[segs, 0], self._d[segs, 1]
        len2 = np.maximum(self.seg_len[segs] ** 2, 1e-12)
        last = len(self.seg_len) - 1
        best = np.empty(px.size)
        for lo in range(0, px.size, _CHUNK):
            qx = px[lo : lo + _CHUNK, None]
            qy = py[lo : lo + _CHUNK, None]
            raw = ((qx - ax) * dx + (qy - ay) * dy) / len2
            t = np.clip(raw, 0.0, 1.0)
            dist = np.hypot(ax + dx * t - qx, ay + dy * t - qy)
            j = np.argmin(dist, axis=1)
            rows = np.arange(j.size)
            k = segs[j]
            s[lo : lo + _CHUNK] = self.vertex_s[k] + t[rows, j] * self.seg_len[k]
            cross = dx[j] * (qy[:, 0] - ay[j]) - dy[j] * (qx[:, 0] - ax[j])
            best[lo : lo + _CHUNK] = dist[rows, j]
            n[lo : lo + _CHUNK] = np.copysign(dist[rows, j], cross)
            rj = raw[rows, j]
            inside[lo : lo + _CHUNK] = ~(((k == 0) & (rj < 0.0)) | ((k == last) & (rj > 1.0)))
        return best

    def to_river(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        s, n, _ = self.project(x, y)
        return s, n

    def from_river(self, s: ArrayLike, n: ArrayLike) -> tuple[FloatArray, FloatArray]:
        s = np.atleast_1d(np.asarray(s, float))
        n = np.broadcast_to(np.asarray(n, float), s.shape)
        k = self._segment_of(s)
        along = s - self.vertex_s[k]
        base = self._a[k] + self._unit[k] * along[:, None] + self._left_normal[k] * n[:, None]
        return base[:, 0], base[:, 1]

    def lonlat_to_river(self, lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
        return self.to_river(*self.local.to_xy(lon, lat))

    def in_water(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.bool_]:
        s, n, inside = self.project(x, y)
        return inside & (np.abs(n) <= self.width_at(s) / 2.0)

    def bank_clearance(self, x: ArrayLike, y: ArrayLike) -> FloatArray:
        """Distance from each point to the edge of the water (negative on land or past an end)."""
        return self.water_clearance(*self.project(x, y))

    def water_clearance(self, s: FloatArray, n: FloatArray, inside: NDArray[np.bool_]) -> FloatArray:
        """Distance to the edge of the water from projected points: the nearer bank, or the
        cross-section at either end of the reach, where the spec's water stops too."""
        clearance = np.minimum(self.width_at(s) / 2.0 - np.abs(n), np.minimum(s, self.length - s))
        return np.where(inside, clearance, -np.abs(clearance) - 1e-9)

    # ---- banks and water --------------------------------------------------------------------
    def bank(self, side: int, spacing_m: float = 0.5) -> BankGeometry:
        """The bank at n = side * W(s)/2 (side +1 left, -1 right), sampled every ``spacing_m``.

        Outside a bend the bank is an arc round the vertex (points there are nearest the vertex);
        inside a bend the segment offsets overlap and the part nearer another segment is dropped,
        so the samples lie exactly on the spec's boundary |n| = W(s)/2.
        """
        pts: list[FloatArray] = []
        for k in range(len(self.seg_len)):
            count = max(2, int(np.ceil(self.seg_len[k] / spacing_m)) + 1)
            s_seg = np.linspace(self.vertex_s[k], self.vertex_s[k + 1], count)
            half = self.width_at(s_seg) / 2.0
            along = (s_seg - self.vertex_s[k])[:, None]
            pts.append(self._a[k] + self._unit[k] * along + side * self._left_normal[k] * half[:, None])
            if k + 1 < len(self.seg_len):
                pts.append(self._outer_arc(k, side, spacing_m))
        xy = np.concatenate(pts)
        s, n, _ = self.project(xy[:, 0], xy[:, 1])
        on_bank = np.abs(side * n - self.width_at(s) / 2.0) <= 1e-6
        xy, s = xy[on_bank], s[on_bank]
        # Where two segments' offsets meet (an inner corner, nearly collinear segments) both may leave a
        # point within rounding of the meeting point, or a hair behind it: keep one, or the bank is not simple.
        step = np.diff(s)
        gap = np.hypot(*np.diff(xy, axis=0).T)
        ahead = np.concatenate([[True], ((step >= 0.0) | (step < -spacing_m)) & (gap > 1e-6 * spacing_m)])
        return BankGeometry(xy=xy[ahead], s=s[ahead])

    def _outer_arc(self, k: int, side: int, spacing_m: float) -> FloatArray:
        """Arc points round vertex k+1 on the outer side of the bend, empty on the inner side."""
        n0, n1 = side * self._left_normal[k], side * self._left_normal[k + 1]
        (ux0, uy0), (ux1, uy1) = self._unit[k], self._unit[k + 1]
        turn = float(ux0 * uy1 - uy0 * ux1)  # z of the 2-D cross product (np.cross of 2-vectors is deprecated)
        if side * turn >= 0:  # this bank is on the inner side (or the reach is straight here)
            return np.empty((0, 2))
        a0, a1 = np.arctan2(n0[1], n0[0]), np.arctan2(n1[1], n1[0])
        delta = (a1 - a0 + np.pi) % (2 * np.pi) - np.pi
        radius = self.widths[k + 1] / 2.0
        count = max(1, int(np.ceil(abs(delta) * radius / spacing_m)))
        ang = a0 + delta * np.arange(1, count) / count
        return self.xy[k + 1] + radius * np.column_stack([np.cos(ang), np.sin(ang)])

    @cached_property
    def banks(self) -> tuple[BankGeometry, BankGeometry]:
        """(left, right) banks, each in order of chainage."""
        return self.bank(+1), self.bank(-1)

    @cached_property
    def water_polygon(self) -> Polygon:
        left, right = self.banks
        return Polygon(np.concatenate([left.xy, right.xy[::-1]]))

    def bank_lines(self) -> tuple[LineString, LineString]:
        left, right = self.banks
        return LineString(left.xy), LineString(right.xy)

    def bank_lines_lonlat(self) -> tuple[FloatArray, FloatArray]:
        """Both banks as (N x 2) lon/lat arrays, for maps and camera rendering."""
        return tuple(  # type: ignore[return-value]
            np.column_stack(self.local.to_lonlat(b.xy[:, 0], b.xy[:, 1])) for b in self.banks
        )

    def fold_problems(self) -> list[str]:
        """Where a bank folds over itself: a bend too tight for the width, or the river crossing itself."""
        problems: list[str] = []
        if not LineString(self.xy).is_simple:
            problems.append("river.centerline: crosses itself")
            return problems
        cos_turn = np.clip((self._unit[:-1] * self._unit[1:]).sum(1), -1.0, 1.0)
        turn = np.arccos(cos_turn)
        eaten = self.widths[1:-1] / 2.0 * np.tan(np.minimum(turn, np.pi * 0.499) / 2.0)
        used = np.zeros(len(self.seg_len))
        used[:-1] += eaten
        used[1:] += eaten
        for k in np.flatnonzero(used > self.seg_len + 1e-9):
            problems.append(
                f"river.centerline[{k}]: the inner bank folds over itself between vertices {k} and {k + 1} "
                f"(bend too tight for width {self.widths[k]:.1f} m)"
            )
        if not problems:
            problems += self._overlap_problems()
        if not problems:
            left, right = self.bank_lines()
            if not (left.is_simple and right.is_simple) or left.intersects(right):
                problems.append("river: the banks intersect (the reach comes back within one width of itself)")
        return problems

    def _overlap_problems(self) -> list[str]:
        """Parts of the reach far apart along the river whose water overlaps (a loop or a spiral).

        Centerline samples closer than their mean width, yet more than half a turn apart along the
        river (pi times the width), belong to different stretches lying on top of each other.
        """
        s = np.arange(0.0, self.length, max(0.5, float(self.widths.min()) / 4.0))
        x, y = self.from_river(s, 0.0)
        w = self.width_at(s)
        for i in range(len(s)):
            far = np.abs(s - s[i]) > np.pi * np.maximum(w, w[i])
            close = np.hypot(x - x[i], y - y[i]) < (w + w[i]) / 2.0
            hit = np.flatnonzero(far & close)
            if hit.size:
                return [f"river.centerline: the reach near chainage {s[i]:.0f} m overlaps the reach near "
                        f"{s[hit[0]]:.0f} m (closer than one river width): the banks intersect"]
        return []
