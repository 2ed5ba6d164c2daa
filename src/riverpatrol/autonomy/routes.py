"""Patrol routes planned in the river frame and returned as mission items.

``outfall-survey`` follows the right bank downstream at the bank offset, crosses, and follows the
left bank back upstream, then returns home: plumes hug their own bank, so each bank is sampled close
in. ``centerline`` runs down the middle and back; ``transects`` zig-zags across the river at a set
spacing, for cross-sections of the water quality. Waypoints are spaced along the chainage so that the
route follows bends; every one stays ``bank_offset_m`` inside the water. ``corridor`` (as QGroundControl's
corridor scan) runs lanes parallel to a given polyline across a given width, back and forth; lanes
are held in the water in the river frame, so where the river is narrower than the corridor they close
up inside the banks instead of running ashore.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from shapely import LineString

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.vehicle.mission import MissionItem

SPACING_M = 10.0
PATTERNS = ("outfall-survey", "centerline", "transects")
CORRIDOR = "corridor"
_CORRIDOR_STEP_M = 5.0  # lane waypoints: short enough that legs between them follow the banks


def _chainages(start: float, end: float) -> NDArray[np.float64]:
    count = max(2, int(np.ceil(abs(end - start) / SPACING_M)) + 1)
    return np.linspace(start, end, count)


def _bank_pass(river: RiverFrame, start: float, end: float, side: int, offset: float) -> NDArray[np.float64]:
    """Local points at ``offset`` metres inside the bank on ``side`` (+1 left, -1 right).

    Straight legs between points stay on the lane: within a centerline segment the lane is a
    straight line, and at a bend the lane's corner is a waypoint of its own. On the inside of a
    bend that corner is where the two segments' lanes meet (points past it would zig back); on the
    outside the leg across the corner runs farther from the bank than the lane does.
    """
    lo, hi = min(start, end), max(start, end)
    inner = np.flatnonzero((river.vertex_s > lo) & (river.vertex_s < hi))
    s = np.union1d(_chainages(lo, hi), river.vertex_s[inner])
    n = side * (river.width_at(s) / 2.0 - offset)
    x, y = river.from_river(s, n)
    keep = np.ones(len(s), bool)
    for k in inner:
        u0, u1 = river.downstream_unit(river.vertex_s[[k - 1, k]])
        if side * (u0[0] * u1[1] - u0[1] * u1[0]) <= 0:  # outside of the bend (or straight on)
            continue
        half = np.arccos(np.clip(u0 @ u1, -1.0, 1.0)) / 2.0
        lane = float(river.widths[k]) / 2.0 - offset
        bisector = np.array([-(u0[1] + u1[1]), u0[0] + u1[0]])
        corner = river.xy[k] + side * bisector / np.hypot(*bisector) * lane / np.cos(half)
        at = int(np.searchsorted(s, river.vertex_s[k]))
        keep &= np.abs(s - river.vertex_s[k]) >= lane * np.tan(half)
        keep[at] = True
        x[at], y[at] = corner
    points = np.column_stack([x, y])[keep]
    return points if start <= end else points[::-1]


def plan_route(river: RiverFrame, pattern: str, start: float, end: float | None, bank_offset_m: float,
               spacing_m: float = 50.0) -> NDArray[np.float64]:
    """Route points (local metres) from the start chainage and back, before the return home."""
    # Keep clear of the reach's end cross-sections as of the banks: the water stops there too.
    start = max(start, bank_offset_m)
    end = min(river.length if end is None else end, river.length - bank_offset_m)
    if pattern == "outfall-survey":
        down = _bank_pass(river, start, end, -1, bank_offset_m)
        up = _bank_pass(river, end, start, +1, bank_offset_m)
        return np.concatenate([down, up])
    if pattern == "centerline":
        x, y = river.from_river(_chainages(start, end), 0.0)
        line = np.column_stack([x, y])
        return np.concatenate([line, line[::-1][1:]])
    if pattern == "transects":
        return _transects(river, start, end, bank_offset_m, spacing_m)
    raise ValueError(f"mission.pattern: unknown pattern {pattern!r} (known: {', '.join(PATTERNS)})")


def _transects(river: RiverFrame, start: float, end: float, offset: float, spacing: float,
               first_side: int = -1) -> NDArray[np.float64]:
    """Zig-zag cross-sections every ``spacing`` metres: across, along the bank to the next, ...
    (the first one starts at ``first_side``: -1 the right bank, +1 the left)."""
    s = np.arange(start, end + 1e-9, spacing) if end >= start else np.arange(start, end - 1e-9, -spacing)
    legs = []
    for k, here in enumerate(s):
        side = first_side if k % 2 == 0 else -first_side
        ends = np.array([side, -side]) * (river.width_at(here) / 2.0 - offset)
        x, y = river.from_river(np.array([here, here]), ends)
        legs.append(np.column_stack([x, y]))
        if k + 1 < len(s):  # along the far bank to where the next cross-section starts
            legs.append(_bank_pass(river, here, s[k + 1], -side, offset)[1:-1])
    return np.concatenate(legs)


def investigation_route(river: RiverFrame, here_s: float, onset_s: float, side: int, offset: float,
                        span_m: float = 60.0, sweep_m: float = 30.0) -> NDArray[np.float64]:
    """Back along the ``side`` bank from ``here_s`` to ``span_m`` upstream of a plume's onset, then
    cross-sections every ``sweep_m`` down to ``span_m`` below it, and back to the bank at ``here_s``:
    the plume's extent along and across the river, from a boat that was passing by."""
    lo = max(offset, onset_s - span_m)
    hi = min(river.length - offset, onset_s + span_m)
    back = _bank_pass(river, here_s, lo, side, offset)
    sweep = _transects(river, lo, hi, offset, sweep_m, first_side=side)
    _, last_n = river.to_river(sweep[-1:, 0], sweep[-1:, 1])
    resume = _bank_pass(river, hi, here_s, 1 if last_n[0] > 0 else -1, offset)
    return np.concatenate([back, sweep, resume, _bank_pass(river, here_s, here_s, side, offset)[:1]])


