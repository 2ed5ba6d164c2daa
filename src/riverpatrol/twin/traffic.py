"""Obstacles in the water: static piers and moored boats, and vessels running their paths.

A moving vessel waits at its first path point until ``start_s``, then runs the path at its speed,
heading along the path; with ``loop`` it turns round at each end (back and forth), otherwise it stays
at the last point. Its footprint is a length x beam rectangle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from shapely import (
    Geometry,
    Point,
    Polygon,
    boundary,
    contains,
    distance,
    points,
    polygons,
)

from riverpatrol.geo.frame import LocalFrame
from riverpatrol.scenario import Circle, MovingVessel, Obstacles

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class StaticObstacle:
    id: str
    geometry: Geometry  # local metres
    circle: tuple[float, float, float] | None  # (x, y, r) for a circle, else None

    @cached_property
    def bounds_circle(self) -> tuple[tuple[float, float], float]:
        """A circle round the whole outline: centre and radius."""
        ring = np.asarray(self.geometry.exterior.coords)
        centre = (ring.min(axis=0) + ring.max(axis=0)) / 2.0
        return (float(centre[0]), float(centre[1])), float(np.hypot(*(ring - centre).T).max())


class Vessel:
    """One moving vessel: pose and footprint at any scenario time, vectorised over time."""

    def __init__(self, spec: MovingVessel, frame: LocalFrame) -> None:
        self.id = spec.id
        path = np.asarray(spec.path, float)
        x, y = frame.to_xy(path[:, 0], path[:, 1])
        self.path = np.column_stack([x, y])
        seg = np.hypot(*np.diff(self.path, axis=0).T)
        self._cum = np.concatenate([[0.0], np.cumsum(seg)])
        self.length_path = float(self._cum[-1])
        self.speed = spec.speed_mps
        self.start = spec.start_s
        self.loop = spec.loop
        self.length, self.beam = spec.length_m, spec.beam_m
        self.half_diagonal = float(np.hypot(self.length, self.beam)) / 2.0  # centre to a corner

    def pose(self, t: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(x, y, heading_rad) at times t."""
        t = np.atleast_1d(np.asarray(t, float))
        run = self.speed * np.maximum(t - self.start, 0.0)
        backwards = np.zeros(t.shape, bool)
        if self.length_path <= 0:
            run = np.zeros_like(run)
        elif self.loop:
            run = np.mod(run, 2.0 * self.length_path)
            backwards = run > self.length_path
            run = np.where(backwards, 2.0 * self.length_path - run, run)
        else:
            run = np.minimum(run, self.length_path)
        k = np.clip(np.searchsorted(self._cum, run, side="right") - 1, 0, len(self._cum) - 2)
        a, b = self.path[k], self.path[k + 1]
        frac = (run - self._cum[k]) / np.maximum(self._cum[k + 1] - self._cum[k], 1e-12)
        pos = a + (b - a) * frac[:, None]
        heading = np.arctan2(b[:, 1] - a[:, 1], b[:, 0] - a[:, 0]) + np.where(backwards, np.pi, 0.0)
        return pos[:, 0], pos[:, 1], (heading + np.pi) % (2.0 * np.pi) - np.pi

    def footprints(self, t: ArrayLike) -> NDArray[np.float64]:
        """Corner points (times x 4 x 2) of the hull rectangle."""
        return self.corners(*self.pose(t))

    def corners(self, x: FloatArray, y: FloatArray, h: FloatArray) -> NDArray[np.float64]:
        """Corner points (poses x 4 x 2) of the hull rectangle at poses from ``pose``."""
        fwd = np.column_stack([np.cos(h), np.sin(h)])
        side = np.column_stack([-fwd[:, 1], fwd[:, 0]])
        centre = np.column_stack([x, y])
        half_l, half_b = self.length / 2.0, self.beam / 2.0
        signs = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]], float)
        return centre[:, None, :] + signs[None, :, 0:1] * half_l * fwd[:, None, :] + signs[None, :, 1:2] * half_b * side[:, None, :]


class Traffic:
    """Everything in the water that is not the boat, in the local frame."""

    def __init__(self, obstacles: Obstacles, frame: LocalFrame) -> None:
        self.static: list[StaticObstacle] = []
        for obs in obstacles.static:
            if isinstance(obs, Circle):
                cx, cy = frame.to_xy(*obs.center)
                geom = Point(float(cx), float(cy)).buffer(obs.radius_m, quad_segs=32)
                self.static.append(StaticObstacle(obs.id, geom, (float(cx), float(cy), obs.radius_m)))
            else:
                ring = np.asarray(obs.ring, float)
                rx, ry = frame.to_xy(ring[:, 0], ring[:, 1])
                self.static.append(StaticObstacle(obs.id, Polygon(np.column_stack([rx, ry])), None))
        self.vessels = [Vessel(v, frame) for v in obstacles.moving]

    def clearances(self, t: FloatArray, x: FloatArray, y: FloatArray,
                   exact_within: float = np.inf) -> dict[str, FloatArray]:
        """Signed distance from each point (at its time) to each obstacle's outline, negative inside.

        Exact up to ``exact_within``; beyond it a point may get a lower bound instead (its distance
        to a circle round the obstacle), which spares the exact outline distance for the many points
        of a patrol that are nowhere near an obstacle.
        """
        out: dict[str, FloatArray] = {}
        for obs in self.static:
            if obs.circle is not None:  # exact for circles, and much faster than shapely
                cx, cy, r = obs.circle
                out[obs.id] = np.hypot(x - cx, y - cy) - r
            else:
                (cx, cy), r = obs.bounds_circle
                out[obs.id] = _signed_near(lambda near, g=obs.geometry: g, x, y,
                                           np.hypot(x - cx, y - cy) - r, exact_within)
        for ves in self.vessels:
            vx, vy, _ = ves.pose(t)
            out[ves.id] = _signed_near(lambda near, v=ves: polygons(v.footprints(t[near])), x, y,
                                       np.hypot(x - vx, y - vy) - ves.half_diagonal, exact_within)
        return out


def _signed_near(shape_at: Callable[[NDArray[np.bool_]], Geometry | NDArray[np.object_]], x: FloatArray,
                 y: FloatArray, bound: FloatArray, within: float) -> FloatArray:
    """Signed distances to the outline ``shape_at(near)`` gives for the points ``near`` (those whose
    lower ``bound`` is within reach); the bound itself for the rest."""
    near = bound <= within
    gap = bound.copy()
    if near.any():
        gap[near] = _signed(shape_at(near), points(x[near], y[near]))
    return gap


def _signed(shape: Geometry | NDArray[np.object_], where: NDArray[np.object_]) -> FloatArray:
    gap = distance(where, boundary(shape))
    return np.where(contains(shape, where), -gap, gap)