def return_route(river: RiverFrame, from_s: float, home_s: float, offset: float) -> NDArray[np.float64]:
    """Down the middle of the river from ``from_s`` to the home chainage: home by water, where a
    straight line (Rover's RTL) would cut across the land in the bends."""
    lo, hi = offset, river.length - offset
    x, y = river.from_river(_chainages(float(np.clip(from_s, lo, hi)), float(np.clip(home_s, lo, hi))), 0.0)
    return np.column_stack([x, y])


def corridor_route(river: RiverFrame, polyline: NDArray[np.float64], width_m: float, spacing_m: float,
                   clearance_m: float) -> NDArray[np.float64]:
    """Lanes ``spacing_m`` apart across ``width_m`` round ``polyline`` (local metres), alternating
    direction, each held ``clearance_m`` inside the water and clear of the reach's ends."""
    line = LineString(polyline)
    if line.length <= 0:
        raise ValueError("corridor: the polyline needs two distinct points")
    count = max(1, int(round(width_m / spacing_m)) + 1) if width_m > 0 else 1
    offsets = np.linspace(-width_m / 2.0, width_m / 2.0, count) if count > 1 else np.zeros(1)
    lanes = []
    for k, offset in enumerate(offsets):
        lane = line.offset_curve(float(offset)) if offset else line
        steps = max(2, int(np.ceil(lane.length / _CORRIDOR_STEP_M)) + 1)
        points = np.array([(p.x, p.y) for p in lane.interpolate(np.linspace(0.0, lane.length, steps))])
        lanes.append(points if k % 2 == 0 else points[::-1])
    route = _legs_inside_water(river, _inside_water(river, np.concatenate(lanes), clearance_m), clearance_m)
    keep = np.concatenate([[True], np.hypot(*np.diff(route, axis=0).T) > 0.5])  # lanes closed up: drop repeats
    return route[keep]


def _legs_inside_water(river: RiverFrame, route: NDArray[np.float64], clearance: float,
                       tolerance: float = 0.01) -> NDArray[np.float64]:
    """Split legs that cut a bend closer than ``clearance`` to the bank at their worst point, moved
    back inside, until every leg keeps the clearance (within ``tolerance``)."""
    for _ in range(8):
        a, b = route[:-1], route[1:]
        frac = np.linspace(0.0, 1.0, 17)[1:-1]
        samples = a[:, None, :] + (b - a)[:, None, :] * frac[None, :, None]
        gap = river.bank_clearance(samples[..., 0].ravel(), samples[..., 1].ravel()).reshape(len(a), -1)
        short = np.flatnonzero(gap.min(axis=1) < clearance - tolerance)
        if short.size == 0:
            break
        worst = samples[short, gap[short].argmin(axis=1)]
        route = np.insert(route, short + 1, _inside_water(river, worst, clearance), axis=0)
    return route


def _inside_water(river: RiverFrame, xy: NDArray[np.float64], clearance: float) -> NDArray[np.float64]:
    """Points moved across the river (and along it, off the ends) until ``clearance`` inside the water."""
    s, n = river.to_river(xy[:, 0], xy[:, 1])
    s = np.clip(s, clearance, river.length - clearance)
    half = np.maximum(river.width_at(s) / 2.0 - clearance, 0.0)
    x, y = river.from_river(s, np.clip(n, -half, half))
    return np.column_stack([x, y])


def mission_items(river: RiverFrame, route: NDArray[np.float64], speed_mps: float) -> list[MissionItem]:
    """The route as an ArduPilot mission: set the patrol speed, visit each point, return home."""
    lon, lat = river.local.to_lonlat(route[:, 0], route[:, 1])
    items = [MissionItem.change_speed(speed_mps)]
    items += [MissionItem.waypoint(float(a), float(b)) for a, b in zip(lon, lat)]
    items.append(MissionItem.return_to_launch())
    return items
